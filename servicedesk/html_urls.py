"""HTML routes of the core: signing in and out, choosing the organisation to act for, the
user's own notification settings, two-factor sign-in."""

from django.urls import path

from servicedesk import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("logout/", views.logout_view, name="logout"),
    path("settings/2fa/", views.two_factor_settings, name="two_factor"),
    path("organisation/", views.organisation_switch, name="organisation_switch"),
    path("settings/notifications/", views.notification_settings, name="notification_settings"),
]
