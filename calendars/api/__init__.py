"""REST API for business calendars: weekly hours, dated exceptions."""
