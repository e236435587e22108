"""Routes filled in by the work on issues 5 and 6."""

urlpatterns: list = []
