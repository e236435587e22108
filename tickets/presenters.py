"""What the HTML pages show about a ticket: the moves an actor may make and a readable timeline.

Nothing here decides anything the services do not: ``allowed_moves`` reads the same
``ALLOWED_TRANSITIONS`` and ``ROLE_MOVES`` as ``tickets.services._check_move``, so a button is
never offered for a move the service would refuse.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from calendars import business_time as bt
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.models import User
from servicedesk.templatetags.sd import duration, local_time
from servicedesk.timezones import is_valid_time_zone
from sla.choices import Agreement, ClockState, Metric
from sla.models import SlaClock
from sla.services import clock_working_time
from tickets import selectors
from tickets.choices import EventKind, Priority, TicketStatus
from tickets.constants import ALLOWED_TRANSITIONS, FINAL_STATUSES, ROLE_MOVES
from tickets.models import Attachment, Comment, Ticket, TicketEvent

S = TicketStatus

# The order buttons appear in: the usual way forward first, the way out last.
_MOVE_ORDER = [
    S.ACCEPTED,
    S.EN_ROUTE,
    S.ON_SITE,
    S.RESOLVED,
    S.CLOSED,
    S.ASSIGNED,
    S.NEW,
    S.WAITING_CLIENT,
    S.CANCELLED,
]
# Statuses that only make sense with a partner on the job: no button without one (the
# assignment form gives the job to a partner, which also moves the ticket to "assigned").
_NEEDS_PARTNER = frozenset({S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})

_VISIT_STEPS = {
    "en_route": gettext_lazy("Engineer on the way"),
    "checked_in": gettext_lazy("Engineer checked in at the store"),
    "checked_out": gettext_lazy("Engineer checked out"),
    "eta": gettext_lazy("Arrival time set"),
    "reported": gettext_lazy("Work report written"),
    "signed_off": gettext_lazy("Work signed off by the store"),
}

# Mirrors the status check of ``tickets.services.ticket_assign``.
_ASSIGNABLE = frozenset({S.NEW, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.WAITING_CLIENT})

_MOVE_LABELS = {
    S.NEW: gettext_lazy("Return to queue"),
    S.ASSIGNED: gettext_lazy("Mark as assigned"),
    S.ACCEPTED: gettext_lazy("Accept the job"),
    S.EN_ROUTE: gettext_lazy("On the way"),
    S.ON_SITE: gettext_lazy("Arrived on site"),
    S.WAITING_CLIENT: gettext_lazy("Wait for the client"),
    S.RESOLVED: gettext_lazy("Mark as resolved"),
    S.CLOSED: gettext_lazy("Confirm and close"),
    S.CANCELLED: gettext_lazy("Cancel the ticket"),
}


def allowed_moves(actor: Actor, ticket: Ticket) -> list[str]:
    """The statuses ``actor`` may move ``ticket`` to, by the rules of ``_check_move``."""
    targets = ALLOWED_TRANSITIONS.get(ticket.status, frozenset())
    moves = []
    for to_status in _MOVE_ORDER:
        if to_status not in targets or to_status == ticket.status:
            continue
        if actor.is_provider:
            moves.append(to_status)
            continue
        client_answers = (
            actor.is_client
            and ticket.status == S.WAITING_CLIENT
            and to_status == (ticket.status_before_wait or S.NEW)
        )
        if (ticket.status, to_status) in ROLE_MOVES.get(actor.role, frozenset()) or client_answers:
            moves.append(to_status)
    return [str(m) for m in moves]


@dataclass(frozen=True)
class StatusAction:
    """One status button: where it moves the ticket, what it says and how loud it is."""

    to_status: str
    label: str
    style: str  # "primary" | "secondary" | "danger"


def status_actions(actor: Actor, ticket: Ticket) -> list[StatusAction]:
    """Buttons for ``allowed_moves``, worded for people, the first way forward emphasised."""
    actions: list[StatusAction] = []
    for to_status in allowed_moves(actor, ticket):
        if to_status in _NEEDS_PARTNER and ticket.partner_id is None:
            continue
        if ticket.status == S.RESOLVED and to_status == S.NEW:
            label = _("Reopen")
        elif ticket.status == S.WAITING_CLIENT and actor.is_client and to_status != S.CANCELLED:
            label = _("I have answered: continue")
        elif ticket.status == S.WAITING_CLIENT and to_status not in (S.RESOLVED, S.CANCELLED):
            label = _("Resume: %(status)s") % {"status": S(to_status).label}
        else:
            label = str(_MOVE_LABELS[to_status])
        style = "danger" if to_status == S.CANCELLED else "secondary"
        actions.append(StatusAction(to_status, label, style))
    forward = [a for a in actions if a.style == "secondary" and a.to_status != S.WAITING_CLIENT]
    if forward and ticket.status not in FINAL_STATUSES:
        first = forward[0]
        actions[actions.index(first)] = StatusAction(first.to_status, first.label, "primary")
    return actions


def can_create_ticket(actor: Actor) -> bool:
    """Who gets the "new ticket" page: as ``ticket_create`` allows, provider staff and clients."""
    return actor.is_provider or actor.is_client


def assigns_jobs(actor: Actor) -> bool:
    """Who may give a job to someone: as ``ticket_assign`` allows."""
    return actor.is_provider or actor.role == Role.PARTNER_MANAGER


def can_assign_partner(actor: Actor, ticket: Ticket) -> bool:
    """Provider staff give jobs to partners while the ticket is still before the visit."""
    return actor.is_provider and ticket.status in _ASSIGNABLE


def can_name_engineer(actor: Actor, ticket: Ticket) -> bool:
    """A partner manager names the engineer on its own jobs."""
    return (
        actor.role == Role.PARTNER_MANAGER
        and ticket.partner_id == actor.organisation_id
        and ticket.status in _ASSIGNABLE
    )


@dataclass
class TimelineEntry:
    """One readable line of the timeline."""

    event: TicketEvent
    title: str
    detail: str = ""
    comment: Comment | None = None
    attachment: Attachment | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def at(self) -> datetime:
        return self.event.created_at

    @property
    def is_internal(self) -> bool:
        return self.event.is_internal

    @property
    def author(self) -> str:
        user: User | None = self.event.actor
        if user is None:
            return _("System")
        return user.get_full_name() or user.get_username()

    @property
    def role_label(self) -> str:
        role = self.event.actor_role
        return str(Role(role).label) if role in Role.values else ""


def _label(choices, value: Any) -> str:
    return str(choices(value).label) if value in choices.values else str(value or "—")


def _event_title(event: TicketEvent, ticket: Ticket) -> tuple[str, str]:
    """(title, detail) of an event, worded per kind; unknown kinds fall back to their label."""
    data = event.data or {}
    kind = event.kind
    if kind == EventKind.CREATED:
        return _("Ticket created"), _("Priority: %(priority)s") % {
            "priority": _label(Priority, data.get("priority"))
        }
    if kind in (EventKind.STATUS_CHANGED, EventKind.REOPENED):
        title = _("Status: %(from)s → %(to)s") % {
            "from": _label(S, data.get("from")),
            "to": _label(S, data.get("to")),
        }
        if kind == EventKind.REOPENED:
            title = _("Reopened. %(change)s") % {"change": title}
        return title, data.get("note", "")
    if kind == EventKind.ASSIGNED:
        title = _("Assigned to %(partner)s") % {"partner": data.get("partner", "—")}
        engineer = ""
        if data.get("engineer_id") and data.get("engineer_id") == ticket.engineer_id:
            engineer = _("Engineer: %(name)s") % {"name": ticket.engineer}
        return title, engineer
    if kind == EventKind.UNASSIGNED:
        return _("%(partner)s taken off the job") % {"partner": data.get("partner", "—")}, ""
    if kind == EventKind.PRIORITY_CHANGED:
        return _("Priority: %(from)s → %(to)s") % {
            "from": _label(Priority, data.get("from")),
            "to": _label(Priority, data.get("to")),
        }, ""
    if kind == EventKind.COMMENTED:
        return (_("Internal note") if event.is_internal else _("Comment")), ""
    if kind == EventKind.ATTACHED:
        return _("File attached: %(name)s") % {"name": data.get("name", "")}, ""
    if kind == EventKind.SLA and data.get("metric") in Metric.values:
        return _clock_event_title(data, ticket.store.time_zone)
    if kind == EventKind.VISIT_UPDATED and data.get("step") in _VISIT_STEPS:
        return str(_VISIT_STEPS[data["step"]]), data.get("note", "")
    label = _label(EventKind, kind)
    if data.get("partner"):
        return f"{label}: {data['partner']}", data.get("reason", "") or data.get("note", "")
    return label, data.get("note", "")


_CLOCK_CHANGES = {
    "started": gettext_lazy("clock started"),
    "paused": gettext_lazy("paused"),
    "resumed": gettext_lazy("resumed"),
    "recomputed": gettext_lazy("recalculated"),
    "restarted": gettext_lazy("restarted"),
    "warning": gettext_lazy("at risk: the warning point has passed"),
    "breach": gettext_lazy("breached: the due time has passed"),
    "met": gettext_lazy("met"),
    "missed": gettext_lazy("missed"),
    "cancelled": gettext_lazy("stopped"),
}
_CLOCK_REASONS = {
    "priority_changed": gettext_lazy("the priority changed"),
    "category_changed": gettext_lazy("the category changed"),
    "priority_category_changed": gettext_lazy("the priority and category changed"),
    "store_changed": gettext_lazy("the store changed"),
    "calendar_edit": gettext_lazy("the working hours changed"),
    "resumed": gettext_lazy("the clock resumed after its due time"),
}


def _clock_event_title(data: dict[str, Any], zone: str) -> tuple[str, str]:
    """ "Response, client SLA: met" and what goes with it (the due, the overdue time…)."""
    change = data.get("change", "")
    title = _("%(metric)s (%(agreement)s): %(change)s") % {
        "metric": _label(Metric, data.get("metric")),
        "agreement": _label(Agreement, data.get("agreement")),
        "change": _CLOCK_CHANGES.get(change, change),
    }
    details = []
    if data.get("reason"):
        reason = data["reason"]
        details.append(_("Why: %(reason)s") % {"reason": _CLOCK_REASONS.get(reason, reason)})
    if change == "missed" and data.get("overdue_seconds"):
        details.append(_("Late by %(time)s") % {"time": duration(data["overdue_seconds"])})
    elif change == "paused" and "consumed_seconds" in data:
        details.append(_("Used so far: %(time)s") % {"time": duration(data["consumed_seconds"])})
    elif change in ("started", "resumed", "recomputed", "restarted") and data.get("due_at"):
        due = _parse_instant(data["due_at"])
        if due is not None:
            details.append(_("Due %(at)s") % {"at": local_time(due, zone)})
    return title, " · ".join(details)


def _parse_instant(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def timeline(actor: Actor, ticket: Ticket) -> list[TimelineEntry]:
    """The ticket's events as ``actor`` may see them, comments and files joined in.

    Three queries whatever the length: events, comments, attachments.
    """
    comments = {c.pk: c for c in selectors.ticket_comments(actor=actor, ticket=ticket)}
    attachments = {a.pk: a for a in selectors.ticket_attachments(actor=actor, ticket=ticket)}
    entries = []
    for event in selectors.ticket_events(actor=actor, ticket=ticket):
        data = event.data or {}
        comment = (
            comments.get(data.get("comment_id")) if event.kind == EventKind.COMMENTED else None
        )
        if event.kind == EventKind.COMMENTED and comment is None:
            continue  # not visible to this actor
        title, detail = _event_title(event, ticket)
        entries.append(
            TimelineEntry(
                event=event,
                title=title,
                detail=detail,
                comment=comment,
                attachment=attachments.get(data.get("attachment_id")),
                data=data,
            )
        )
    return entries


# --- SLA clocks ------------------------------------------------------------------------------

# How far ahead to look for the next opening or closing of a clock's calendar.
_CHANGE_HORIZON = timedelta(days=8)
_METRIC_ORDER = {m: i for i, m in enumerate(Metric.values)}

_CLOCK_STATES = {
    "running": gettext_lazy("Running"),
    "at_risk": gettext_lazy("At risk"),
    "overdue": gettext_lazy("Overdue"),
    "paused": gettext_lazy("Paused"),
    "met": gettext_lazy("Met"),
    "breached": gettext_lazy("Breached"),
    "cancelled": pgettext_lazy("SLA clock", "Cancelled"),
}


@dataclass(frozen=True)
class ClockReading:
    """A clock read at ``now``, in working seconds of its own calendar.

    ``consumed`` adds the working time since ``running_since`` to what the clock banked;
    ``remaining`` and ``overdue`` are what is left of the target and how far past it
    (one of them is 0). ``counting`` says the calendar is open at ``now`` and the clock
    runs; ``next_change`` is when that flips next (a closing while counting, an opening
    while not), so a countdown knows when to stop or start without a calendar of its own.
    """

    clock: SlaClock
    consumed_seconds: int
    remaining_seconds: int
    overdue_seconds: int
    counting: bool = False
    next_change: datetime | None = None


def clock_reading(clock: SlaClock, now: datetime) -> ClockReading:
    """Read ``clock`` at ``now`` with the SLA engine's own calendar and arithmetic.

    Only running clocks need their calendar (built once per calendar version and cached by
    ``calendars.services``); paused and stopped ones are read from the row as they are.
    """
    consumed = clock.consumed_seconds
    counting = False
    next_change = None
    if clock.state == ClockState.RUNNING and clock.running_since is not None:
        working = clock_working_time(clock)
        consumed += bt.working_seconds_between(working, clock.running_since, now)
        counting = bt.is_working(working, now)
        next_change = _next_change(working, now, counting)
    left = clock.target_seconds - consumed
    return ClockReading(
        clock=clock,
        consumed_seconds=consumed,
        remaining_seconds=max(left, 0),
        overdue_seconds=max(-left, 0),
        counting=counting,
        next_change=next_change,
    )


def _next_change(working: bt.WorkingTime, now: datetime, counting: bool) -> datetime | None:
    """The closing of the interval ``now`` is in, or the next opening; None beyond a week."""
    horizon = now + _CHANGE_HORIZON
    first = next(iter(working.working_intervals(now, horizon)), None)
    if first is None:
        return None
    start, end = first
    if not counting:
        return start
    return end if end < horizon else None


def clock_readings(clocks: list[SlaClock], now: datetime) -> list[ClockReading]:
    """Read a ticket's clocks (from ``selectors.ticket_clocks``), calendars loaded in bulk."""
    running = [c for c in clocks if c.state == ClockState.RUNNING]
    # No query when the selector already joined them in; else one per relation, not per clock.
    prefetch_related_objects(running, "calendar")
    prefetch_related_objects([c for c in running if c.access_calendar_id], "access_calendar")
    return [clock_reading(clock, now) for clock in clocks]


