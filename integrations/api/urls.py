"""Webhooks and the event feed under ``/api/v1/``."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations.api import views

router = SimpleRouter(use_regex_path=False)
router.register("webhooks", views.WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", views.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path("events/", views.EventFeedView.as_view(), name="event-feed"),
    path(
        "webhooks/<int:endpoint_pk>/deliveries/",
        views.WebhookEndpointDeliveryViewSet.as_view({"get": "list"}),
        name="webhook-deliveries",
    ),
    *router.urls,
]
