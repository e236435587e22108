"""Pagination for API lists: page numbers for small reference lists, keyset cursors for tickets.

DRF's ``CursorPagination`` positions its cursor on the first ordering field only and walks
ties with an offset capped at 1,000 rows, so ordering a million tickets by priority would
break after the first thousand of one priority. ``KeysetCursorPagination`` positions on the
pair ``(field, id)`` instead: every position is unique, each page is one indexed range
query, and rows created while a client pages never shift the pages it has not read yet.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=2&page_size=100`` for lists that stay small (stores, partners, regions…)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@dataclass(frozen=True)
class _Cursor:
    ordering: str  # e.g. "-priority"
    value: Any  # the ordering field's value at the position, JSON-encoded
    pk: int  # tie-breaker: the row id at the position
    reverse: bool  # True: the page *before* the position


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class KeysetCursorPagination(pagination.BasePagination):
    """Cursor pagination over ``(field, id)`` keysets with a client-chosen ordering.

    The view lists the fields a client may order by in ``ordering_fields`` (they must be
    non-null); ``?ordering=-priority`` picks one, the id breaks ties in the same direction.
    The cursor is opaque: base64 of the ordering, the last value and id, and the direction.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    cursor_query_param = "cursor"
    ordering_query_param = "ordering"
    default_ordering = "-created_at"

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        self.ordering = self.get_ordering(request, view)
        cursor = self.decode_cursor(request)
        field = self.ordering.lstrip("-")
        reverse = bool(cursor and cursor.reverse)
        # Scanning backwards (towards the previous page) flips the direction of the index walk.
        scan_descending = self.ordering.startswith("-") != reverse
        qs = queryset.order_by(*((f"-{field}", "-pk") if scan_descending else (field, "pk")))
        if cursor is not None:
            qs = qs.filter(self._after(queryset, field, cursor, descending=scan_descending))
        rows = list(qs[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if reverse:
            rows.reverse()
        self.rows = rows
        self.has_next = more if not reverse else bool(rows)
        self.has_previous = (cursor is not None and bool(rows)) if not reverse else more
        return rows

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            OrderedDict(
                [
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("results", data),
                ]
            )
        )

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError(
                {self.page_size_query_param: [_("A positive whole number is required.")]}
            )
        return min(size, self.max_page_size)

    def get_ordering(self, request: Request, view: Any) -> str:
        """The ordering asked for, if the view allows it; the default otherwise."""
        allowed = self.allowed_orderings(view)
        raw = request.query_params.get(self.ordering_query_param, "").strip()
        if not raw:
            return getattr(view, "default_ordering", None) or self.default_ordering
        if raw not in allowed:
            raise ValidationError(
                {
                    self.ordering_query_param: [
                        _("“%(value)s” is not one of: %(allowed)s.")
                        % {"value": raw, "allowed": ", ".join(allowed)}
                    ]
                }
            )
        return raw

    def allowed_orderings(self, view: Any) -> list[str]:
        fields = getattr(view, "ordering_fields", None) or [self.default_ordering.lstrip("-")]
        return [value for name in fields for value in (name, f"-{name}")]

    # -- cursors -------------------------------------------------------------------------

    def decode_cursor(self, request: Request) -> _Cursor | None:
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")).decode())
            cursor = _Cursor(
                ordering=str(data["o"]), value=data["v"], pk=int(data["k"]), reverse=bool(data["r"])
            )
        except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor.")]}) from None
        if cursor.ordering != self.ordering:
            raise ValidationError(
                {
                    self.cursor_query_param: [
                        _("This cursor belongs to ordering “%(ordering)s”.")
                        % {"ordering": cursor.ordering}
                    ]
                }
            )
        return cursor

    def encode_cursor(self, row: Any, *, reverse: bool) -> str:
        field = self.ordering.lstrip("-")
        payload = {
            "o": self.ordering,
            "v": _json_value(getattr(row, field)),
            "k": row.pk,
            "r": int(reverse),
        }
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii")

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.rows:
            return None
        cursor = self.encode_cursor(self.rows[-1], reverse=False)
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def get_previous_link(self) -> str | None:
        if not self.has_previous or not self.rows:
            return None
        cursor = self.encode_cursor(self.rows[0], reverse=True)
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def _after(self, queryset: QuerySet, field: str, cursor: _Cursor, *, descending: bool) -> Q:
        """Rows strictly past ``cursor`` in scan order.

        ``field <= v AND (field < v OR (field = v AND id < k))`` for a descending scan: the
        redundant first term gives PostgreSQL an index range to start from.
        """
        try:
            value = queryset.model._meta.get_field(field).to_python(cursor.value)
        except DjangoValidationError:
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor.")]}) from None
        strict, loose = ("lt", "lte") if descending else ("gt", "gte")
        return Q(**{f"{field}__{loose}": value}) & (
            Q(**{f"{field}__{strict}": value}) | Q(**{field: value, f"pk__{strict}": cursor.pk})
        )

    # -- OpenAPI ---------------------------------------------------------------------------

    def get_paginated_response_schema(self, schema: dict) -> dict:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": _("Opaque position from a previous page's next/previous link."),
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": _("Rows per page (at most %(max)s).") % {"max": self.max_page_size},
                # A larger size is capped, not refused, so no "maximum" here.
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.ordering_query_param,
                "required": False,
                "in": "query",
                "description": _("Sort key; a leading minus sorts descending. Default: %(d)s.")
                % {"d": getattr(view, "default_ordering", None) or self.default_ordering},
                "schema": {"type": "string", "enum": self.allowed_orderings(view)},
            },
        ]


class CreatedCursorPagination(KeysetCursorPagination):
    """Newest first, stable while the list grows: the ticket list's pagination."""

    default_ordering = "-created_at"
