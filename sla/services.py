"""The SLA engine's use cases: start, pause, resume, stop and recompute clocks; the sweep.

``tickets.services`` drives these when something happens to a ticket and turns the returned
``ClockChange`` list into timeline events in the same transaction. Deadlines are computed
here, only then, by the pure business-time functions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from calendars import business_time as bt
from calendars.models import BusinessCalendar
from calendars.services import (
    CalendarContext,
    calendar_holiday_region,
    calendar_working_time,
    calendar_zone,
)
from clients.models import ClientContract, Store
from partners.models import PartnerContract
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import NotFound, PermissionDenied, ValidationFailed
from sla.choices import Agreement, ClockState, Metric, ThresholdKind
from sla.models import (
    ACTIVE_STATES,
    ClockThreshold,
    SlaClock,
    SlaPause,
    SlaPolicy,
    default_pause_statuses,
)


@dataclass(frozen=True)
class ClockChange:
    """Something that happened to a clock, for the ticket's timeline."""

    ticket_id: int
    clock_id: int
    kind: str  # started, paused, resumed, recomputed, restarted, warning, breach, met, missed,
    # cancelled
    agreement: str
    metric: str
    partner_id: int | None
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def as_event_data(self) -> dict[str, Any]:
        due = self.data.get("due_at")
        return {
            "clock_id": self.clock_id,
            "change": self.kind,
            "agreement": self.agreement,
            "metric": self.metric,
            "partner_id": self.partner_id,
            **{k: v for k, v in self.data.items() if k != "due_at"},
            **({"due_at": due} if due else {}),
        }


@dataclass(frozen=True)
class TicketTerms:
    """What the SLA engine needs to know about a ticket, without importing tickets."""

    ticket_id: int
    client_id: int
    store_id: int
    priority: str
    category: str
    needs_visit: bool


# --- policy lookup -------------------------------------------------------------------------


def policy_for(
    *, client_id: int, priority: str, category: str, on: datetime, time_zone: str = "UTC"
) -> SlaPolicy | None:
    """The policy of the client's contract in force ``on`` — on the store's own calendar
    day, ``time_zone`` — category-specific first."""
    day = on.astimezone(ZoneInfo(time_zone)).date()
    contract = (
        ClientContract.objects.filter(client_id=client_id, is_active=True, starts_on__lte=day)
        .exclude(ends_on__lt=day)
        .order_by("-starts_on")
        .first()
    )
    if contract is None:
        return None
    candidates = SlaPolicy.objects.filter(
        contract=contract, priority=priority, category__in=[category, ""]
    ).select_related("calendar")
    by_category = {p.category: p for p in candidates}
    return by_category.get(category) or by_category.get("")


def _policy_and_store(terms: TicketTerms, at: datetime) -> tuple[SlaPolicy | None, Store]:
    """The ticket's store and the policy in force on the store's own calendar day."""
    store = Store.objects.select_related("region", "access_calendar").get(pk=terms.store_id)
    policy = policy_for(
        client_id=terms.client_id,
        priority=terms.priority,
        category=terms.category,
        on=at,
        time_zone=store.time_zone,
    )
    return policy, store


def _store_context(store: Store) -> CalendarContext:
    return CalendarContext(time_zone=store.time_zone, region_code=store.region.code)


# --- clock arithmetic ----------------------------------------------------------------------


def _pauses(ticket_id: int) -> list[tuple[datetime, datetime | None]]:
    return list(SlaPause.objects.filter(ticket_id=ticket_id).values_list("started_at", "ended_at"))


def clock_working_time(clock: SlaClock) -> bt.WorkingTime:
    """The calendar ``clock`` counts in (intersected with the store's access window)."""
    own = calendar_working_time(
        clock.calendar, zone=clock.time_zone, holiday_region=clock.holiday_region
    )
    if clock.access_calendar_id is None:
        return own
    access = calendar_working_time(
        clock.access_calendar, zone=clock.time_zone, holiday_region=clock.holiday_region
    )
    return bt.IntersectionCalendar(parts=(own, access))


def _warn_seconds(clock: SlaClock) -> int:
    return bt.warning_seconds(clock.target_seconds, clock.warning_threshold)


def _schedule(clock: SlaClock, working: bt.WorkingTime, now: datetime) -> None:
    """Set due/warn/next check of a running clock from what it consumed and since when."""
    assert clock.running_since is not None
    try:
        _deadlines(clock, working)
    except bt.NoWorkingTime:
        # Never guess a deadline: the calendars are wrong and somebody must fix them.
        raise ValidationFailed(
            _(
                "The %(metric)s target cannot be counted: its calendar (intersected with the "
                "store's access hours) has no working time. Fix the calendars first."
            )
            % {"metric": Metric(clock.metric).label},
            code="no_working_time",
        ) from None
    _set_next_check(clock)


