"""API of imports (stores, equipment) and exports (tickets, SLA results).

Imports take a multipart upload and answer with the report of ``integrations.imports``:
a dry run (the default) always answers 200, with ``valid: false`` and every bad row when
the file has errors; applying a file with errors answers 400 with the same report (and the
uniform ``error`` object) and writes nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.services import ImportInvalid
from integrations import exports, imports
from servicedesk.api.errors import error_body
from servicedesk.api.permissions import request_actor
from servicedesk.api.serializers import ErrorDetailSerializer, ErrorSerializer
from servicedesk.exceptions import ValidationFailed


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("CSV (UTF-8, “,” or “;”) or XLSX."))
    client = serializers.IntegerField(
        help_text=gettext_lazy("Id of the client to import into (a client manager: its own).")
    )
    dry_run = serializers.BooleanField(
        default=True, help_text=gettext_lazy("Only check the file (the default).")
    )


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text=gettext_lazy("Line in the file; header is 1."))
    column = serializers.CharField(help_text=gettext_lazy("Column, or “file”."))
    message = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=gettext_lazy("“stores” or “equipment”."))
    client = serializers.IntegerField()
    dry_run = serializers.BooleanField()
    valid = serializers.BooleanField()
    applied = serializers.BooleanField()
    sha256 = serializers.CharField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField(help_text=gettext_lazy("Created (or would be)."))
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)
    ignored_columns = serializers.ListField(child=serializers.CharField())


class RejectedImportSerializer(ImportReportSerializer):
    """The uniform error; the report's fields too when a file was read and refused."""

    error = ErrorDetailSerializer()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, item in self.fields.items():
            item.required = name == "error"


class _ImportView(APIView):
    kind: ClassVar[str]
    parser_classes = [MultiPartParser, FormParser]

    def post(self, request: Request) -> Response:
        given = ImportRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        upload = given.validated_data["file"]
        if upload.size > imports.MAX_IMPORT_BYTES:
            message = _("The file is larger than %(mb)s MB.") % {
                "mb": imports.MAX_IMPORT_BYTES // (1024 * 1024)
            }
            raise ValidationFailed(message, fields={"file": [message]})
        try:
            result = imports.import_file(
                actor=request_actor(request),
                kind=self.kind,
                client_id=given.validated_data["client"],
                data=upload.read(),
                dry_run=given.validated_data["dry_run"],
            )
        except ImportInvalid as exc:
            body = {**exc.result.as_dict(), **error_body(exc.code, exc.message)}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(result.as_dict())


def _import_schema(what: str):
    return extend_schema(
        summary=f"Import {what} from CSV or XLSX (dry run by default)",
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            200: ImportReportSerializer,
            400: OpenApiResponse(
                RejectedImportSerializer,
                description=gettext_lazy(
                    "Bad form fields, or an apply of a file with errors (nothing written)."
                ),
            ),
            404: OpenApiResponse(
                ErrorSerializer,
                description=gettext_lazy("The client does not exist or is not yours."),
            ),
            409: OpenApiResponse(
                ErrorSerializer, description=gettext_lazy("The database refused a row.")
            ),
        },
    )


class StoreImportView(_ImportView):
    """Upsert the client's stores by code; every row is checked before anything is written."""

    kind = imports.STORES

    @_import_schema("stores")
    def post(self, request: Request) -> Response:
        return super().post(request)


class EquipmentImportView(_ImportView):
    """Upsert equipment by (store, serial); every row is checked before anything is written."""

    kind = imports.EQUIPMENT

    @_import_schema("equipment")
    def post(self, request: Request) -> Response:
        return super().post(request)


# --------------------------------------------------------------------------- exports


class FilesNegotiation(BaseContentNegotiation):
    """An export answers with its file whatever ``Accept`` says (``text/csv`` included), so
    negotiation never refuses with 406; errors are JSON in the uniform shape."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list, format_suffix=None) -> tuple:
        return renderers[0], renderers[0].media_type


_FILTERS = [
    OpenApiParameter(name, type, many=many, description=description)
    for name, type, many, description in (
        ("status", str, True, "Ticket status (repeatable)."),
        ("priority", str, True, "p1–p4 (repeatable)."),
        ("category", str, True, "Category (repeatable)."),
        ("kind", str, False, "Ticket kind."),
        ("client", int, False, "Client id."),
        ("store", int, False, "Store id."),
        ("region", str, False, "Region ISO code."),
        ("partner", int, False, "Partner id."),
        ("needs_visit", bool, False, "Field visit needed."),
        ("is_open", bool, False, "Open tickets only (true) or closed ones (false)."),
        ("breached", bool, False, "A client SLA clock is breached."),
        ("at_risk", bool, False, "A client SLA clock is at risk."),
        ("created_after", OpenApiTypes.DATETIME, False, "Created at or after."),
        ("created_before", OpenApiTypes.DATETIME, False, "Created before."),
        ("external_id", str, False, "External id."),
        ("q", str, False, "Search: reference, subject or store code."),
    )
]


class ExportView(APIView):
    """Tickets or their SLA results as the caller's ticket list filters them."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = FilesNegotiation
    name: ClassVar[str] = ""
    file_format: ClassVar[str] = ""

    def get(self, request: Request) -> StreamingHttpResponse | FileResponse:
        return export_response(
            actor=request_actor(request),
            name=self.name,
            file_format=self.file_format,
            filters=request.query_params,
        )


def export_response(
    *, actor, name: str, file_format: str, filters: Any
) -> StreamingHttpResponse | FileResponse:
    """The export as a download: CSV streamed row by row, XLSX built in a temporary file.
    Shared by the API and the HTML export page."""
    header, make_rows = exports.EXPORTS[name]
    exports.export_filters_check(filters)  # before the response starts: a 400, not a cut file
    rows = make_rows(actor=actor, filters=filters)
    filename = f"{name}.{file_format}"
    if file_format == "csv":
        response = StreamingHttpResponse(
            exports.csv_stream(header, rows), content_type=exports.CSV_CONTENT_TYPE
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        handle = exports.xlsx_file(name, header, rows)
        response = FileResponse(
            handle, as_attachment=True, filename=filename, content_type=exports.XLSX_CONTENT_TYPE
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _export_view(name: str, file_format: str, what: str) -> type[ExportView]:
    media = "text/csv" if file_format == "csv" else exports.XLSX_CONTENT_TYPE
    described = OpenApiResponse(
        OpenApiTypes.BINARY, description=gettext_lazy("The file, as a download.")
    )

    class View(ExportView):
        @extend_schema(
            summary=f"Export {what} as {file_format.upper()}",
            operation_id=f"export_{name.replace('-', '_')}_{file_format}",
            parameters=_FILTERS,
            responses={(200, media): described, (400, "application/json"): ErrorSerializer},
        )
        def get(self, request: Request):
            return super().get(request)

    View.name, View.file_format = name, file_format
    View.__name__ = View.__qualname__ = (
        f"Export{name.title().replace('-', '')}{file_format.title()}"
    )
    View.__doc__ = f"{what.capitalize()} the caller may see, with the ticket list's filters."
    return View


TicketsCsvExportView = _export_view("tickets", "csv", "tickets")
TicketsXlsxExportView = _export_view("tickets", "xlsx", "tickets")
SlaCsvExportView = _export_view("sla-results", "csv", "SLA results")
SlaXlsxExportView = _export_view("sla-results", "xlsx", "SLA results")
