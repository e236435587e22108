"""HTML routes of integration tokens (issue 5): ``/settings/tokens/``."""

from django.urls import path

from servicedesk import token_views

urlpatterns = [
    path("settings/tokens/", token_views.token_list, name="integration_tokens"),
    path(
        "settings/tokens/<int:token_id>/revoke/",
        token_views.token_revoke,
        name="integration_token_revoke",
    ),
]