def _deadlines(clock: SlaClock, working: bt.WorkingTime) -> None:
    remaining = clock.target_seconds - clock.consumed_seconds
    if clock.breached_at is None:
        clock.due_at = bt.add_working_time(working, clock.running_since, max(remaining, 0))
    warn_left = _warn_seconds(clock) - clock.consumed_seconds
    if clock.warned_at is None:
        clock.warn_at = bt.add_working_time(working, clock.running_since, max(warn_left, 0))


def _set_next_check(clock: SlaClock) -> None:
    if clock.state != ClockState.RUNNING:
        clock.next_check_at = None
    elif clock.warned_at is None and clock.warn_at is not None:
        clock.next_check_at = clock.warn_at
    elif clock.breached_at is None:
        clock.next_check_at = clock.due_at
    else:
        clock.next_check_at = None


def _change(clock: SlaClock, kind: str, at: datetime, **data: Any) -> ClockChange:
    if clock.due_at and "due_at" not in data:
        data["due_at"] = clock.due_at.isoformat()
    return ClockChange(
        ticket_id=clock.ticket_id,
        clock_id=clock.pk,
        kind=kind,
        agreement=clock.agreement,
        metric=clock.metric,
        partner_id=clock.partner_id,
        at=at,
        data=data,
    )


def _thresholds_now(
    clock: SlaClock, now: datetime, reason: str, *, elapsed: bool = False
) -> list[ClockChange]:
    """Record, once per cycle, a warning or breach the clock has reached by ``now``.

    With ``elapsed``, time simply passed and the sweep has not run yet: the threshold is
    dated at its own instant, as the sweep would have dated it. Otherwise a change (recompute,
    resume, calendar edit) moved a deadline into the past, and the threshold is dated at the
    change and attributed to ``reason``. A warning is reached at ``warn_at``; a breach only
    after ``due_at``, since a clock stopped exactly at its due is met.
    """
    changes: list[ClockChange] = []
    for kind, deadline, attr in (
        (ThresholdKind.WARNING, clock.warn_at, "warned_at"),
        (ThresholdKind.BREACH, clock.due_at, "breached_at"),
    ):
        if deadline is None or getattr(clock, attr) is not None:
            continue
        reached = deadline < now if kind == ThresholdKind.BREACH else deadline <= now
        if not reached:
            continue
        at = deadline if elapsed else now
        threshold, created = ClockThreshold.objects.get_or_create(
            clock=clock,
            kind=kind,
            cycle=clock.cycle,
            defaults={"reached_at": at, "recorded_at": now},
        )
        setattr(clock, attr, at)
        if created:
            changes.append(_change(clock, str(kind), at, reason=reason, threshold_id=threshold.pk))
    _set_next_check(clock)
    return changes


_CLOCK_FIELDS = [
    "state",
    "target_seconds",
    "warning_threshold",
    "consumed_seconds",
    "running_since",
    "due_at",
    "warn_at",
    "next_check_at",
    "warned_at",
    "breached_at",
    "stopped_at",
    "cycle",
    "started_at",
    "policy",
]


def _save(clock: SlaClock) -> None:
    clock.save(update_fields=_CLOCK_FIELDS)


# --- lifecycle -----------------------------------------------------------------------------


def _new_clock(
    *,
    terms: TicketTerms,
    agreement: str,
    metric: str,
    target: int,
    threshold,
    calendar: BusinessCalendar,
    context: CalendarContext,
    at: datetime,
    policy: SlaPolicy | None = None,
    partner_id: int | None = None,
    access_calendar: BusinessCalendar | None = None,
) -> SlaClock:
    clock = SlaClock(
        ticket_id=terms.ticket_id,
        agreement=agreement,
        partner_id=partner_id,
        metric=metric,
        policy=policy,
        calendar=calendar,
        access_calendar=access_calendar,
        time_zone=calendar_zone(calendar, context),
        holiday_region=calendar_holiday_region(calendar, context),
        target_seconds=target,
        warning_threshold=threshold,
        state=ClockState.RUNNING,
        started_at=at,
        running_since=at,
    )
    _schedule(clock, clock_working_time(clock), at)
    clock.save()
    return clock


def _sla_targets(policy: SlaPolicy, needs_visit: bool) -> list[tuple[str, int]]:
    targets = [(Metric.RESPONSE, policy.response_seconds)]
    if needs_visit and policy.arrival_seconds is not None:
        targets.append((Metric.ARRIVAL, policy.arrival_seconds))
    targets.append((Metric.RESOLUTION, policy.resolution_seconds))
    return targets


