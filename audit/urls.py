"""Routes of the audit trail: the page and its export, and the API list.

Included at the site root *before* ``api/v1/`` (whose catch-all answers unknown API paths),
so the absolute ``api/v1/audit/`` path here is reached.
"""

from django.urls import path

from audit import views
from audit.api.views import AuditEntryListView

urlpatterns = [
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("api/v1/audit/", AuditEntryListView.as_view(), name="api-audit-list"),
]
