"""Calendar API shapes. Input serializers check types; rules live in the services.

Times of day (``opens``/``closes``) are local wall times in the calendar's zone; instants
(``effective_from``) must carry a UTC offset: a naive instant is refused, never read in the
server's zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calendars.choices import ExceptionKind, Weekday
from calendars.models import BusinessCalendar, CalendarException, WorkingInterval


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant that must say its offset (``Z`` or ``+03:00``).

    DRF would read a naive value in the server's zone; for deadlines that silently shifts
    everything by hours, so it is a 400 with a field message instead.
    """

    default_error_messages = {
        "naive": _(
            "Give the UTC offset, e.g. 2026-10-02T18:30:00+03:00 or …Z: a time without one "
            "is ambiguous."
        ),
    }

    def to_internal_value(self, value: Any) -> datetime:
        parsed = value
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
        if isinstance(parsed, datetime) and timezone.is_naive(parsed):
            self.fail("naive")
        return super().to_internal_value(value)


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^(" + "|".join(ExceptionKind.values) + ")$",
        "example": ExceptionKind.DAY_OFF.value,
        "description": "day_off: no working time that date; working: that date's own hours.",
    }
)
class ExceptionKindField(serializers.ChoiceField):
    """``kind`` of a dated exception (``day_off`` or ``working``).

    Documented as a pattern, not an enum: every ``kind`` enum of the API is named through
    ``SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]``, and an unnamed one would collide.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ExceptionKind.choices, **kwargs)


# -- output ------------------------------------------------------------------------------


class CalendarRefSerializer(serializers.ModelSerializer):
    """A calendar as a policy or a preview names it."""

    class Meta:
        model = BusinessCalendar
        fields = ["id", "code", "name"]
        read_only_fields = fields


class WorkingIntervalSerializer(serializers.ModelSerializer):
    weekday = serializers.ChoiceField(
        choices=Weekday.choices, read_only=True, help_text=_("0 = Monday … 6 = Sunday.")
    )

    class Meta:
        model = WorkingInterval
        fields = ["weekday", "opens", "closes", "effective_from", "effective_until"]
        read_only_fields = fields
        extra_kwargs = {
            "closes": {"help_text": _("Not after opens: the interval crosses midnight.")},
            "effective_from": {"help_text": _("Null: in force from the beginning.")},
            "effective_until": {"help_text": _("Null: until further notice.")},
        }


class CalendarExceptionSerializer(serializers.ModelSerializer):
    kind = ExceptionKindField(read_only=True)

    class Meta:
        model = CalendarException
        fields = ["id", "day", "kind", "opens", "closes", "note"]
        read_only_fields = fields


class CalendarSerializer(serializers.ModelSerializer):
    """A calendar with the weekly hours in force now or scheduled, and its exceptions."""

    uses_store_zone = serializers.BooleanField(
        read_only=True, help_text=_("True: counts in the zone of the ticket's store.")
    )
    intervals = WorkingIntervalSerializer(
        source="current_intervals",
        many=True,
        read_only=True,
        help_text=_("Weekly hours in force now, and any edit scheduled from a later instant."),
    )
    exceptions = CalendarExceptionSerializer(many=True, read_only=True)

    class Meta:
        model = BusinessCalendar
        fields = [
            "id",
            "code",
            "name",
            "time_zone",
            "uses_store_zone",
            "always_open",
            "production_calendar",
            "holiday_region",
            "intervals",
            "exceptions",
            "updated_at",
        ]
        read_only_fields = fields


# -- input -------------------------------------------------------------------------------


class IntervalInputSerializer(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=Weekday.choices)
    opens = serializers.TimeField(help_text=_("Local wall time, e.g. 09:00."))
    closes = serializers.TimeField(
        help_text=_("Local wall time; not after opens means the interval crosses midnight.")
    )


def _week(intervals: list[dict]) -> list[tuple[int, Any, Any]]:
    return [(int(i["weekday"]), i["opens"], i["closes"]) for i in intervals]


class CalendarCreateSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)
    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("IANA zone; empty: count in the store's own zone. Fixed once created."),
    )
    always_open = serializers.BooleanField(default=False)
    production_calendar = serializers.BooleanField(
        default=False, help_text=_("Russian public holidays, transfers, shortened days.")
    )
    holiday_region = serializers.CharField(
        max_length=8,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("ISO 3166-2 code for regional holidays; empty: the store's region."),
    )
    intervals = IntervalInputSerializer(many=True, required=False, default=list)

    def to_service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        data["intervals"] = _week(data["intervals"])
        return data


class CalendarUpdateSerializer(serializers.Serializer):
    """Rename, and/or replace the weekly hours from an instant.

    Clocks running in the calendar keep the working time they consumed; the rest counts on
    the new hours from ``effective_from``.
    """

    name = serializers.CharField(max_length=200, required=False)
    intervals = IntervalInputSerializer(
        many=True, required=False, help_text=_("The whole new week (replaces the old one).")
    )
    effective_from = AwareDateTimeField(
        required=False, help_text=_("When the new hours take effect (default: now).")
    )

    def validate(self, attrs: dict) -> dict:
        if "effective_from" in attrs and "intervals" not in attrs:
            raise serializers.ValidationError(
                {"effective_from": [_("Only the weekly hours take effect from an instant.")]}
            )
        return attrs

    def to_service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        if "intervals" in data:
            data["intervals"] = _week(data["intervals"])
        return data


class CalendarExceptionCreateSerializer(serializers.Serializer):
    day = serializers.DateField(help_text=_("Local date in the calendar's zone."))
    kind = ExceptionKindField()
    opens = serializers.TimeField(required=False, allow_null=True, default=None)
    closes = serializers.TimeField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