def sla_clocks_start(*, terms: TicketTerms, at: datetime) -> list[ClockChange]:
    """Start the client SLA clocks of a new ticket (none when its contract has no policy)."""
    policy, store = _policy_and_store(terms, at)
    if policy is None:
        return []
    context = _store_context(store)
    changes = []
    for metric, target in _sla_targets(policy, terms.needs_visit):
        clock = _new_clock(
            terms=terms,
            agreement=Agreement.SLA,
            metric=metric,
            target=target,
            threshold=policy.warning_threshold,
            calendar=policy.calendar,
            context=context,
            at=at,
            policy=policy,
            access_calendar=store.access_calendar if metric == Metric.ARRIVAL else None,
        )
        changes.append(_change(clock, "started", at, target_seconds=target))
    return changes


def ola_clocks_start(
    *, terms: TicketTerms, partner_id: int, at: datetime, with_acceptance: bool
) -> list[ClockChange]:
    """Start a partner's OLA clocks when it is offered or given the job, never earlier."""
    contract = _partner_contract(partner_id, at)
    if contract is None:
        return []
    sla_policy, store = _policy_and_store(terms, at)
    context = _store_context(store)
    calendar = contract.ola_calendar or (sla_policy.calendar if sla_policy else None)
    if calendar is None:
        return []
    threshold = sla_policy.warning_threshold if sla_policy else "0.75"
    targets: list[tuple[str, int | None]] = [
        (Metric.ACCEPTANCE, contract.accept_within_seconds if with_acceptance else None),
        (Metric.ARRIVAL, contract.arrive_within_seconds if terms.needs_visit else None),
        (Metric.RESOLUTION, contract.resolve_within_seconds),
    ]
    changes = []
    for metric, target in targets:
        if target is None:
            continue
        clock = _new_clock(
            terms=terms,
            agreement=Agreement.OLA,
            metric=metric,
            target=target,
            threshold=threshold,
            calendar=calendar,
            context=context,
            at=at,
            partner_id=partner_id,
            access_calendar=store.access_calendar if metric == Metric.ARRIVAL else None,
        )
        changes.append(_change(clock, "started", at, target_seconds=target))
    return changes


def _partner_contract(partner_id: int, at: datetime) -> PartnerContract | None:
    day = at.date()
    return (
        PartnerContract.objects.filter(partner_id=partner_id, is_active=True, starts_on__lte=day)
        .exclude(ends_on__lt=day)
        .select_related("ola_calendar")
        .order_by("-starts_on")
        .first()
    )


def _active_clocks(ticket_id: int, **filters: Any) -> list[SlaClock]:
    return list(
        SlaClock.objects.select_for_update(of=("self",))
        .filter(ticket_id=ticket_id, state__in=ACTIVE_STATES, **filters)
        .select_related("calendar", "access_calendar")
        .order_by("pk")
    )


def clocks_pause(*, ticket_id: int, status: str, at: datetime) -> list[ClockChange]:
    """Pause the ticket's running clocks: bank the working time, clear the deadlines."""
    # Clocks started while the ticket already waits (a partner given a waiting ticket) join
    # the pause that is open; otherwise this opens one.
    if not SlaPause.objects.filter(ticket_id=ticket_id, ended_at__isnull=True).exists():
        SlaPause.objects.create(ticket_id=ticket_id, started_at=at, status=status)
    changes = []
    for clock in _active_clocks(ticket_id, state=ClockState.RUNNING):
        changes += _thresholds_now(clock, at, reason="elapsed", elapsed=True)
        working = clock_working_time(clock)
        clock.consumed_seconds += bt.working_seconds_between(working, clock.running_since, at)
        clock.running_since = None
        clock.state = ClockState.PAUSED
        if clock.breached_at is None:
            clock.due_at = None
        if clock.warned_at is None:
            clock.warn_at = None
        _set_next_check(clock)
        _save(clock)
        changes.append(_change(clock, "paused", at, consumed_seconds=clock.consumed_seconds))
    return changes


def clocks_resume(*, ticket_id: int, at: datetime) -> list[ClockChange]:
    """Resume paused clocks: deadlines from now for what is left of each target."""
    SlaPause.objects.filter(ticket_id=ticket_id, ended_at__isnull=True).update(ended_at=at)
    changes = []
    for clock in _active_clocks(ticket_id, state=ClockState.PAUSED):
        clock.state = ClockState.RUNNING
        clock.running_since = at
        _schedule(clock, clock_working_time(clock), at)
        changes.append(_change(clock, "resumed", at))
        changes += _thresholds_now(clock, at, reason="resumed")
        _save(clock)
    return changes


