"""SLA engine: client SLA policies, clocks with their deadlines, pauses and thresholds.

A clock holds what it has consumed and since when it runs, so pausing, resuming and the
sweep never replay history; ``due_at``/``warn_at``/``next_check_at`` are stored, indexed,
and computed only when something happens to the ticket.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from calendars.models import BusinessCalendar
from clients.models import ClientContract
from partners.models import Partner
from sla.choices import Agreement, Category, ClockState, Metric, Priority, ThresholdKind

ACTIVE_STATES = (ClockState.RUNNING, ClockState.PAUSED)


def default_pause_statuses() -> list[str]:
    return ["waiting_client"]


class SlaPolicy(models.Model):
    """Targets a client contract promises for one priority (and optionally one category)."""

    contract = models.ForeignKey(
        ClientContract, on_delete=models.CASCADE, related_name="sla_policies"
    )
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    category = models.CharField(
        _("category"),
        max_length=16,
        choices=Category.choices,
        blank=True,
        help_text=_("Empty: every category without a policy of its own."),
    )
    response_seconds = models.PositiveIntegerField(_("response within (s)"))
    arrival_seconds = models.PositiveIntegerField(
        _("on site within (s)"),
        null=True,
        blank=True,
        help_text=_("Only for tickets that need a visit; counts in the store's access hours."),
    )
    resolution_seconds = models.PositiveIntegerField(_("resolve within (s)"))
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="sla_policies"
    )
    warning_threshold = models.DecimalField(
        _("warn at share of target"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.75"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("0.99"))],
    )
    pause_statuses = ArrayField(
        models.CharField(max_length=16),
        default=default_pause_statuses,
        help_text=_("Ticket statuses that stop the clock."),
    )

    class Meta:
        ordering = ["contract", "priority", "category"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "priority", "category"], name="sla_policy_unique"
            ),
            models.CheckConstraint(
                condition=Q(warning_threshold__gt=0, warning_threshold__lt=1),
                name="sla_policy_threshold_range",
            ),
            models.CheckConstraint(
                condition=Q(response_seconds__gte=0, resolution_seconds__gt=0),
                name="sla_policy_targets_positive",
            ),
            models.CheckConstraint(
                condition=Q(pause_statuses__contains=["waiting_client"]),
                name="sla_policy_pauses_waiting_client",
            ),
        ]

    def __str__(self) -> str:
        category = f" · {self.get_category_display()}" if self.category else ""
        return f"{self.contract} · {self.get_priority_display()}{category}"


class SlaClock(models.Model):
    """One clock per ticket × agreement (client SLA or a partner's OLA) × metric."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="clocks")
    agreement = models.CharField(_("agreement"), max_length=8, choices=Agreement.choices)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="clocks"
    )
    metric = models.CharField(_("metric"), max_length=16, choices=Metric.choices)
    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="clocks"
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="clocks")
    # Arrival clocks also count only in the store's access hours.
    access_calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The calendar's zone, or the store's for "store's own" calendars, fixed at start.
    time_zone = models.CharField(max_length=64)
    holiday_region = models.CharField(max_length=8, blank=True)
    target_seconds = models.PositiveIntegerField()
    warning_threshold = models.DecimalField(max_digits=3, decimal_places=2)
    cycle = models.PositiveSmallIntegerField(default=1, help_text=_("Restarted on reopen."))
    state = models.CharField(max_length=16, choices=ClockState.choices)
    started_at = models.DateTimeField()
    consumed_seconds = models.PositiveIntegerField(default=0)
    running_since = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ticket", "agreement", "metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "agreement", "metric", "partner"],
                condition=Q(state__in=["running", "paused"]),
                nulls_distinct=False,
                name="sla_clock_one_active",
            ),
            models.CheckConstraint(
                condition=Q(agreement="sla", partner__isnull=True)
                | Q(agreement="ola", partner__isnull=False),
                name="sla_clock_partner_matches_agreement",
            ),
            models.CheckConstraint(
                condition=~Q(state="running") | Q(running_since__isnull=False),
                name="sla_clock_running_has_since",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["met", "breached", "cancelled"])
                | Q(stopped_at__isnull=False, next_check_at__isnull=True),
                name="sla_clock_stopped_is_final",
            ),
        ]
        indexes = [
            # The sweep's index: only clocks with a threshold still ahead are in it.
            models.Index(
                fields=["next_check_at"],
                condition=Q(next_check_at__isnull=False),
                name="sla_clock_next_check",
            ),
            models.Index(
                fields=["due_at"], condition=Q(state="running"), name="sla_clock_running_due"
            ),
            models.Index(fields=["calendar", "state"], name="sla_clock_calendar_state"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.agreement}/{self.metric} {self.state}"


class SlaPause(models.Model):
    """A stretch during which a ticket's clocks were paused, kept for recomputation."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16)

    class Meta:
        ordering = ["ticket", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(ended_at__isnull=True), name="sla_pause_one_open"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="sla_pause_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} paused {self.started_at:%Y-%m-%d %H:%M}"


class ClockThreshold(models.Model):
    """A warning or breach recorded once per clock and cycle: the sweep's effect key."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="thresholds")
    kind = models.CharField(max_length=8, choices=ThresholdKind.choices)
    cycle = models.PositiveSmallIntegerField()
    reached_at = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clock", "kind", "cycle"], name="clock_threshold_once")
        ]

    def __str__(self) -> str:
        return f"{self.clock_id} {self.kind} #{self.cycle}"
