"""Everything under ``/api/v1/``: root, auth, schema and docs, and each app's resources.

The project's ``servicedesk/urls.py`` mounts it with
``path("api/v1/", include("servicedesk.api.urls"))``. App routes are included by module
path, so this core package imports nothing from the apps above it.
"""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from servicedesk.api.errors import api_not_found
from servicedesk.api.views import ApiRootView, LocalRedocView, TokenView

app_name = "api"

api_urlpatterns = [
    path("", ApiRootView.as_view(), name="root"),
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", LocalRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("", include("clients.api.urls")),
    path("", include("partners.api.urls")),
    path("", include("tickets.api.urls")),
    path("", include("calendars.api.urls")),
    path("", include("sla.api.urls")),
    path("", include("servicedesk.api.token_urls")),
    path("", include("integrations.api.urls")),
    path("", include("integrations.api.transfer_urls")),
    # Last: any other path under /api/v1/ gets a JSON 404 in the uniform shape. Only paths
    # ending in "/" match, so Django's APPEND_SLASH still redirects "/api/v1/tickets".
    re_path(r"^.*/$", api_not_found),
]

urlpatterns = api_urlpatterns
