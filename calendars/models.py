"""Business calendars: when the clock counts.

They sit below clients and partners because stores (opening hours, access windows) and
partner contracts (the partner's own hours) point to them; the SLA engine reads them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from calendars.choices import ExceptionKind, Weekday
from servicedesk.fields import TimeZoneField
from servicedesk.models import TimeStampedModel


class BusinessCalendar(TimeStampedModel):
    """Weekly working intervals in a zone, with dated exceptions.

    An empty ``time_zone`` means "the store's own": the zone is taken from the store whose
    ticket the clock belongs to. ``always_open`` is 24x7 (elapsed seconds).
    """

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    time_zone = TimeZoneField(
        _("time zone"), blank=True, help_text=_("Empty: count in the store's own zone.")
    )
    always_open = models.BooleanField(_("24×7"), default=False)
    production_calendar = models.BooleanField(
        _("Russian production calendar"),
        default=False,
        help_text=_("Public holidays, decree transfers and shortened pre-holiday days."),
    )
    # Bumped by every edit; part of the cache key of the built calendar (a timestamp is not
    # enough: two edits can share one).
    revision = models.PositiveIntegerField(default=1, editable=False)
    holiday_region = models.CharField(
        _("regional holidays of"),
        max_length=8,
        blank=True,
        help_text=_("ISO 3166-2 code; empty: the store's region."),
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(time_zone="")
                | Q(
                    models.Func(
                        F("time_zone"),
                        function="sd_is_valid_time_zone",
                        output_field=models.BooleanField(),
                    )
                ),
                name="calendar_time_zone_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def uses_store_zone(self) -> bool:
        return not self.time_zone


class WorkingInterval(models.Model):
    """``[opens, closes)`` on a weekday, local time; ``closes <= opens`` crosses midnight.

    ``effective_from``/``effective_until`` make an edit take effect from an instant, so a
    clock recomputed later counts each stretch of time on the hours then in force.
    """

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="intervals"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))
    effective_from = models.DateTimeField(_("effective from"), null=True, blank=True)
    effective_until = models.DateTimeField(_("effective until"), null=True, blank=True)

    class Meta:
        ordering = ["calendar", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="interval_weekday_range"),
            models.CheckConstraint(
                condition=~Q(opens=F("closes")) | Q(opens="00:00"),
                name="interval_not_empty",
            ),
            models.CheckConstraint(
                condition=Q(effective_from__isnull=True)
                | Q(effective_until__isnull=True)
                | Q(effective_until__gt=F("effective_from")),
                name="interval_effective_order",
            ),
        ]
        indexes = [models.Index(fields=["calendar", "effective_until"], name="interval_current")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class CalendarException(models.Model):
    """A dated exception: a day off, or that day's own working hours (several rows allowed)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="exceptions"
    )
    day = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=16, choices=ExceptionKind.choices)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["calendar", "day", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="day_off", opens__isnull=True, closes__isnull=True)
                | Q(kind="working", opens__isnull=False, closes__isnull=False),
                name="exception_hours_match_kind",
            ),
            models.UniqueConstraint(
                fields=["calendar", "day"],
                condition=Q(kind="day_off"),
                name="exception_one_day_off",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == ExceptionKind.DAY_OFF:
            return f"{self.day}: {self.get_kind_display()}"
        return f"{self.day}: {self.opens:%H:%M}–{self.closes:%H:%M}"