def clocks_stop(
    *,
    ticket_id: int,
    metrics: Iterable[str],
    at: datetime,
    agreement: str | None = None,
    partner_id: int | None = None,
) -> list[ClockChange]:
    """Stop clocks because their goal was reached: met if at or before due, else missed."""
    filters: dict[str, Any] = {"metric__in": list(metrics)}
    if agreement:
        filters["agreement"] = agreement
    if partner_id is not None:
        filters["partner_id"] = partner_id
    changes = []
    for clock in _active_clocks(ticket_id, **filters):
        if clock.state == ClockState.RUNNING:
            changes += _thresholds_now(clock, at, reason="elapsed", elapsed=True)
            working = clock_working_time(clock)
            clock.consumed_seconds += bt.working_seconds_between(working, clock.running_since, at)
        met = clock.breached_at is None and clock.consumed_seconds <= clock.target_seconds
        clock.state = ClockState.MET if met else ClockState.BREACHED
        clock.running_since = None
        clock.stopped_at = at
        clock.next_check_at = None
        _save(clock)
        overdue = max(clock.consumed_seconds - clock.target_seconds, 0)
        changes.append(_change(clock, "met" if met else "missed", at, overdue_seconds=overdue))
    return changes


def clocks_cancel(
    *, ticket_id: int, at: datetime, agreement: str | None = None, partner_id: int | None = None
) -> list[ClockChange]:
    """Stop clocks that no longer apply (ticket cancelled, partner taken off the job).

    A breach already recorded stays recorded against whoever held the clock.
    """
    filters: dict[str, Any] = {}
    if agreement:
        filters["agreement"] = agreement
    if partner_id is not None:
        filters["partner_id"] = partner_id
    if not filters:  # the whole ticket stops counting: its open pause ends too
        SlaPause.objects.filter(ticket_id=ticket_id, ended_at__isnull=True).update(ended_at=at)
    changes = []
    for clock in _active_clocks(ticket_id, **filters):
        if clock.state == ClockState.RUNNING:
            # A partner late by now is late even if the sweep has not noticed yet.
            changes += _thresholds_now(clock, at, reason="elapsed", elapsed=True)
            working = clock_working_time(clock)
            clock.consumed_seconds += bt.working_seconds_between(working, clock.running_since, at)
        clock.state = ClockState.BREACHED if clock.breached_at else ClockState.CANCELLED
        clock.running_since = None
        clock.stopped_at = at
        clock.next_check_at = None
        _save(clock)
        changes.append(_change(clock, "cancelled", at))
    return changes


def sla_clocks_restart(*, terms: TicketTerms, at: datetime) -> list[ClockChange]:
    """Reopen: the resolution clock starts a new cycle; response and arrival stay as they were."""
    changes = clocks_cancel(ticket_id=terms.ticket_id, at=at, agreement=Agreement.SLA)
    policy, store = _policy_and_store(terms, at)
    if policy is None:
        return changes
    last = (
        SlaClock.objects.filter(
            ticket_id=terms.ticket_id, agreement=Agreement.SLA, metric=Metric.RESOLUTION
        )
        .order_by("-cycle")
        .first()
    )
    clock = _new_clock(
        terms=terms,
        agreement=Agreement.SLA,
        metric=Metric.RESOLUTION,
        target=policy.resolution_seconds,
        threshold=policy.warning_threshold,
        calendar=policy.calendar,
        context=_store_context(store),
        at=at,
        policy=policy,
    )
    if last is not None:
        clock.cycle = last.cycle + 1
        _save(clock)
    changes.append(_change(clock, "restarted", at, cycle=clock.cycle))
    return changes


def sla_clocks_recompute(*, terms: TicketTerms, at: datetime, reason: str) -> list[ClockChange]:
    """Priority, category or store changed: recount the SLA clocks from their original start
    with the new targets and the pauses already recorded. A deadline that is now in the past
    is a breach at once, recorded once and attributed to ``reason``."""
    policy, store = _policy_and_store(terms, at)
    if policy is None:
        return []
    context = _store_context(store)
    targets = dict(_sla_targets(policy, terms.needs_visit))
    pauses = _pauses(terms.ticket_id)
    changes = []
    for clock in _active_clocks(terms.ticket_id, agreement=Agreement.SLA):
        if clock.metric not in targets:
            continue
        clock.policy = policy
        clock.calendar = policy.calendar
        clock.time_zone = calendar_zone(policy.calendar, context)
        clock.holiday_region = calendar_holiday_region(policy.calendar, context)
        clock.target_seconds = targets[clock.metric]
        clock.warning_threshold = policy.warning_threshold
        working = clock_working_time(clock)
        previous_due = clock.due_at
        clock.consumed_seconds = bt.working_seconds_between(working, clock.started_at, at, pauses)
        if clock.state == ClockState.RUNNING:
            clock.running_since = at
            if clock.breached_at is None:
                clock.due_at = bt.add_working_time(
                    working, clock.started_at, clock.target_seconds, pauses
                )
            if clock.warned_at is None:
                clock.warn_at = bt.add_working_time(
                    working, clock.started_at, _warn_seconds(clock), pauses
                )
            _set_next_check(clock)
        changes.append(
            _change(
                clock,
                "recomputed",
                at,
                reason=reason,
                target_seconds=clock.target_seconds,
                previous_due_at=previous_due.isoformat() if previous_due else None,
            )
        )
        if clock.state == ClockState.RUNNING:
            changes += _thresholds_now(clock, at, reason=reason)
        clock.save(update_fields=[*_CLOCK_FIELDS, "calendar", "time_zone", "holiday_region"])
    return changes


