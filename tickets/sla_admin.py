"""Provider-admin operations on calendars and SLA clocks that also write ticket timelines.

``calendars`` and ``sla`` sit below ``tickets`` and cannot write TicketEvents, so the use
cases that change hours or recount clocks *and* must leave an entry on every affected
ticket are orchestrated here: the calendar or clock change goes through its own service,
and every ``ClockChange`` it returns becomes an SLA event through
``tickets.clocks.clock_events_record``, in the same transaction.

``actor=None`` is a trusted interface with no request actor (the admin site, which has its
own permissions, or a management command run by an operator); an API caller always has an
actor, and it must be a provider administrator.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calendars import services as calendar_services
from calendars.models import BusinessCalendar, CalendarException
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import NotFound, PermissionDenied, ValidationFailed
from sla import corrections
from sla import services as sla
from sla.models import SlaClock, SlaPause
from tickets.choices import EventKind
from tickets.clocks import clock_events_record
from tickets.models import Ticket, TicketEvent

# --- calendar edits ------------------------------------------------------------------------


def _calendar(calendar_id: int) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.filter(pk=calendar_id).first()
    if calendar is None:
        raise NotFound(_("Calendar not found."))
    return calendar


def _record(actor: Actor | None, changes: Iterable[sla.ClockChange]) -> int:
    """Write each ticket's clock changes to its timeline; returns how many were written."""
    by_ticket: dict[int, list[sla.ClockChange]] = defaultdict(list)
    for change in changes:
        by_ticket[change.ticket_id].append(change)
    tickets = Ticket.objects.in_bulk(list(by_ticket))
    written = 0
    for ticket_id, ticket_changes in sorted(by_ticket.items()):
        written += len(
            clock_events_record(ticket=tickets[ticket_id], actor=actor, changes=ticket_changes)
        )
    return written


def calendar_follow_edit(*, actor: Actor | None, calendar_id: int, now: datetime) -> int:
    """Move the running clocks counting in the calendar to its current hours and record
    the moves on their tickets. Returns the number of timeline entries written."""
    changes = sla.clocks_follow_calendar_edit(calendar_id=calendar_id, now=now)
    return _record(actor, changes)


@transaction.atomic
def calendar_edit_week(
    *,
    actor: Actor | None,
    calendar_id: int,
    intervals: list[tuple[int, time, time]],
    effective_from: datetime | None = None,
    now: datetime | None = None,
) -> BusinessCalendar:
    """Replace the weekly hours from ``effective_from`` (default: now) and move the running
    clocks: what they consumed stays, the rest counts on the new hours. Each moved clock
    leaves a "recomputed" SLA event (reason ``calendar_edit``) on its ticket."""
    calendar_services.calendar_admin_check(actor)
    calendar = _calendar(calendar_id)
    now = now or timezone.now()
    if calendar.always_open and intervals:
        message = _("A 24×7 calendar has no weekly hours.")
        raise ValidationFailed(message, fields={"intervals": [message]})
    calendar_services.calendar_week_check(intervals)
    calendar_services.calendar_set_week(
        calendar=calendar, intervals=intervals, effective_from=effective_from or now
    )
    calendar_follow_edit(actor=actor, calendar_id=calendar.pk, now=now)
    return calendar


@transaction.atomic
def calendar_update(
    *,
    actor: Actor | None,
    calendar_id: int,
    name: str | None = None,
    intervals: list[tuple[int, time, time]] | None = None,
    effective_from: datetime | None = None,
    now: datetime | None = None,
) -> BusinessCalendar:
    """Rename and/or replace the weekly hours (see ``calendar_edit_week``), atomically."""
    calendar_services.calendar_admin_check(actor)
    _calendar(calendar_id)
    if name is not None:
        calendar_services.calendar_rename(actor=actor, calendar_id=calendar_id, name=name)
    if intervals is not None:
        calendar_edit_week(
            actor=actor,
            calendar_id=calendar_id,
            intervals=intervals,
            effective_from=effective_from,
            now=now,
        )
    return _calendar(calendar_id)


@transaction.atomic
def calendar_edit_add_exception(
    *,
    actor: Actor | None,
    calendar_id: int,
    day: date,
    kind: str,
    opens: time | None = None,
    closes: time | None = None,
    note: str = "",
    now: datetime | None = None,
) -> CalendarException:
    """Add a day off or a day's own hours, then move the running clocks of the calendar."""
    calendar_services.calendar_admin_check(actor)
    calendar = _calendar(calendar_id)
    row = calendar_services.calendar_exception_add(
        calendar=calendar, day=day, kind=kind, opens=opens, closes=closes, note=note
    )
    calendar_follow_edit(actor=actor, calendar_id=calendar.pk, now=now or timezone.now())
    return row


@transaction.atomic
def calendar_edit_remove_exception(
    *, actor: Actor | None, calendar_id: int, exception_id: int, now: datetime | None = None
) -> None:
    """Remove a dated exception, then move the running clocks of the calendar."""
    calendar_services.calendar_admin_check(actor)
    calendar = _calendar(calendar_id)
    calendar_services.calendar_exception_remove(calendar=calendar, exception_id=exception_id)
    calendar_follow_edit(actor=actor, calendar_id=calendar.pk, now=now or timezone.now())


# --- the correction tool -------------------------------------------------------------------


@dataclass(frozen=True)
class CorrectionRow:
    """One clock in the report: who, which agreement and metric, before and after."""

    ticket_id: int
    reference: str
    clock_id: int
    agreement: str
    metric: str
    partner_id: int | None
    cycle: int
    before: corrections.ClockSide
    after: corrections.ClockSide
    changed: bool


