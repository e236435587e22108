"""``GET /api/v1/audit/``: the audit trail for provider administrators."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from audit.api.serializers import AuditEntrySerializer
from audit.forms import AuditFilterForm
from audit.models import AuditEntry
from audit.selectors import audit_entry_list, audit_require_viewer
from servicedesk.api.pagination import KeysetCursorPagination
from servicedesk.api.permissions import request_actor
from servicedesk.api.schema import AutoSchema
from servicedesk.exceptions import ValidationFailed


class AuditCursorPagination(KeysetCursorPagination):
    """Newest first on ``(at, id)``."""

    default_ordering = "-at"


class AuditSchema(AutoSchema):
    """Documents the 404 that callers outside the provider get from this list."""

    def _error_codes(self) -> list[str]:
        codes = super()._error_codes()
        return codes if "404" in codes else [*codes, "404"]


@extend_schema(
    parameters=[
        OpenApiParameter("table", str, description="Table name, e.g. tickets_ticket."),
        OpenApiParameter("row", str, description="The row's primary key."),
        OpenApiParameter("user", int, description="The acting user's id."),
        OpenApiParameter("since", OpenApiTypes.DATE, description="First day (YYYY-MM-DD, UTC)."),
        OpenApiParameter(
            "until", OpenApiTypes.DATE, description="Last day, included (YYYY-MM-DD, UTC)."
        ),
    ]
)
class AuditEntryListView(generics.ListAPIView):
    """Who changed what: 404 for anybody outside the provider, 403 for its non-admins."""

    serializer_class = AuditEntrySerializer
    schema = AuditSchema()
    pagination_class = AuditCursorPagination
    ordering_fields = ["at"]
    filter_backends: list = []
    queryset = AuditEntry.objects.none()  # the schema's model; rows come from the selector

    def get_queryset(self) -> QuerySet[AuditEntry]:
        actor = request_actor(self.request)
        audit_require_viewer(actor)
        params = self.request.query_params
        # The HTML form sends blank fields; the API documents typed values, so a typed
        # parameter given empty is an error there, not "no filter".
        blank = [name for name in ("user", "since", "until") if params.get(name, None) == ""]
        if blank:
            raise ValidationFailed(fields={name: [_("Enter a value.")] for name in blank})
        form = AuditFilterForm(params)
        if not form.is_valid():
            fields = {name: [str(m) for m in errors] for name, errors in form.errors.items()}
            raise ValidationFailed(fields=fields)
        return audit_entry_list(actor=actor, **form.selector_filters())