# --- the sweep -----------------------------------------------------------------------------

_SWEEP_SQL = """
WITH picked AS (
    SELECT id,
           (warned_at IS NULL AND warn_at <= %(now)s) AS new_warning,
           (breached_at IS NULL AND due_at < %(now)s) AS new_breach
    FROM sla_slaclock
    WHERE next_check_at IS NOT NULL AND next_check_at <= %(now)s
    ORDER BY next_check_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
),
marked AS (
    UPDATE sla_slaclock AS c SET
        warned_at = CASE WHEN p.new_warning THEN c.warn_at ELSE c.warned_at END,
        breached_at = CASE WHEN p.new_breach THEN c.due_at ELSE c.breached_at END,
        next_check_at = CASE
            WHEN p.new_breach OR c.breached_at IS NOT NULL THEN NULL
            ELSE c.due_at END
    FROM picked AS p
    WHERE c.id = p.id
    RETURNING c.id, c.ticket_id, c.cycle, c.warn_at, c.due_at, c.agreement, c.metric,
              c.partner_id, p.new_warning, p.new_breach
),
recorded AS (
    INSERT INTO sla_clockthreshold (clock_id, kind, cycle, reached_at, recorded_at)
    SELECT id, 'warning', cycle, warn_at, %(now)s FROM marked WHERE new_warning
    UNION ALL
    SELECT id, 'breach', cycle, due_at, %(now)s FROM marked WHERE new_breach
    ON CONFLICT (clock_id, kind, cycle) DO NOTHING
    RETURNING id, clock_id, kind, reached_at
),
new_thresholds AS (
    SELECT r.id AS threshold_id, r.clock_id, r.kind, r.reached_at,
           m.ticket_id, m.agreement, m.metric, m.partner_id
    FROM recorded AS r JOIN marked AS m ON m.id = r.clock_id
)
{follow_up}
SELECT threshold_id, clock_id, kind, reached_at, ticket_id, agreement, metric, partner_id
FROM new_thresholds
ORDER BY ticket_id, reached_at, threshold_id
"""


@dataclass(frozen=True)
class Threshold:
    threshold_id: int
    clock_id: int
    kind: str
    reached_at: datetime
    ticket_id: int
    agreement: str
    metric: str
    partner_id: int | None

    def as_change(self) -> ClockChange:
        return ClockChange(
            ticket_id=self.ticket_id,
            clock_id=self.clock_id,
            kind=self.kind,
            agreement=self.agreement,
            metric=self.metric,
            partner_id=self.partner_id,
            at=self.reached_at,
            data={"threshold_id": self.threshold_id},
        )


def sweep_sql(follow_up: str = "") -> str:
    """The sweep statement, with the floor above's follow-up CTEs (see ``sweep_batch``)."""
    return _SWEEP_SQL.replace("{follow_up}", follow_up)


def sweep_batch(
    *,
    now: datetime | None = None,
    batch: int = 5000,
    follow_up: str = "",
    params: dict[str, Any] | None = None,
) -> list[Threshold]:
    """Mark one batch of clocks whose warning or due time has passed; return what is new.

    Set-based: one statement over the partial index takes due rows with SKIP LOCKED, moves
    their next check on and inserts each threshold once (ON CONFLICT DO NOTHING), so two
    sweeps at the same moment never record the same warning or breach twice. Run it inside
    the caller's transaction so the follow-up work commits with the marks.

    ``follow_up`` lets the floor above add data-modifying CTEs (``, name AS (INSERT …
    SELECT … FROM new_thresholds)``) that write its own consequences in the same statement;
    this floor does not know what they are.
    """
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sweep_sql(follow_up), {"now": now, "batch": batch, **(params or {})})
        rows = cursor.fetchall()
    return [Threshold(*row) for row in rows]


def validate_ola_against_sla(contract: PartnerContract) -> None:
    """Refuse an OLA looser than any client SLA it underpins (same metric, same seconds)."""
    checks = [
        ("arrive_within_seconds", "arrival_seconds", _("arrival")),
        ("resolve_within_seconds", "resolution_seconds", _("resolution")),
    ]
    today = timezone.localdate()
    # Targets are compared as seconds; calendars may differ (documented limitation).
    policies = SlaPolicy.objects.filter(contract__is_active=True).exclude(
        contract__ends_on__lt=today
    )
    errors: dict[str, list[str]] = {}
    for ola_field, sla_field, label in checks:
        ola = getattr(contract, ola_field)
        if ola is None:
            continue
        tightest = (
            policies.exclude(**{f"{sla_field}__isnull": True})
            .order_by(sla_field)
            .values_list(sla_field, "contract__client__name", "priority")
            .first()
        )
        if tightest and ola > tightest[0]:
            errors[ola_field] = [
                _(
                    "The partner's %(metric)s target (%(ola)s s) is looser than the client SLA "
                    "it underpins: %(client)s %(priority)s promises %(sla)s s."
                )
                % {
                    "metric": label,
                    "ola": ola,
                    "client": tightest[1],
                    "priority": tightest[2].upper(),
                    "sla": tightest[0],
                }
            ]
    if errors:
        raise ValidationFailed(_("The OLA is looser than the client SLA."), fields=errors)