def clock_state(reading: ClockReading, now: datetime) -> str:
    """What a person should read off the clock: a key of ``_CLOCK_STATES``.

    A running clock past its due is "overdue" (whether or not the sweep has recorded the
    breach yet); one past its warning point is "at risk". A stopped clock keeps its
    stored outcome: met, breached (it stopped past its target) or cancelled.
    """
    clock = reading.clock
    if clock.state == ClockState.RUNNING:
        due_passed = clock.due_at is not None and clock.due_at <= now
        if due_passed or reading.overdue_seconds or clock.breached_at is not None:
            return "overdue"
        warned = clock.warned_at is not None or (clock.warn_at is not None and clock.warn_at <= now)
        return "at_risk" if warned else "running"
    return str(clock.state) if clock.state in _CLOCK_STATES else "cancelled"


@dataclass(frozen=True)
class ClockRow:
    """One line of the ticket's SLA panel."""

    reading: ClockReading
    state: str
    metric_label: str
    agreement_label: str
    partner_name: str
    show_viewer_time: bool

    @property
    def clock(self) -> SlaClock:
        return self.reading.clock

    @property
    def state_label(self) -> str:
        return str(_CLOCK_STATES[self.state])

    @property
    def is_live(self) -> bool:
        return self.state in ("running", "at_risk", "overdue")

    @property
    def breach_recorded(self) -> bool:
        """A paused clock can carry a breach from before the pause: say so next to it."""
        return self.clock.breached_at is not None and self.state == "paused"


