"""SLA test data: preset calendars, a client contract with a policy, tickets with clocks.

Tickets whose clocks must start at a known instant are bare rows (``TicketFactory``) with
that ``created_at``, then started through the same hook ``ticket_create`` calls
(``tickets.clocks.on_created``), so the clocks are the engine's own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from calendars.models import BusinessCalendar
from calendars.services import calendar_presets_ensure
from sla.models import SlaPolicy
from tests.factories import ClientContractFactory, TicketFactory
from tickets import clocks
from tickets.models import Ticket

H = 3600


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def presets(db) -> dict[str, BusinessCalendar]:
    return calendar_presets_ensure()


@pytest.fixture
def make_policy(world) -> Callable[..., SlaPolicy]:
    """A policy on a fresh contract of ``client`` (client A by default)."""

    def make(calendar: BusinessCalendar, client=None, **fields) -> SlaPolicy:
        contract = ClientContractFactory(client=client or world.client_a)
        values = {
            "priority": "p2",
            "category": "",
            "response_seconds": 2 * H,
            "resolution_seconds": 8 * H,
        }
        values.update(fields)
        return SlaPolicy.objects.create(contract=contract, calendar=calendar, **values)

    return make


@pytest.fixture
def ticket_opened_at(world) -> Callable[..., Ticket]:
    """A ticket created at ``at`` whose SLA clocks the engine started at that instant."""

    def make(store, at: datetime, **fields) -> Ticket:
        # Numbers well above the ones ``ticket_create`` issued to the world's tickets.
        number = Ticket.objects.filter(client=store.client).count() + 500
        fields = {"priority": "p2", "number": number, **fields}
        ticket = TicketFactory(store=store, created_at=at, **fields)
        clocks.on_created(ticket=ticket, actor=world.actor("dispatcher"))
        return ticket

    return make