@transaction.atomic
def clocks_follow_calendar_edit(
    *, calendar_id: int, now: datetime, chunk: int = 500
) -> list[ClockChange]:
    """After an effective-dated calendar edit, move the deadlines of the running clocks that
    count in it. The calendar keeps its old hours before the edit's instant, so the working
    time a clock consumed so far is unchanged and only the rest counts on the new hours.
    Only this calendar's clocks are read, in primary-key chunks."""
    changes: list[ClockChange] = []
    last_id = 0
    in_calendar = Q(calendar_id=calendar_id) | Q(access_calendar_id=calendar_id)
    while True:
        clocks = list(
            SlaClock.objects.select_for_update(of=("self",))
            .filter(in_calendar, state=ClockState.RUNNING, pk__gt=last_id)
            .select_related("calendar", "access_calendar")
            .order_by("pk")[:chunk]
        )
        if not clocks:
            return changes
        for clock in clocks:
            previous_due = clock.due_at
            _schedule(clock, clock_working_time(clock), now)
            if clock.due_at != previous_due:
                changes.append(
                    _change(
                        clock,
                        "recomputed",
                        now,
                        reason="calendar_edit",
                        previous_due_at=previous_due.isoformat() if previous_due else None,
                    )
                )
            changes += _thresholds_now(clock, now, reason="calendar_edit")
            _save(clock)
        last_id = clocks[-1].pk


# =========================================================================================
# Policy management, the reverse OLA check and the deadline preview
# (the SLA API and admin call these; added with the calendars/policies management work).
# =========================================================================================

_POLICY_FIELDS = (
    "contract_id",
    "priority",
    "category",
    "response_seconds",
    "arrival_seconds",
    "resolution_seconds",
    "calendar_id",
    "warning_threshold",
    "pause_statuses",
)
# The seconds a year-long target needs are far below this; anything above is a typo.
MAX_TARGET_SECONDS = 10 * 366 * 24 * 3600


def _require_provider_admin(actor: Actor | None) -> None:
    """Policies are the provider's commercial terms: only its administrators change them."""
    if actor is None or actor.role != Role.PROVIDER_ADMIN:
        raise PermissionDenied(_("Only provider administrators manage SLA policies."))


def sla_policy_validate(policy: SlaPolicy, *, allowed_statuses: Collection[str]) -> None:
    """Refuse a policy that would count wrongly, with a message per field.

    Guarantees when it returns: targets are positive whole seconds, the warning threshold
    lies strictly between 0 and 1, the pause statuses are known ticket statuses (the caller
    passes them: ticket statuses live on a higher floor) and include ``waiting_client``, the
    contract and calendar exist, no other policy has the same contract × priority ×
    category, and no partner's OLA underpinning the policy is looser than it.
    """
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in ("response_seconds", "resolution_seconds", "arrival_seconds"):
        value = getattr(policy, name)
        if value is None:
            if name != "arrival_seconds":
                add(name, _("A target is required."))
        elif not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            add(name, _("A target must be a positive number of seconds."))
        elif value > MAX_TARGET_SECONDS:
            add(name, _("A target must not exceed ten years."))
    threshold = policy.warning_threshold
    if threshold is None or not Decimal(0) < Decimal(str(threshold)) < Decimal(1):
        add("warning_threshold", _("The warning threshold must lie between 0 and 1, e.g. 0.75."))
    statuses = list(policy.pause_statuses or [])
    unknown = sorted(set(statuses) - set(allowed_statuses))
    if unknown:
        add(
            "pause_statuses",
            _("Unknown ticket statuses: %(statuses)s.") % {"statuses": ", ".join(unknown)},
        )
    if "waiting_client" not in statuses:
        add("pause_statuses", _("The clock must pause at least while waiting for the client."))
    if len(set(statuses)) != len(statuses):
        add("pause_statuses", _("A status is listed twice."))
    if not ClientContract.objects.filter(pk=policy.contract_id).exists():
        add("contract", _("Unknown client contract: %(id)s.") % {"id": policy.contract_id})
    if not BusinessCalendar.objects.filter(pk=policy.calendar_id).exists():
        add("calendar", _("Unknown calendar: %(id)s.") % {"id": policy.calendar_id})
    clash = SlaPolicy.objects.filter(
        contract_id=policy.contract_id, priority=policy.priority, category=policy.category
    ).exclude(pk=policy.pk)
    if policy.contract_id and clash.exists():
        add("category", _policy_clash_message(policy))
    if not errors:
        errors.update(_olas_looser_than(policy))
    if errors:
        raise ValidationFailed(_("The SLA policy is not valid."), fields=errors)