@dataclass(frozen=True)
class CorrectionReport:
    """What a correction found (dry run) or did (applied)."""

    dry_run: bool
    now: datetime
    rows: list[CorrectionRow]

    @property
    def changed(self) -> int:
        return sum(row.changed for row in self.rows)


REFERENCE = re.compile(r"^(?P<code>[A-Z]{2,5})-0*(?P<number>\d{1,9})$")


def correction_ticket_ids(
    *,
    references: Sequence[str] = (),
    client_code: str | None = None,
    since: date | None = None,
) -> list[int]:
    """Ticket ids for the command line: references such as ``GMT-000123``, and/or every
    ticket of a client created on or after ``since`` (both only for trusted callers)."""
    ids: list[int] = []
    unknown: list[str] = []
    for reference in references:
        match = REFERENCE.match(reference.strip().upper())
        ticket_id = None
        if match:
            ticket_id = (
                Ticket.objects.filter(client__code=match["code"], number=int(match["number"]))
                .values_list("pk", flat=True)
                .first()
            )
        if ticket_id is None:
            unknown.append(reference)
        else:
            ids.append(ticket_id)
    if unknown:
        message = _("Unknown tickets: %(refs)s.") % {"refs": ", ".join(unknown)}
        raise ValidationFailed(message, fields={"tickets": [message]})
    if client_code:
        qs = Ticket.objects.filter(client__code=client_code.upper())
        if since is not None:
            qs = qs.filter(created_at__date__gte=since)
        ids += list(qs.order_by("pk").values_list("pk", flat=True))
    return sorted(set(ids))


def _cancelled_clock_ids(ticket_ids: list[int]) -> set[int]:
    """Clocks that stopped because they no longer applied: their timeline says so."""
    rows = TicketEvent.objects.filter(
        ticket_id__in=ticket_ids, kind=EventKind.SLA, data__change="cancelled"
    ).values_list("data__clock_id", flat=True)
    return {int(clock_id) for clock_id in rows if clock_id is not None}


def _pauses_by_ticket(ticket_ids: list[int]) -> dict[int, corrections.Pauses]:
    pauses: dict[int, corrections.Pauses] = defaultdict(list)
    rows = SlaPause.objects.filter(ticket_id__in=ticket_ids).order_by("started_at")
    for ticket_id, started, ended in rows.values_list("ticket_id", "started_at", "ended_at"):
        pauses[ticket_id].append((started, ended))
    return pauses


def clocks_correction(
    *,
    actor: Actor | None,
    ticket_ids: Sequence[int],
    dry_run: bool = True,
    now: datetime | None = None,
) -> CorrectionReport:
    """Recount every clock of the chosen tickets (closed ones included) from its start on
    its calendar as it is now, with its own target and the ticket's recorded pauses.

    ``dry_run`` (the default) reports before/after due times and outcomes and writes
    nothing: it even runs in a transaction that is rolled back. Applying writes each
    changed clock and one SLA event per changed clock (reason ``calendar_correction``),
    plus the warning/breach a running clock has now reached, under the tickets' row locks.
    """
    if actor is not None and actor.role != Role.PROVIDER_ADMIN:
        raise PermissionDenied(_("Only provider administrators correct SLA clocks."))
    now = now or timezone.now()
    wanted = sorted({int(pk) for pk in ticket_ids})
    with transaction.atomic():
        tickets_qs = Ticket.objects.filter(pk__in=wanted).select_related("client").order_by("pk")
        if not dry_run:
            tickets_qs = tickets_qs.select_for_update(of=("self",))
        tickets = {ticket.pk: ticket for ticket in tickets_qs}
        missing = [pk for pk in wanted if pk not in tickets]
        if missing:
            message = _("Unknown tickets: %(ids)s.") % {"ids": ", ".join(map(str, missing))}
            raise ValidationFailed(message, fields={"tickets": [message]})
        clocks = SlaClock.objects.filter(ticket_id__in=wanted).select_related(
            "calendar", "access_calendar"
        )
        if not dry_run:
            clocks = clocks.select_for_update(of=("self",))
        pauses = _pauses_by_ticket(wanted)
        cancelled = _cancelled_clock_ids(wanted)
        rows: list[CorrectionRow] = []
        changes: list[sla.ClockChange] = []
        for clock in clocks.order_by("ticket_id", "agreement", "partner_id", "cycle", "metric"):
            plan = corrections.correction_plan(
                clock,
                pauses=pauses.get(clock.ticket_id, []),
                stopped_by_cancel=clock.pk in cancelled,
                now=now,
            )
            rows.append(_row(tickets[clock.ticket_id], plan))
            if plan.changed and not dry_run:
                changes += corrections.correction_apply(plan, now=now)
        _record(actor, changes)
        if dry_run:
            transaction.set_rollback(True)  # belt and braces: a dry run leaves no trace
    return CorrectionReport(dry_run=dry_run, now=now, rows=rows)


def _row(ticket: Ticket, plan: corrections.ClockCorrection) -> CorrectionRow:
    clock = plan.clock
    return CorrectionRow(
        ticket_id=ticket.pk,
        reference=ticket.reference,
        clock_id=clock.pk,
        agreement=clock.agreement,
        metric=clock.metric,
        partner_id=clock.partner_id,
        cycle=clock.cycle,
        before=plan.before,
        after=plan.after,
        changed=plan.changed,
    )
