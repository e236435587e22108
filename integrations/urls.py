"""HTML routes of webhooks (issue 5): ``/settings/webhooks/``."""

from django.urls import path

from integrations import views

urlpatterns = [
    path("settings/webhooks/", views.webhook_list, name="webhooks"),
    path(
        "settings/webhooks/<int:endpoint_id>/rotate-secret/",
        views.webhook_rotate_secret,
        name="webhook_rotate_secret",
    ),
    path(
        "settings/webhooks/<int:endpoint_id>/toggle/", views.webhook_toggle, name="webhook_toggle"
    ),
    path(
        "settings/webhooks/<int:endpoint_id>/delete/", views.webhook_delete, name="webhook_delete"
    ),
    path(
        "settings/webhooks/deliveries/<int:delivery_id>/replay/",
        views.webhook_delivery_replay,
        name="webhook_delivery_replay",
    ),
]