def _policy_clash_message(policy: SlaPolicy) -> str:
    return _("This contract already has a policy for %(priority)s and %(category)s.") % {
        "priority": str(policy.priority).upper(),
        "category": policy.category or _("every other category"),
    }


def _olas_looser_than(policy: SlaPolicy) -> dict[str, list[str]]:
    """The reverse of ``validate_ola_against_sla``: a client target below a partner's OLA
    for the same metric would be promised on a partner contract that allows more time."""
    checks = [
        ("arrival_seconds", "arrive_within_seconds", _("arrival")),
        ("resolution_seconds", "resolve_within_seconds", _("resolution")),
    ]
    contracts = PartnerContract.objects.filter(is_active=True)
    errors: dict[str, list[str]] = {}
    for sla_field, ola_field, label in checks:
        target = getattr(policy, sla_field)
        if target is None:
            continue
        loosest = (
            contracts.filter(**{f"{ola_field}__gt": target})
            .order_by(f"-{ola_field}")
            .values_list(ola_field, "partner__name", "number")
            .first()
        )
        if loosest:
            errors[sla_field] = [
                _(
                    "This %(metric)s target (%(sla)s s) is tighter than the OLA that underpins "
                    "it: partner %(partner)s (contract %(number)s) has %(ola)s s. Tighten the "
                    "partner contract first."
                )
                % {
                    "metric": label,
                    "sla": target,
                    "partner": loosest[1],
                    "number": loosest[2],
                    "ola": loosest[0],
                }
            ]
    return errors


def _policy_save(policy: SlaPolicy) -> SlaPolicy:
    """Insert or update; a concurrent duplicate is a field error, never a 500."""
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError as exc:
        if "sla_policy_unique" in str(exc):
            raise ValidationFailed(
                _("The SLA policy is not valid."),
                fields={"category": [_policy_clash_message(policy)]},
            ) from None
        raise
    return policy


@transaction.atomic
def sla_policy_create(
    *,
    actor: Actor | None,
    contract_id: int,
    priority: str,
    response_seconds: int,
    resolution_seconds: int,
    calendar_id: int,
    allowed_statuses: Collection[str],
    category: str = "",
    arrival_seconds: int | None = None,
    warning_threshold: Decimal = Decimal("0.75"),
    pause_statuses: list[str] | None = None,
) -> SlaPolicy:
    """Create a policy after ``sla_policy_validate``; provider admins only.

    Clocks already running keep the targets they started with; new tickets and
    reclassifications use the new policy.
    """
    _require_provider_admin(actor)
    policy = SlaPolicy(
        contract_id=contract_id,
        priority=priority,
        category=category,
        response_seconds=response_seconds,
        arrival_seconds=arrival_seconds,
        resolution_seconds=resolution_seconds,
        calendar_id=calendar_id,
        warning_threshold=warning_threshold,
        pause_statuses=list(pause_statuses or default_pause_statuses()),
    )
    sla_policy_validate(policy, allowed_statuses=allowed_statuses)
    return _policy_save(policy)


@transaction.atomic
def sla_policy_update(
    *,
    actor: Actor | None,
    policy_id: int,
    allowed_statuses: Collection[str],
    **changes: Any,
) -> SlaPolicy:
    """Change some of a policy's fields (``contract_id``, ``priority``, … as in create)."""
    _require_provider_admin(actor)
    policy = SlaPolicy.objects.select_for_update().filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(_("SLA policy not found."))
    unknown = set(changes) - set(_POLICY_FIELDS)
    if unknown:  # pragma: no cover - a programming error in an interface
        raise TypeError(f"sla_policy_update got unknown fields: {sorted(unknown)}")
    for name, value in changes.items():
        setattr(policy, name, value)
    sla_policy_validate(policy, allowed_statuses=allowed_statuses)
    return _policy_save(policy)


@transaction.atomic
def sla_policy_delete(*, actor: Actor | None, policy_id: int) -> None:
    """Delete a policy; clocks that counted under it keep their targets (policy set null)."""
    _require_provider_admin(actor)
    deleted, _rows = SlaPolicy.objects.filter(pk=policy_id).delete()
    if not deleted:
        raise NotFound(_("SLA policy not found."))


@dataclass(frozen=True)
class DeadlinePreview:
    """When one target falls due and warns, counted exactly as a real clock counts it."""

    metric: str
    target_seconds: int
    warning_seconds: int
    due_at: datetime
    warn_at: datetime
    calendar: BusinessCalendar
    access_calendar: BusinessCalendar | None


