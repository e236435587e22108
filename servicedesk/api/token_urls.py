"""API routes of the core's own resources: integration tokens and the caller's
notifications (issue 5)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from servicedesk.api.integration_views import IntegrationTokenViewSet
from servicedesk.api.notification_views import NotificationPreferencesView, NotificationViewSet

router = SimpleRouter(use_regex_path=False)
router.register("integration-tokens", IntegrationTokenViewSet, basename="integration-token")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    *router.urls,
    path(
        "notification-preferences/",
        NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
]
