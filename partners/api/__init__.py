"""REST API for the partner network."""
