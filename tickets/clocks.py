"""How ticket changes drive the SLA engine, and how clock changes reach the timeline.

The ticket services call these inside their transaction: the SLA engine (``sla.services``)
moves the clocks and says what changed; every change becomes a TicketEvent here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from servicedesk.actors import Actor
from servicedesk.outbox import outbox_put
from sla import services as sla
from sla.choices import Agreement, Metric
from sla.models import SlaClock
from tickets.choices import EventKind, TicketStatus
from tickets.constants import ESCALATE_TOPIC
from tickets.events import events_record_many
from tickets.models import Ticket, TicketEvent

S = TicketStatus
DEFAULT_PAUSE_STATUSES = frozenset({S.WAITING_CLIENT})


def ticket_terms(ticket: Ticket) -> sla.TicketTerms:
    return sla.TicketTerms(
        ticket_id=ticket.pk,
        client_id=ticket.client_id,
        store_id=ticket.store_id,
        priority=ticket.priority,
        category=ticket.category,
        needs_visit=ticket.needs_visit,
    )


def clock_events_record(
    *, ticket: Ticket, actor: Actor | None, changes: Iterable[sla.ClockChange]
) -> list[TicketEvent]:
    """One SLA timeline entry per clock change. Partner OLA entries are the provider's own
    business with the partner, so clients do not see them."""
    events = [
        TicketEvent(
            ticket=ticket,
            kind=EventKind.SLA,
            actor_id=actor.user_id if actor else None,
            actor_role=actor.role if actor else "system",
            is_internal=change.agreement == Agreement.OLA,
            data=change.as_event_data(),
            created_at=change.at,
        )
        for change in changes
    ]
    _escalate_thresholds(ticket, changes)
    return events_record_many(events)


def _escalate_thresholds(ticket: Ticket, changes: Iterable[sla.ClockChange]) -> None:
    """A warning or breach recorded outside the sweep (a clock stopped or recomputed past its
    deadline before the sweep saw it) has the sweep's consequences: the same escalation
    message, under the same key, so whichever path records it, it is handled once."""
    threshold_ids = sorted(
        change.data["threshold_id"] for change in changes if "threshold_id" in change.data
    )
    if threshold_ids:
        outbox_put(
            topic=ESCALATE_TOPIC,
            key=f"escalate:{ticket.pk}:{threshold_ids[-1]}",
            payload={"ticket_id": ticket.pk, "threshold_ids": threshold_ids},
        )


def pause_statuses(ticket: Ticket) -> frozenset[str]:
    """The statuses that stop this ticket's clocks: its SLA policy's, or waiting_client."""
    lists = (
        SlaClock.objects.filter(ticket=ticket, agreement=Agreement.SLA, policy__isnull=False)
        .values_list("policy__pause_statuses", flat=True)
        .distinct()
    )
    statuses = frozenset(s for listed in lists for s in listed)
    return statuses or DEFAULT_PAUSE_STATUSES


def on_created(*, ticket: Ticket, actor: Actor) -> None:
    changes = sla.sla_clocks_start(terms=ticket_terms(ticket), at=ticket.created_at)
    clock_events_record(ticket=ticket, actor=actor, changes=changes)


def on_status_changed(
    *,
    ticket: Ticket,
    actor: Actor | None,
    from_status: str,
    to_status: str,
    previous_partner_id: int | None,
    at: datetime,
) -> None:
    """Stop, pause, resume, restart or cancel clocks for one status move."""
    terms = ticket_terms(ticket)
    changes: list[sla.ClockChange] = []
    pausing = pause_statuses(ticket)
    if to_status == S.CANCELLED:
        changes += sla.clocks_cancel(ticket_id=ticket.pk, at=at)
    elif from_status == S.RESOLVED and to_status == S.NEW:
        changes += sla.sla_clocks_restart(terms=terms, at=at)
    else:
        if from_status in pausing and to_status not in pausing:
            changes += sla.clocks_resume(ticket_id=ticket.pk, at=at)
        if previous_partner_id and ticket.partner_id != previous_partner_id:
            changes += sla.clocks_cancel(
                ticket_id=ticket.pk,
                at=at,
                agreement=Agreement.OLA,
                partner_id=previous_partner_id,
            )
        changes += _goals_reached(ticket, to_status, at)
        if to_status in pausing and from_status not in pausing:
            changes += sla.clocks_pause(ticket_id=ticket.pk, status=to_status, at=at)
    clock_events_record(ticket=ticket, actor=actor, changes=changes)


def _goals_reached(ticket: Ticket, to_status: str, at: datetime) -> list[sla.ClockChange]:
    """Acceptance meets the response and the partner's acceptance; on site meets arrival;
    resolved meets everything still running (a fix is also a response and an arrival)."""
    if to_status == S.ACCEPTED:
        return sla.clocks_stop(
            ticket_id=ticket.pk, metrics=[Metric.RESPONSE, Metric.ACCEPTANCE], at=at
        )
    if to_status == S.ON_SITE:
        return sla.clocks_stop(
            ticket_id=ticket.pk, metrics=[Metric.RESPONSE, Metric.ACCEPTANCE, Metric.ARRIVAL], at=at
        )
    if to_status == S.RESOLVED:
        return sla.clocks_stop(ticket_id=ticket.pk, metrics=list(Metric.values), at=at)
    return []


def on_assigned(
    *, ticket: Ticket, actor: Actor, previous_partner_id: int | None, at: datetime
) -> None:
    """A new partner holds the job: the old partner's OLA clocks stop (a breach already
    recorded stays against it) and the new partner's start now, never earlier."""
    if ticket.partner_id == previous_partner_id:
        return
    changes: list[sla.ClockChange] = []
    if previous_partner_id is not None:
        changes += sla.clocks_cancel(
            ticket_id=ticket.pk, at=at, agreement=Agreement.OLA, partner_id=previous_partner_id
        )
    changes += sla.ola_clocks_start(
        terms=ticket_terms(ticket),
        partner_id=ticket.partner_id,
        at=at,
        with_acceptance=ticket.status == S.ASSIGNED,
    )
    if ticket.status in pause_statuses(ticket):
        changes += sla.clocks_pause(ticket_id=ticket.pk, status=ticket.status, at=at)
    clock_events_record(ticket=ticket, actor=actor, changes=changes)


def on_first_response(*, ticket: Ticket, actor: Actor, at: datetime) -> None:
    changes = sla.clocks_stop(
        ticket_id=ticket.pk, metrics=[Metric.RESPONSE], at=at, agreement=Agreement.SLA
    )
    clock_events_record(ticket=ticket, actor=actor, changes=changes)


def on_reclassified(*, ticket: Ticket, actor: Actor, reason: str, at: datetime) -> None:
    changes = sla.sla_clocks_recompute(terms=ticket_terms(ticket), at=at, reason=reason)
    clock_events_record(ticket=ticket, actor=actor, changes=changes)
