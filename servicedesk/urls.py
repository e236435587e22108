from django.contrib import admin
from django.urls import include, path

from servicedesk import health, observability

handler500 = "servicedesk.resilience.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", observability.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before api/v1/: its catch-all would answer audit/urls.py's "api/v1/audit/" with a 404.
    path("", include("audit.urls")),
    path("api/v1/", include("servicedesk.api.urls")),
    path("", include("servicedesk.html_urls")),
    path("", include("tickets.urls")),
    path("", include("servicedesk.token_urls")),
    path("", include("integrations.urls")),
    path("", include("integrations.transfer_urls")),
]
