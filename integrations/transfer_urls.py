"""HTML routes of imports and exports (issue 5)."""

from __future__ import annotations

from django.urls import path

from integrations import transfer_views as views

urlpatterns = [
    path("imports/", views.import_page, name="imports"),
    path("exports/", views.export_page, name="exports"),
    path(
        "exports/tickets.csv",
        views.export_download,
        {"name": "tickets", "file_format": "csv"},
        name="export_tickets_csv",
    ),
    path(
        "exports/tickets.xlsx",
        views.export_download,
        {"name": "tickets", "file_format": "xlsx"},
        name="export_tickets_xlsx",
    ),
    path(
        "exports/sla-results.csv",
        views.export_download,
        {"name": "sla-results", "file_format": "csv"},
        name="export_sla_csv",
    ),
    path(
        "exports/sla-results.xlsx",
        views.export_download,
        {"name": "sla-results", "file_format": "xlsx"},
        name="export_sla_xlsx",
    ),
]
