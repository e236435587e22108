"""REST API for clients, regions, stores and equipment."""