@dataclass(frozen=True)
class ClockGroup:
    """The clocks of one agreement: the client SLA, or one partner's OLA."""

    title: str
    rows: list[ClockRow]


@dataclass(frozen=True)
class ClockPanel:
    """The ticket page's SLA panel: rows, the zones its times are shown in, and ``now``."""

    rows: list[ClockRow]
    now: datetime
    zone: str
    viewer_zone: str

    @property
    def live(self) -> bool:
        """Whether anything on the panel still moves (then the page refreshes it)."""
        return any(row.is_live for row in self.rows)

    @property
    def groups(self) -> list[ClockGroup]:
        """Rows by agreement, in panel order: "Client SLA", "Partner OLA · <partner>"."""
        groups: list[ClockGroup] = []
        for row in self.rows:
            title = row.agreement_label
            if row.partner_name:
                title = f"{title} · {row.partner_name}"
            if not groups or groups[-1].title != title:
                groups.append(ClockGroup(title=title, rows=[]))
            groups[-1].rows.append(row)
        return groups


def _offset(instant: datetime, zone: str) -> timedelta | None:
    return instant.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset()


def clock_panel(actor: Actor, ticket: Ticket, *, now: datetime, viewer_zone: str) -> ClockPanel:
    """The clocks ``actor`` may see on ``ticket`` (``selectors.ticket_clocks`` scopes them),
    read at ``now``; times are the store's, with the viewer's own where its offset differs.

    Flat in the number of clocks: one query for the clocks, one for their calendars
    unless the selector joined them in, and the calendar rules only the first time a
    calendar version is read in this process.
    """
    zone = ticket.store.time_zone
    viewer_zone = viewer_zone if viewer_zone and is_valid_time_zone(viewer_zone) else zone
    clocks = selectors.ticket_clocks(actor=actor, ticket=ticket)
    clocks.sort(
        key=lambda c: (
            c.agreement != Agreement.SLA,
            c.partner.name if c.partner else "",
            c.partner_id or 0,
            _METRIC_ORDER.get(c.metric, 99),
            -c.cycle,
            c.pk,
        )
    )
    rows = []
    for reading in clock_readings(clocks, now):
        clock = reading.clock
        metric = _label(Metric, clock.metric)
        if clock.cycle > 1:
            metric = _("%(metric)s, cycle %(cycle)s") % {"metric": metric, "cycle": clock.cycle}
        # The instant the row shows: the due while running, the stop once stopped.
        shown_at = clock.due_at if clock.state == ClockState.RUNNING else clock.stopped_at
        rows.append(
            ClockRow(
                reading=reading,
                state=clock_state(reading, now),
                metric_label=metric,
                agreement_label=_label(Agreement, clock.agreement),
                partner_name=clock.partner.name if clock.partner and actor.is_provider else "",
                show_viewer_time=bool(
                    shown_at and _offset(shown_at, viewer_zone) != _offset(shown_at, zone)
                ),
            )
        )
    return ClockPanel(rows=rows, now=now, zone=zone, viewer_zone=viewer_zone)


