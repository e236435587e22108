"""Correcting clocks after a calendar mistake: recount from the start on the corrected calendar.

A calendar *edit* takes effect from an instant and leaves consumed time alone
(``sla.services.clocks_follow_calendar_edit``). A *correction* is different: the calendar was
wrong, so a provider admin recounts chosen tickets' clocks, closed ones included, from
each clock's ``started_at`` with its own target, on its calendar as it is now, minus the
ticket's recorded pauses. ``correction_plan`` computes before and after without writing
anything (the dry run); ``correction_apply`` writes one plan and returns the clock changes
for the ticket timeline (``tickets.sla_admin`` records them as events).

Rules (the same as the live engine's):

* a clock stopped because its goal was reached is met if stopped at or before the new due,
  otherwise breached;
* a clock stopped because it no longer applied (ticket cancelled, partner taken off the
  job) stays cancelled unless the new due fell before it stopped: then it is breached;
* a running clock gets new deadlines from its start; a deadline now in the past is recorded
  at once through the same threshold recording as a recompute (``_thresholds_now``); a
  warning or breach the corrected calendar no longer reaches is withdrawn;
* a paused clock is breached only if its target was used up before the pause that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from calendars import business_time as bt
from servicedesk.exceptions import ValidationFailed
from sla.choices import ClockState, ThresholdKind
from sla.models import ACTIVE_STATES, ClockThreshold, SlaClock

# The engine's own helpers, so a correction records thresholds and changes exactly as a
# recompute does.
from sla.services import ClockChange, _change, _set_next_check, _thresholds_now, clock_working_time

REASON = "calendar_correction"
Pauses = list[tuple[datetime, datetime | None]]

_FIELDS = [
    "state",
    "consumed_seconds",
    "running_since",
    "due_at",
    "warn_at",
    "next_check_at",
    "warned_at",
    "breached_at",
]


@dataclass(frozen=True)
class ClockSide:
    """A clock's deadlines and outcome on one side of the correction."""

    state: str
    due_at: datetime | None
    warn_at: datetime | None
    breached: bool
    consumed_seconds: int

    @property
    def outcome(self) -> str:
        """``met``/``breached``/``cancelled`` once stopped; ``breached`` or ``pending`` before."""
        if self.state not in ACTIVE_STATES:
            return self.state
        return ClockState.BREACHED.value if self.breached else "pending"


@dataclass(frozen=True)
class ClockCorrection:
    """One clock's before and after, and the field values that turn one into the other."""

    clock: SlaClock
    before: ClockSide
    after: ClockSide
    values: dict[str, Any]

    @property
    def changed(self) -> bool:
        b, a = self.before, self.after
        return (b.state, b.due_at, b.warn_at, b.breached) != (
            a.state,
            a.due_at,
            a.warn_at,
            a.breached,
        )


def _side(clock: SlaClock) -> ClockSide:
    return ClockSide(
        state=clock.state,
        due_at=clock.due_at,
        warn_at=clock.warn_at,
        breached=clock.breached_at is not None or clock.state == ClockState.BREACHED,
        consumed_seconds=clock.consumed_seconds,
    )


def _until(pauses: Pauses, end: datetime) -> Pauses:
    """Pauses as they stood when a clock stopped at ``end``: later ones never touched it."""
    return [(s, end if e is None or e > end else e) for s, e in pauses if s < end]


def _add(working: bt.WorkingTime, clock: SlaClock, seconds: int, pauses: Pauses) -> datetime:
    try:
        return bt.add_working_time(working, clock.started_at, seconds, pauses)
    except bt.NoWorkingTime as exc:
        raise ValidationFailed(
            _("Clock %(id)s cannot be recounted: %(reason)s") % {"id": clock.pk, "reason": exc},
            code="no_working_time",
        ) from None


