from __future__ import annotations

from rest_framework.routers import SimpleRouter

from calendars.api import views

router = SimpleRouter(use_regex_path=False)
router.register("calendars", views.CalendarViewSet, basename="calendar")

urlpatterns = router.urls
