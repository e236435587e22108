"""SLA API shapes: policies, the deadline preview and the correction report.

Input serializers check types only; the rules (positive targets, threshold range, pause
statuses, uniqueness, OLA consistency) live in ``sla.services`` so the admin and the API
refuse the same things with the same messages. Instants in answers are UTC; ``*_local``
ones are the same instants in the zone the clock counts in, with its offset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calendars.api.serializers import AwareDateTimeField, CalendarRefSerializer
from clients.api.serializers import ClientRefSerializer, StoreRefSerializer
from clients.models import ClientContract
from partners.api.serializers import PartnerRefSerializer
from servicedesk.timezones import is_valid_time_zone
from sla.choices import Agreement, Category, ClockState, Metric, Priority
from sla.models import SlaClock, SlaPolicy
from sla.services import MAX_TARGET_SECONDS
from tickets.choices import TicketStatus


def _utc() -> serializers.DateTimeField:
    return serializers.DateTimeField(read_only=True, default_timezone=UTC)


def _local(value: datetime | None, zone: str) -> str | None:
    return None if value is None else value.astimezone(ZoneInfo(zone)).isoformat()


# -- policies ----------------------------------------------------------------------------


class ContractRefSerializer(serializers.ModelSerializer):
    client = ClientRefSerializer(read_only=True)

    class Meta:
        model = ClientContract
        fields = ["id", "number", "client"]
        read_only_fields = fields


class SlaPolicySerializer(serializers.ModelSerializer):
    """A policy as the API returns it; targets are working seconds on ``calendar``."""

    contract = ContractRefSerializer(read_only=True)
    calendar = CalendarRefSerializer(read_only=True)
    pause_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=TicketStatus.choices), read_only=True
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "contract",
            "priority",
            "category",
            "response_seconds",
            "arrival_seconds",
            "resolution_seconds",
            "calendar",
            "warning_threshold",
            "pause_statuses",
        ]
        read_only_fields = fields


class SlaPolicyWriteSerializer(serializers.Serializer):
    """Create (all required but ``category``, ``arrival_seconds``, ``warning_threshold``,
    ``pause_statuses``) or change (any subset, with PATCH) a policy."""

    contract = serializers.IntegerField(help_text=_("Client contract id."))
    priority = serializers.ChoiceField(choices=Priority.choices)
    category = serializers.ChoiceField(
        choices=Category.choices,
        allow_blank=True,
        required=False,
        default="",
        help_text=_("Empty: every category without a policy of its own."),
    )
    response_seconds = serializers.IntegerField(help_text=_("Working seconds; positive."))
    arrival_seconds = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Working seconds in the store's access hours; null: no arrival target."),
    )
    resolution_seconds = serializers.IntegerField(help_text=_("Working seconds; positive."))
    calendar = serializers.IntegerField(help_text=_("Business calendar id."))
    warning_threshold = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        required=False,
        default=Decimal("0.75"),
        help_text=_("Share of the target after which the clock warns, between 0 and 1."),
    )
    pause_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=TicketStatus.choices),
        required=False,
        default=["waiting_client"],
        help_text=_("Ticket statuses that stop the clock; must include waiting_client."),
    )

    def to_service_kwargs(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        for name in ("contract", "calendar"):
            if name in data:
                data[f"{name}_id"] = data.pop(name)
        return data


# -- preview -----------------------------------------------------------------------------


class StorePreviewRequestSerializer(serializers.Serializer):
    """Question (a): "when will you be there?" for a ticket opened now (or at ``start``)."""

    store = serializers.IntegerField(help_text=_("Store id; it must be visible to you."))
    priority = serializers.ChoiceField(choices=Priority.choices)
    category = serializers.ChoiceField(
        choices=Category.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Empty (default): the contract's policy for every other category."),
    )
    start = AwareDateTimeField(
        required=False, help_text=_("When the ticket would be opened (default: now).")
    )


class CalculatorPreviewRequestSerializer(serializers.Serializer):
    """Question (b): the business-time calculator on one calendar."""

    calendar = serializers.IntegerField(help_text=_("Business calendar id."))
    start = AwareDateTimeField()
    target_seconds = serializers.IntegerField(min_value=0, max_value=MAX_TARGET_SECONDS)
    pauses = serializers.ListField(
        child=serializers.ListField(
            child=AwareDateTimeField(allow_null=True), min_length=2, max_length=2
        ),
        required=False,
        default=list,
        help_text=_("[[from, to], …]; to may be null (the pause has not ended)."),
    )
    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "IANA zone for a calendar that counts in the store's own zone, when no store "
            "is given; ignored for a calendar with a zone of its own."
        ),
    )
    store = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Count in this store's zone and regional holidays."),
    )
    threshold = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        required=False,
        default=Decimal("0.75"),
        help_text=_("Warning share of the target, between 0 and 1 (default 0.75)."),
    )

    def validate_time_zone(self, value: str) -> str:
        if value and not is_valid_time_zone(value):
            raise serializers.ValidationError(
                _("“%(zone)s” is not an IANA time zone (e.g. Europe/Moscow).") % {"zone": value}
            )
        return value

    def validate_threshold(self, value: Decimal) -> Decimal:
        if not Decimal(0) < value < Decimal(1):
            raise serializers.ValidationError(_("The threshold must lie between 0 and 1."))
        return value

    def validate_pauses(self, value: list[list[datetime | None]]) -> list[tuple]:
        pauses = []
        for begin, end in value:
            if begin is None:
                raise serializers.ValidationError(_("A pause needs a start."))
            if end is not None and end < begin:
                raise serializers.ValidationError(_("A pause must not end before it starts."))
            pauses.append((begin, end))
        return pauses


class DeadlineSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices, read_only=True)
    target_seconds = serializers.IntegerField(read_only=True)
    warning_seconds = serializers.IntegerField(
        read_only=True, help_text=_("Working seconds after which the clock warns.")
    )
    calendar = CalendarRefSerializer(read_only=True)
    access_window = CalendarRefSerializer(
        source="access_calendar",
        read_only=True,
        allow_null=True,
        help_text=_("Arrival only: the store's access hours, intersected with the calendar."),
    )
    due_at = _utc()
    due_at_local = serializers.SerializerMethodField()
    warn_at = _utc()
    warn_at_local = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_due_at_local(self, row: Any) -> str | None:
        return _local(row.due_at, self.context["time_zone"])

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_warn_at_local(self, row: Any) -> str | None:
        return _local(row.warn_at, self.context["time_zone"])


class PolicyBriefSerializer(serializers.ModelSerializer):
    calendar = CalendarRefSerializer(read_only=True)

    class Meta:
        model = SlaPolicy
        fields = ["id", "priority", "category", "calendar", "warning_threshold"]
        read_only_fields = fields


class StorePreviewSerializer(serializers.Serializer):
    """Each target's due and warning instants, as the clocks of a new ticket would have."""

    store = StoreRefSerializer(read_only=True)
    policy = PolicyBriefSerializer(read_only=True)
    time_zone = serializers.CharField(read_only=True, help_text=_("The zone clocks count in."))
    start = _utc()
    start_local = serializers.SerializerMethodField()
    targets = DeadlineSerializer(many=True, read_only=True)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_start_local(self, preview: Any) -> str | None:
        return _local(preview.start, preview.time_zone)


