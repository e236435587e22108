"""SLA endpoints: policies (provider admins write; provider staff and the client's manager
read), the deadline preview, and the clock correction tool."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from calendars.api.views import ProviderAdminWrites
from servicedesk.api.permissions import HasActor, request_actor
from servicedesk.api.viewsets import ScopedViewSetMixin
from servicedesk.choices import Role
from sla import selectors, services
from sla.api.filtersets import SlaClockFilterSet, SlaPolicyFilterSet
from sla.api.serializers import (
    CalculatorPreviewRequestSerializer,
    CalculatorPreviewSerializer,
    CorrectionReportSerializer,
    RecomputeRequestSerializer,
    SlaClockSerializer,
    SlaPolicySerializer,
    SlaPolicyWriteSerializer,
    StorePreviewRequestSerializer,
    StorePreviewSerializer,
)
from tickets import sla_admin
from tickets.choices import TicketStatus


@extend_schema_view(
    list=extend_schema(summary="SLA policies (provider staff: all; client manager: its own)"),
    retrieve=extend_schema(summary="An SLA policy"),
)
class SlaPolicyViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Targets per client contract × priority (× category). Running clocks keep the
    targets they started with; new tickets and reclassifications use the policy as it is."""

    selector = selectors.policy_list
    serializer_class = SlaPolicySerializer
    filterset_class = SlaPolicyFilterSet
    permission_classes = [HasActor, ProviderAdminWrites]
    ordering_fields = ["priority", "category"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self) -> type:
        if getattr(self, "action", None) in ("create", "partial_update"):
            return SlaPolicyWriteSerializer
        return SlaPolicySerializer

    @extend_schema(
        summary="Create an SLA policy",
        request=SlaPolicyWriteSerializer,
        responses={201: SlaPolicySerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = SlaPolicyWriteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        policy = services.sla_policy_create(
            actor=self.actor, allowed_statuses=TicketStatus.values, **given.to_service_kwargs()
        )
        location = reverse("api:sla-policy-detail", kwargs={"pk": policy.pk}, request=request)
        return Response(
            self._out(policy.pk), status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    @extend_schema(
        summary="Change an SLA policy",
        request=SlaPolicyWriteSerializer,
        responses={200: SlaPolicySerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.get_object()
        given = SlaPolicyWriteSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        services.sla_policy_update(
            actor=self.actor,
            policy_id=policy.pk,
            allowed_statuses=TicketStatus.values,
            **given.to_service_kwargs(),
        )
        return Response(self._out(policy.pk))

    @extend_schema(summary="Delete an SLA policy", responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.get_object()
        services.sla_policy_delete(actor=self.actor, policy_id=policy.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _out(self, policy_id: int) -> dict:
        policy = selectors.policy_get(actor=self.actor, policy_id=policy_id)
        return SlaPolicySerializer(policy, context=self.get_serializer_context()).data


@extend_schema_view(
    list=extend_schema(
        summary="SLA clocks of the tickets you may see",
        description=_(
            "One row per ticket × agreement × metric. The client SLA's clocks are listed for "
            "everyone who sees the ticket; a partner's OLA clocks only for the provider and "
            "that partner. Instants are UTC; `due_at_local` is in the clock's own zone."
        ),
    ),
    retrieve=extend_schema(summary="An SLA clock"),
)
class SlaClockViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Stored clocks across tickets, for dashboards and integrations that watch deadlines."""

    selector = selectors.clock_list
    serializer_class = SlaClockSerializer
    filterset_class = SlaClockFilterSet
    ordering_fields = ["due_at", "started_at", "breached_at", "id"]


_PREVIEW_REQUEST = PolymorphicProxySerializer(
    component_name="SlaPreviewRequest",
    serializers=[StorePreviewRequestSerializer, CalculatorPreviewRequestSerializer],
    resource_type_field_name=None,
)
_PREVIEW_RESPONSE = PolymorphicProxySerializer(
    component_name="SlaPreview",
    serializers=[StorePreviewSerializer, CalculatorPreviewSerializer],
    resource_type_field_name=None,
)
_PREVIEW_EXAMPLES = [
    OpenApiExample(
        "Store: when will you be there?",
        request_only=True,
        value={"store": 42, "priority": "p2", "start": "2026-10-02T15:30:00Z"},
    ),
    OpenApiExample(
        "Calculator: Friday evening on the office calendar, with a pause",
        request_only=True,
        value={
            "calendar": 2,
            "start": "2026-10-02T17:00:00+03:00",
            "target_seconds": 14400,
            "time_zone": "Europe/Moscow",
            "pauses": [["2026-10-05T10:00:00+03:00", "2026-10-05T11:00:00+03:00"]],
        },
    ),
    OpenApiExample(
        "Store answer",
        response_only=True,
        value={
            "store": {"id": 42, "code": "M-017", "name": "Тверская", "time_zone": "Europe/Moscow"},
            "policy": {
                "id": 7,
                "priority": "p2",
                "category": "",
                "calendar": {"id": 2, "code": "office", "name": "Mon–Fri 09:00–18:00"},
                "warning_threshold": "0.75",
            },
            "time_zone": "Europe/Moscow",
            "start": "2026-10-02T15:30:00Z",
            "start_local": "2026-10-02T18:30:00+03:00",
            "targets": [
                {
                    "metric": "response",
                    "target_seconds": 3600,
                    "warning_seconds": 2700,
                    "calendar": {"id": 2, "code": "office", "name": "Mon–Fri 09:00–18:00"},
                    "access_window": None,
                    "due_at": "2026-10-05T07:00:00Z",
                    "due_at_local": "2026-10-05T10:00:00+03:00",
                    "warn_at": "2026-10-05T06:45:00Z",
                    "warn_at_local": "2026-10-05T09:45:00+03:00",
                }
            ],
        },
    ),
    OpenApiExample(
        "Calculator answer",
        response_only=True,
        value={
            "calendar": {"id": 2, "code": "office", "name": "Mon–Fri 09:00–18:00"},
            "time_zone": "Europe/Moscow",
            "start": "2026-10-02T14:00:00Z",
            "start_local": "2026-10-02T17:00:00+03:00",
            "target_seconds": 14400,
            "warning_seconds": 10800,
            "due_at": "2026-10-05T10:00:00Z",
            "due_at_local": "2026-10-05T13:00:00+03:00",
            "warn_at": "2026-10-05T09:00:00Z",
            "warn_at_local": "2026-10-05T12:00:00+03:00",
        },
    ),
]


class SlaPreviewView(APIView):
    """Deadlines without a ticket, computed by the same functions as real clocks.

    With ``calendar``: the business-time calculator (any actor; calendars are reference
    data). Otherwise ``store`` and ``priority``: each target of the client's policy for a
    ticket opened at ``start`` (provider staff and the store's client; not partners).
    """

    @extend_schema(
        summary="Preview SLA deadlines",
        description=_(
            "Two questions in one endpoint. **Store** (`store`, `priority`, optional "
            "`category` and `start`): for each target of the client's policy (response; "
            "arrival when the policy has one, counted only in the store's access hours; "
            "resolution) the due and warning instants in UTC and in the store's local time. "
            "**Calculator** (`calendar`, `start`, `target_seconds`, optional `pauses`, "
            "`time_zone` or `store`, `threshold`): the due and warning instants of a target "
            "on one calendar. Instants must carry a UTC offset. A target the calendar can "
            "never reach is a 400 with code `no_working_time`."
        ),
        request=_PREVIEW_REQUEST,
        responses={200: _PREVIEW_RESPONSE},
        examples=_PREVIEW_EXAMPLES,
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        actor = request_actor(request)
        if isinstance(request.data, dict) and "calendar" in request.data:
            given = CalculatorPreviewRequestSerializer(data=request.data)
            given.is_valid(raise_exception=True)
            data = dict(given.validated_data)
            preview = selectors.preview_calculator(
                actor=actor,
                calendar_id=data.pop("calendar"),
                store_id=data.pop("store"),
                **data,
            )
            return Response(CalculatorPreviewSerializer(preview).data)
        given = StorePreviewRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        store_preview = selectors.preview_for_store(
            actor=actor,
            store_id=data["store"],
            priority=data["priority"],
            category=data["category"],
            start=data.get("start") or timezone.now(),
        )
        body = StorePreviewSerializer(store_preview, context={"time_zone": store_preview.time_zone})
        return Response(body.data)


class IsProviderAdmin(BasePermission):
    message = _("Only provider administrators correct SLA clocks.")

    def has_permission(self, request: Request, view: Any) -> bool:
        actor = request_actor(request)
        return actor is not None and actor.role == Role.PROVIDER_ADMIN


class SlaRecomputeView(APIView):
    """The correction tool: recount chosen tickets' clocks on their corrected calendars."""

    permission_classes = [HasActor, IsProviderAdmin]

    @extend_schema(
        summary="Recount tickets' SLA clocks after a calendar correction",
        description=_(
            "Every clock of the given tickets, closed ones included, is recounted from its "
            "start with its own target on its calendar as it is now, minus the recorded "
            "pauses. `apply: false` (default) is a dry run: the report of before/after due "
            "times and outcomes, nothing written. `apply: true` writes the changed clocks "
            "and one SLA event per changed clock (reason `calendar_correction`)."
        ),
        request=RecomputeRequestSerializer,
        responses={200: CorrectionReportSerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = RecomputeRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        report = sla_admin.clocks_correction(
            actor=request_actor(request),
            ticket_ids=given.validated_data["tickets"],
            dry_run=not given.validated_data["apply"],
        )
        return Response(CorrectionReportSerializer(report).data, status=status.HTTP_200_OK)