# --- the list's "due" column ------------------------------------------------------------------


@dataclass(frozen=True)
class DueCell:
    """The list's "due" cell: the nearest running client SLA due and how it stands."""

    due_at: datetime | None
    state: str  # running | at_risk | overdue | paused | "" (nothing running)
    breached: bool

    @property
    def state_label(self) -> str:
        return str(_CLOCK_STATES[self.state]) if self.state else ""


def due_cell(ticket: Ticket, now: datetime) -> DueCell:
    """From the ``filtersets.with_sla_due`` annotations of one list row."""
    due_at = getattr(ticket, "sla_due_at", None)
    breached = bool(getattr(ticket, "sla_breached", False))
    if due_at is not None:
        if due_at <= now:
            state = "overdue"
        elif getattr(ticket, "sla_due_warned_at", None) is not None:
            state = "at_risk"
        else:
            state = "running"
        return DueCell(due_at=due_at, state=state, breached=breached and state != "overdue")
    state = "paused" if getattr(ticket, "sla_paused", False) else ""
    return DueCell(due_at=None, state=state, breached=breached)


def list_rows(tickets: Iterable[Ticket], now: datetime) -> list[Ticket]:
    """The page's tickets, each with its ``sla_due`` cell (no query: annotations only)."""
    rows = list(tickets)
    for ticket in rows:
        ticket.sla_due = due_cell(ticket, now)  # type: ignore[attr-defined]
    return rows
