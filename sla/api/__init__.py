"""REST API for SLA policies, the deadline preview and the clock correction tool."""