class CalculatorPreviewSerializer(serializers.Serializer):
    calendar = CalendarRefSerializer(read_only=True)
    time_zone = serializers.CharField(read_only=True, help_text=_("The zone counted in."))
    start = _utc()
    start_local = serializers.SerializerMethodField()
    target_seconds = serializers.IntegerField(read_only=True)
    warning_seconds = serializers.IntegerField(read_only=True)
    due_at = _utc()
    due_at_local = serializers.SerializerMethodField()
    warn_at = _utc()
    warn_at_local = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_start_local(self, preview: Any) -> str | None:
        return _local(preview.start, preview.time_zone)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_due_at_local(self, preview: Any) -> str | None:
        return _local(preview.due_at, preview.time_zone)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_warn_at_local(self, preview: Any) -> str | None:
        return _local(preview.warn_at, preview.time_zone)


# -- correction --------------------------------------------------------------------------


class RecomputeRequestSerializer(serializers.Serializer):
    tickets = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=1000,
        help_text=_("Ticket ids; closed tickets included."),
    )
    apply = serializers.BooleanField(
        default=False, help_text=_("False (default): a dry run that changes nothing.")
    )


class ClockSideSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=ClockState.choices, read_only=True)
    outcome = serializers.CharField(
        read_only=True, help_text=_("met, breached or cancelled once stopped; else pending.")
    )
    due_at = serializers.DateTimeField(read_only=True, allow_null=True, default_timezone=UTC)
    warn_at = serializers.DateTimeField(read_only=True, allow_null=True, default_timezone=UTC)
    breached = serializers.BooleanField(read_only=True)
    consumed_seconds = serializers.IntegerField(read_only=True)


