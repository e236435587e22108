"""Concurrent writers on real threads, each with its own database connection.

A ``threading.Barrier`` releases the threads together so that they really race for the
same client row or ticket row; the database (row locks, the version column) decides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection

from clients.models import Client
from servicedesk.actors import Actor, resolve_actor
from servicedesk.exceptions import Conflict, InvalidTransition
from tests.factories import (
    ClientFactory,
    MembershipFactory,
    OrganisationFactory,
    PartnerFactory,
    StoreFactory,
)
from tickets import services
from tickets.models import Comment, Ticket, TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Setup:
    client: Client
    store: object
    dispatcher: Actor
    partner: object


@pytest.fixture
def setup() -> Setup:
    # Built here rather than through ``world``: these tests commit for real.
    client = ClientFactory(code="RACE")
    store = StoreFactory(client=client)
    provider = OrganisationFactory(kind="provider", name="Provider")
    membership = MembershipFactory(organisation=provider, role="dispatcher")
    return Setup(
        client=client,
        store=store,
        dispatcher=resolve_actor(membership.user),
        partner=PartnerFactory(),
    )


def run_together(*calls: Callable[[], object], timeout: float = 30) -> list[tuple[str, object]]:
    """Run ``calls`` on one thread each, released at once; [("ok", value) | ("error", exc)]."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, object] | None] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = ("ok", call())
        except Exception as exc:  # the test inspects every outcome
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    assert all(result is not None for result in results)
    return results  # type: ignore[return-value]


def _errors(results) -> list[Exception]:
    return [value for outcome, value in results if outcome == "error"]


def test_concurrent_creates_take_consecutive_unique_numbers(setup):
    # Given a client that already has three tickets
    for _ in range(3):
        services.ticket_create(actor=setup.dispatcher, store_id=setup.store.pk, subject="old")

    # When ten tickets are opened for it at the same moment
    def create(i: int) -> Callable[[], int]:
        return lambda: (
            services.ticket_create(
                actor=setup.dispatcher, store_id=setup.store.pk, subject=f"race {i}"
            ).number
        )

    results = run_together(*(create(i) for i in range(10)))

    # Then all succeed with the numbers 4..13, each once, and the sequence stops at 13
    assert _errors(results) == []
    assert sorted(value for _, value in results) == list(range(4, 14))
    numbers = sorted(Ticket.objects.filter(client=setup.client).values_list("number", flat=True))
    assert numbers == list(range(1, 14))
    assert Client.objects.get(pk=setup.client.pk).ticket_sequence == 13
    assert TicketEvent.objects.filter(kind="created").count() == 13


def _assigned_ticket(setup: Setup) -> Ticket:
    ticket = services.ticket_create(actor=setup.dispatcher, store_id=setup.store.pk, subject="x")
    return services.ticket_assign(
        actor=setup.dispatcher, ticket_id=ticket.pk, partner_id=setup.partner.pk
    )


@pytest.mark.parametrize("targets", [("accepted", "accepted"), ("accepted", "cancelled")])
def test_two_transitions_from_the_same_version_one_wins(setup, targets):
    # Given an assigned ticket both writers read at the same version
    ticket = _assigned_ticket(setup)
    version = ticket.version
    events_before = TicketEvent.objects.filter(ticket=ticket).count()

    # When both move it at once, each expecting that version
    def move(to_status: str) -> Callable[[], Ticket]:
        return lambda: services.ticket_transition(
            actor=setup.dispatcher,
            ticket_id=ticket.pk,
            to_status=to_status,
            expected_version=version,
        )

    results = run_together(*(move(t) for t in targets))

    # Then exactly one succeeds and the other is told it lost the race
    winners = [value for outcome, value in results if outcome == "ok"]
    errors = _errors(results)
    assert len(winners) == 1
    assert len(errors) == 1 and isinstance(errors[0], Conflict), errors
    assert errors[0].code == "stale_version"
    # And the ticket shows only the winner's change, with one event and one version step
    ticket.refresh_from_db()
    assert ticket.status == winners[0].status
    assert ticket.version == version + 1
    assert TicketEvent.objects.filter(ticket=ticket).count() == events_before + 1


def test_two_transitions_without_version_are_serialised_by_the_row_lock(setup):
    # Given an assigned ticket
    ticket = _assigned_ticket(setup)
    version = ticket.version

    # When two writers accept it at once without a version check
    def accept() -> Ticket:
        return services.ticket_transition(
            actor=setup.dispatcher, ticket_id=ticket.pk, to_status="accepted"
        )

    results = run_together(accept, accept)

    # Then the second sees the first's result under the lock, and its move is no longer valid
    errors = _errors(results)
    assert len(errors) == 1 and isinstance(errors[0], InvalidTransition), errors
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version) == ("accepted", version + 1)
    assert TicketEvent.objects.filter(ticket=ticket, kind="status_changed").count() == 1


def test_stale_expected_version_is_a_conflict_and_writes_nothing(setup):
    # Given a ticket someone changed after we read it
    ticket = _assigned_ticket(setup)
    stale = ticket.version
    services.ticket_reclassify(actor=setup.dispatcher, ticket_id=ticket.pk, priority="p1")
    events_before = TicketEvent.objects.count()

    # When we move it based on our stale read
    with pytest.raises(Conflict):
        services.ticket_transition(
            actor=setup.dispatcher,
            ticket_id=ticket.pk,
            to_status="accepted",
            expected_version=stale,
        )

    # Then nothing was written
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version) == ("assigned", stale + 1)
    assert TicketEvent.objects.count() == events_before


def test_concurrent_comments_lose_no_version_step(setup):
    # Given a ticket
    ticket = services.ticket_create(actor=setup.dispatcher, store_id=setup.store.pk, subject="x")

    # When eight comments arrive at once
    def comment(i: int) -> Callable[[], Comment]:
        return lambda: services.ticket_comment(
            actor=setup.dispatcher, ticket_id=ticket.pk, body=f"note {i}"
        )

    results = run_together(*(comment(i) for i in range(8)))

    # Then all are kept, each with its event, and the ticket itself was not edited
    assert _errors(results) == []
    ticket.refresh_from_db()
    assert Comment.objects.filter(ticket=ticket).count() == 8
    assert TicketEvent.objects.filter(ticket=ticket, kind="commented").count() == 8
    assert ticket.version == 1