def correction_plan(
    clock: SlaClock, *, pauses: Pauses, stopped_by_cancel: bool, now: datetime
) -> ClockCorrection:
    """What recounting ``clock`` from its start would change; writes nothing.

    ``pauses`` are the ticket's recorded pauses (``SlaPause``), an open one with ``None``;
    ``stopped_by_cancel`` says a stopped clock was cancelled rather than reaching its goal
    (the clock row does not know; the ticket's timeline does).
    """
    stopped_by_cancel = stopped_by_cancel or clock.state == ClockState.CANCELLED
    working = clock_working_time(clock)
    target = clock.target_seconds
    warn_target = bt.warning_seconds(target, clock.warning_threshold)
    values: dict[str, Any] = {}
    if clock.state not in ACTIVE_STATES:
        assert clock.stopped_at is not None
        end = clock.stopped_at
        held = _until(pauses, end)
        due = _add(working, clock, target, held)
        warn = _add(working, clock, warn_target, held)
        breached = due < end if stopped_by_cancel else end > due
        if stopped_by_cancel:
            state = ClockState.BREACHED if breached else ClockState.CANCELLED
        else:
            state = ClockState.BREACHED if breached else ClockState.MET
        values = {
            "state": state,
            "consumed_seconds": bt.working_seconds_between(working, clock.started_at, end, held),
            "due_at": due,
            "warn_at": warn,
            "breached_at": (clock.breached_at or due) if breached else None,
            "warned_at": (clock.warned_at or warn) if warn < end else None,
        }
    elif clock.state == ClockState.RUNNING:
        due = _add(working, clock, target, pauses)
        warn = _add(working, clock, warn_target, pauses)
        values = {
            "state": clock.state,
            "consumed_seconds": bt.working_seconds_between(working, clock.started_at, now, pauses),
            "running_since": now,
            "due_at": due,
            "warn_at": warn,
            # Kept only while still reached; a newly reached one is recorded on apply.
            "breached_at": clock.breached_at if due <= now else None,
            "warned_at": clock.warned_at if warn <= now else None,
        }
        breached = due <= now
    else:  # paused: the open pause holds it, so only time before that pause can breach it
        due = _reached(working, clock.started_at, target, pauses)
        warn = _reached(working, clock.started_at, warn_target, pauses)
        breached = due is not None
        values = {
            "state": clock.state,
            "consumed_seconds": bt.working_seconds_between(working, clock.started_at, now, pauses),
            "due_at": due,
            "warn_at": warn,
            "breached_at": clock.breached_at if breached else None,
            "warned_at": clock.warned_at if warn is not None else None,
        }
    after = ClockSide(
        state=values["state"],
        due_at=values["due_at"],
        warn_at=values["warn_at"],
        breached=breached,
        consumed_seconds=values["consumed_seconds"],
    )
    return ClockCorrection(clock=clock, before=_side(clock), after=after, values=values)


def _reached(
    working: bt.WorkingTime, start: datetime, seconds: int, pauses: Pauses
) -> datetime | None:
    """When a paused clock reached ``seconds``, or ``None`` if the open pause came first."""
    try:
        return bt.add_working_time(working, start, seconds, pauses)
    except bt.NoWorkingTime:
        return None


def correction_apply(correction: ClockCorrection, *, now: datetime) -> list[ClockChange]:
    """Write one planned correction: the clock, its threshold rows, and what changed.

    The caller holds the ticket's row lock. A warning or breach no longer reached loses
    its threshold row (the timeline keeps the history); one newly reached is recorded:
    at once for an active clock (``_thresholds_now``, with its own timeline entry), as the
    instant it was reached for a stopped one (no escalation for closed work).
    """
    clock, before = correction.clock, correction.before
    for name, value in correction.values.items():
        setattr(clock, name, value)
    for kind, attr in ((ThresholdKind.WARNING, "warned_at"), (ThresholdKind.BREACH, "breached_at")):
        if getattr(clock, attr) is None:
            ClockThreshold.objects.filter(clock=clock, kind=kind, cycle=clock.cycle).delete()
    changes: list[ClockChange] = [
        _change(
            clock,
            "recomputed",
            now,
            reason=REASON,
            previous_due_at=before.due_at.isoformat() if before.due_at else None,
            previous_outcome=before.outcome,
            outcome=correction.after.outcome,
            target_seconds=clock.target_seconds,
            consumed_seconds=clock.consumed_seconds,
        )
    ]
    if clock.state in ACTIVE_STATES:
        changes += _thresholds_now(clock, now, reason=REASON)
        _set_next_check(clock)
    else:
        for kind, attr in (
            (ThresholdKind.WARNING, "warned_at"),
            (ThresholdKind.BREACH, "breached_at"),
        ):
            reached = getattr(clock, attr)
            if reached is not None:
                ClockThreshold.objects.get_or_create(
                    clock=clock,
                    kind=kind,
                    cycle=clock.cycle,
                    defaults={"reached_at": reached, "recorded_at": now},
                )
    clock.save(update_fields=_FIELDS)
    return changes
