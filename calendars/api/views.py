"""Calendar endpoints: anyone with an actor reads; provider administrators change them.

Reads go through ``calendars.selectors``. Writes that move running clocks and write ticket
timelines go through ``tickets.sla_admin`` (an interface may stand on the top floor);
creating a calendar goes through ``calendars.services``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from calendars import selectors, services
from calendars.api.serializers import (
    CalendarCreateSerializer,
    CalendarExceptionCreateSerializer,
    CalendarExceptionSerializer,
    CalendarSerializer,
    CalendarUpdateSerializer,
)
from servicedesk.api.permissions import HasActor, request_actor
from servicedesk.api.viewsets import ScopedViewSetMixin
from servicedesk.choices import Role
from tickets import sla_admin


class ProviderAdminWrites(BasePermission):
    """Entry gate: reading is for every actor, writing for provider administrators only."""

    message = _("Only provider administrators change calendars and SLA policies.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        actor = request_actor(request)
        return actor is not None and actor.role == Role.PROVIDER_ADMIN


def _given(serializer_class: type, data: Any) -> Any:
    given = serializer_class(data=data)
    given.is_valid(raise_exception=True)
    return given


@extend_schema_view(
    list=extend_schema(summary="Business calendars (reference data, readable by every actor)"),
    retrieve=extend_schema(summary="A calendar with its weekly hours and dated exceptions"),
)
class CalendarViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Calendars with their weekly intervals (in force now or scheduled) and exceptions."""

    selector = selectors.calendar_list
    serializer_class = CalendarSerializer
    permission_classes = [HasActor, ProviderAdminWrites]
    ordering_fields = ["code", "name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    input_serializers = {
        "create": CalendarCreateSerializer,
        "partial_update": CalendarUpdateSerializer,
        "exceptions": CalendarExceptionCreateSerializer,
    }

    def get_serializer_class(self) -> type:
        return self.input_serializers.get(getattr(self, "action", None), CalendarSerializer)

    @extend_schema(
        summary="Create a calendar",
        request=CalendarCreateSerializer,
        responses={201: CalendarSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = _given(CalendarCreateSerializer, request.data)
        calendar = services.calendar_create(actor=self.actor, **given.to_service_kwargs())
        location = reverse("api:calendar-detail", kwargs={"pk": calendar.pk}, request=request)
        return Response(
            self._out(calendar.pk), status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    @extend_schema(
        summary="Rename, or replace the weekly hours from an instant",
        description=_(
            "New weekly hours take effect from `effective_from` (default: now). Clocks running "
            "in this calendar keep the working time they consumed and count the rest on the "
            "new hours; each moved clock gets an SLA event on its ticket."
        ),
        request=CalendarUpdateSerializer,
        responses={200: CalendarSerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        calendar = self.get_object()
        given = _given(CalendarUpdateSerializer, request.data)
        sla_admin.calendar_update(
            actor=self.actor, calendar_id=calendar.pk, **given.to_service_kwargs()
        )
        return Response(self._out(calendar.pk))

    @extend_schema(
        summary="Add a day off or a day's own working hours",
        description=_(
            "Running clocks of this calendar are recounted at once (their consumed time "
            "outside the date is unchanged). A past date corrects the calendar: recount "
            "stopped clocks with POST /api/v1/sla/recompute/."
        ),
        request=CalendarExceptionCreateSerializer,
        responses={201: CalendarExceptionSerializer},
    )
    @action(detail=True, methods=["post"])
    def exceptions(self, request: Request, pk: int) -> Response:
        calendar = self.get_object()
        given = _given(CalendarExceptionCreateSerializer, request.data)
        row = sla_admin.calendar_edit_add_exception(
            actor=self.actor, calendar_id=calendar.pk, **given.validated_data
        )
        return Response(CalendarExceptionSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Remove a dated exception",
        request=None,
        responses={204: OpenApiResponse(description=_("Removed; running clocks recounted."))},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path="exceptions/<int:exception_id>",
        url_name="exception-detail",
    )
    def remove_exception(self, request: Request, pk: int, exception_id: int) -> Response:
        calendar = self.get_object()
        sla_admin.calendar_edit_remove_exception(
            actor=self.actor, calendar_id=calendar.pk, exception_id=exception_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _out(self, calendar_id: int) -> dict:
        calendar = selectors.calendar_get(actor=self.actor, calendar_id=calendar_id)
        return CalendarSerializer(calendar, context=self.get_serializer_context()).data