class CorrectionRowSerializer(serializers.Serializer):
    ticket = serializers.IntegerField(source="ticket_id", read_only=True)
    reference = serializers.CharField(read_only=True)
    clock = serializers.IntegerField(source="clock_id", read_only=True)
    agreement = serializers.ChoiceField(choices=Agreement.choices, read_only=True)
    metric = serializers.ChoiceField(choices=Metric.choices, read_only=True)
    partner = serializers.IntegerField(source="partner_id", read_only=True, allow_null=True)
    cycle = serializers.IntegerField(read_only=True)
    changed = serializers.BooleanField(read_only=True)
    before = ClockSideSerializer(read_only=True)
    after = ClockSideSerializer(read_only=True)


class CorrectionReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(read_only=True)
    now = _utc()
    changed = serializers.IntegerField(read_only=True, help_text=_("Clocks that change."))
    clocks = CorrectionRowSerializer(source="rows", many=True, read_only=True)


# -- clocks ------------------------------------------------------------------------------


class ClockTicketSerializer(serializers.Serializer):
    """The ticket a clock runs for: enough to find it and to read its local times."""

    id = serializers.IntegerField(read_only=True)
    reference = serializers.CharField(read_only=True, help_text=_("e.g. MAG-000123"))
    store = StoreRefSerializer(read_only=True)


class SlaClockSerializer(serializers.ModelSerializer):
    """One stored clock. Seconds are working seconds of its calendar; ``consumed_seconds``
    is as of the last event (pause, resume, stop), not of this request. ``*_local`` are the
    same instants in the zone the clock counts in (``time_zone``), with its offset."""

    ticket = ClockTicketSerializer(read_only=True)
    partner = PartnerRefSerializer(read_only=True, allow_null=True)
    agreement = serializers.ChoiceField(choices=Agreement.choices, read_only=True)
    metric = serializers.ChoiceField(choices=Metric.choices, read_only=True)
    state = serializers.ChoiceField(choices=ClockState.choices, read_only=True)
    calendar = CalendarRefSerializer(read_only=True)
    access_calendar = CalendarRefSerializer(read_only=True, allow_null=True)
    started_at = _utc()
    running_since = serializers.DateTimeField(read_only=True, allow_null=True, default_timezone=UTC)
    due_at = serializers.DateTimeField(read_only=True, allow_null=True, default_timezone=UTC)
    due_at_local = serializers.SerializerMethodField()
    warn_at = serializers.DateTimeField(read_only=True, allow_null=True, default_timezone=UTC)
    breached_at = serializers.DateTimeField(read_only=True, allow_null=True, default_timezone=UTC)
    stopped_at = serializers.DateTimeField(read_only=True, allow_null=True, default_timezone=UTC)

    class Meta:
        model = SlaClock
        fields = [
            "id",
            "ticket",
            "agreement",
            "partner",
            "metric",
            "state",
            "cycle",
            "target_seconds",
            "consumed_seconds",
            "calendar",
            "access_calendar",
            "time_zone",
            "started_at",
            "running_since",
            "due_at",
            "due_at_local",
            "warn_at",
            "breached_at",
            "stopped_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_due_at_local(self, clock: SlaClock) -> str | None:
        return _local(clock.due_at, clock.time_zone)
