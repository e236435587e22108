"""SLA engine models: business calendars, policies and clocks (see the SLA issue)."""
