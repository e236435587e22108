"""HTML routes of the core: signing in and out, choosing the organisation to act for."""

from django.urls import path

from servicedesk import views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("organisation/", views.organisation_switch, name="organisation_switch"),
]
