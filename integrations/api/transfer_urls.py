"""API routes of imports and exports (issue 5); mounted under /api/v1/."""

from __future__ import annotations

from django.urls import path

from integrations.api import transfer_views as views

urlpatterns = [
    path("stores/import/", views.StoreImportView.as_view(), name="store-import"),
    path("equipment/import/", views.EquipmentImportView.as_view(), name="equipment-import"),
    path("exports/tickets.csv", views.TicketsCsvExportView.as_view(), name="export-tickets-csv"),
    path("exports/tickets.xlsx", views.TicketsXlsxExportView.as_view(), name="export-tickets-xlsx"),
    path("exports/sla-results.csv", views.SlaCsvExportView.as_view(), name="export-sla-csv"),
    path("exports/sla-results.xlsx", views.SlaXlsxExportView.as_view(), name="export-sla-xlsx"),
]
