"""REST API for tickets, their comments, timeline and files."""
