"""Shared set-up of the field-dispatch tests: the ``world`` plus SLA terms and partner OLAs.

Everything counts on the 24×7 calendar so instants are simple to work out by hand:
client A's P1 promises response 30 min, arrival 4 h, resolution 8 h; partners P and Q
promise acceptance 30 min, arrival 2 h, resolution 6 h (warnings at 75 %).

``T0`` = Mon 2026-12-07 07:00Z (10:00 in Moscow, UTC+3) is when the field ticket opens.
Partners P and Q both cover Moscow (capacity 5, one job each from the world), hold the
"cash-registers" certification and charge 3 500 ₽, so they tie on score (0.79) and P comes
first by name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine

from calendars.services import calendar_presets_ensure
from partners.models import Competency
from servicedesk.models import OutboxMessage
from servicedesk.outbox import outbox_relay
from sla.models import SlaClock, SlaPolicy
from tests.factories import ClientContractFactory
from tickets import dispatch, escalation, services
from tickets.models import Offer, Ticket

H = 3600
T0 = datetime(2026, 12, 7, 7, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """``T0`` plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def field_world(world, *, auto_dispatch: bool = True):
    """Add SLA terms, partner OLAs and the client's dispatch setting to ``world``."""
    presets = calendar_presets_ensure()
    contract = ClientContractFactory(client=world.client_a, starts_on="2025-01-01")
    SlaPolicy.objects.create(
        contract=contract,
        priority="p1",
        response_seconds=30 * 60,
        arrival_seconds=4 * H,
        resolution_seconds=8 * H,
        calendar=presets["24x7"],
    )
    for partner in (world.partner_p, world.partner_q):
        partner.contracts.update(
            accept_within_seconds=30 * 60,
            arrive_within_seconds=2 * H,
            resolve_within_seconds=6 * H,
        )
    world.client_a.auto_dispatch = auto_dispatch
    world.client_a.save(update_fields=["auto_dispatch"])
    world.client_b.auto_dispatch = False
    world.client_b.save(update_fields=["auto_dispatch"])
    world.contract = contract
    world.presets = presets
    world.competency = Competency.objects.get(code="cash-registers")
    return world


def open_field_ticket(world, when: datetime = T0, *, store=None, **fields: Any) -> Ticket:
    """A P1 field ticket for the cash-register competency, created at ``when``."""
    values = {"priority": "p1", "needs_visit": True, "competency_id": world.competency.pk}
    values.update(fields)
    with time_machine.travel(when, tick=False):
        ticket = services.ticket_create(
            actor=world.actor("dispatcher"),
            store_id=(store or world.store_a1).pk,
            subject="Касса не печатает чеки",
            **values,
        )
    ticket.refresh_from_db()
    return ticket


def live_offer(ticket: Ticket) -> Offer | None:
    return Offer.objects.filter(ticket=ticket, status="offered").first()


def ola(ticket: Ticket, metric: str, partner) -> SlaClock:
    return SlaClock.objects.filter(
        ticket=ticket, agreement="ola", metric=metric, partner=partner
    ).latest("pk")


def accept(world, offer: Offer, when: datetime, *, engineer: str = "engineer_p", eta=None):
    """The offer's partner manager accepts at ``when`` with an ETA an hour later."""
    manager = "partner_manager_p" if offer.partner_id == world.partner_p.pk else "partner_manager_q"
    with time_machine.travel(when, tick=False):
        return dispatch.offer_accept(
            actor=world.actor(manager),
            offer_id=offer.pk,
            engineer_id=world.users[engineer].pk,
            eta=eta or when + timedelta(hours=1),
        )


def sweep_and_escalate(when: datetime, capture) -> escalation.SweepResult:
    """Run the sweep at ``when`` and the escalations it queued, as Celery would: the outbox
    relay runs after commit (eager tasks in tests) and again on the beat tick. The tick is
    run here too because a test is one transaction: the outbox registers one relay per
    transaction, and the first sweep's stays registered."""
    with time_machine.travel(when, tick=False):
        with capture(execute=True):
            result = escalation.sla_sweep(now=when)
        outbox_relay()
    return result


def rerun_escalations(when: datetime) -> int:
    """Run every escalation message again (a redelivered task); new notifications."""
    new = 0
    with time_machine.travel(when, tick=False):
        for message in OutboxMessage.objects.filter(topic=escalation.ESCALATE_TOPIC):
            new += escalation.ticket_escalate(**message.payload)
    return new