@dataclass(frozen=True)
class StorePreview:
    """Question (a): "when will you be there?" for a store, priority and category."""

    store: Store
    policy: SlaPolicy
    start: datetime
    time_zone: str
    targets: list[DeadlinePreview]


def _no_working_time(exc: Exception, field_name: str) -> ValidationFailed:
    """A target that can never be used up is the caller's calendar choice: a 400 naming it."""
    reason = exc.message if isinstance(exc, ValidationFailed) else str(exc)
    message = _("The target can never be reached on this calendar: %(reason)s") % {"reason": reason}
    return ValidationFailed(message, code="no_working_time", fields={field_name: [message]})


def sla_preview_for_store(
    *, store: Store, priority: str, category: str, start: datetime
) -> StorePreview:
    """Each target's due and warning instants had a ticket been opened at ``start``.

    Uses the very functions a new ticket's clocks use (policy lookup, zone resolution,
    calendar, the store's access window for arrival, ``_schedule``), on unsaved clocks, so
    the preview cannot drift from what the engine will do. Arrival is included whenever the
    policy has an arrival target (a ticket that needs a visit).
    """
    policy = policy_for(
        client_id=store.client_id,
        priority=priority,
        category=category,
        on=start,
        time_zone=store.time_zone,
    )
    if policy is None:
        message = _("The client has no SLA policy for %(priority)s on %(day)s.") % {
            "priority": priority.upper(),
            "day": start.date().isoformat(),
        }
        raise ValidationFailed(message, code="no_policy", fields={"priority": [message]})
    context = _store_context(store)
    targets = []
    for metric, target in _sla_targets(policy, needs_visit=True):
        clock = SlaClock(
            agreement=Agreement.SLA,
            metric=metric,
            policy=policy,
            calendar=policy.calendar,
            access_calendar=store.access_calendar if metric == Metric.ARRIVAL else None,
            time_zone=calendar_zone(policy.calendar, context),
            holiday_region=calendar_holiday_region(policy.calendar, context),
            target_seconds=target,
            warning_threshold=policy.warning_threshold,
            state=ClockState.RUNNING,
            started_at=start,
            running_since=start,
        )
        try:
            _schedule(clock, clock_working_time(clock), start)
        except (bt.NoWorkingTime, ValidationFailed) as exc:
            if isinstance(exc, ValidationFailed) and exc.code != "no_working_time":
                raise
            raise _no_working_time(exc, "store") from None
        assert clock.due_at is not None and clock.warn_at is not None
        targets.append(
            DeadlinePreview(
                metric=metric,
                target_seconds=target,
                warning_seconds=_warn_seconds(clock),
                due_at=clock.due_at,
                warn_at=clock.warn_at,
                calendar=policy.calendar,
                access_calendar=clock.access_calendar,
            )
        )
    return StorePreview(
        store=store,
        policy=policy,
        start=start,
        time_zone=calendar_zone(policy.calendar, context),
        targets=targets,
    )


@dataclass(frozen=True)
class CalculatorPreview:
    """Question (b): the business-time calculator on one calendar."""

    calendar: BusinessCalendar
    time_zone: str
    start: datetime
    target_seconds: int
    warning_seconds: int
    due_at: datetime
    warn_at: datetime


def sla_preview_calculator(
    *,
    calendar: BusinessCalendar,
    start: datetime,
    target_seconds: int,
    pauses: list[tuple[datetime, datetime | None]] | None = None,
    time_zone: str = "",
    store: Store | None = None,
    threshold: Decimal = Decimal("0.75"),
) -> CalculatorPreview:
    """Due and warning instants of ``target_seconds`` counted from ``start`` on ``calendar``
    minus ``pauses``, as a recomputed clock counts them (``add_working_time`` from the start
    with the pauses). A calendar in "the store's own" zone needs a ``store`` or a
    ``time_zone``; a calendar with its own zone ignores both for counting."""
    if calendar.uses_store_zone and store is None and not time_zone:
        message = _(
            "Calendar “%(name)s” counts in the store's own time zone: give a store or a time_zone."
        ) % {"name": calendar.name}
        raise ValidationFailed(message, fields={"time_zone": [message]})
    context = _store_context(store) if store else CalendarContext(time_zone=time_zone)
    zone = calendar_zone(calendar, context)
    working = calendar_working_time(
        calendar, zone=zone, holiday_region=calendar_holiday_region(calendar, context)
    )
    warn_seconds = bt.warning_seconds(target_seconds, threshold)
    try:
        due = bt.add_working_time(working, start, target_seconds, pauses or ())
        warn = bt.add_working_time(working, start, warn_seconds, pauses or ())
    except bt.NoWorkingTime as exc:
        raise _no_working_time(exc, "target_seconds") from None
    return CalculatorPreview(
        calendar=calendar,
        time_zone=zone,
        start=start,
        target_seconds=target_seconds,
        warning_seconds=warn_seconds,
        due_at=due,
        warn_at=warn,
    )
