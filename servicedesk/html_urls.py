"""HTML routes of the core: signing in and out, choosing the organisation to act for, the
user's own notification settings."""

from django.urls import path

from servicedesk import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("organisation/", views.organisation_switch, name="organisation_switch"),
    path("settings/notifications/", views.notification_settings, name="notification_settings"),
]
