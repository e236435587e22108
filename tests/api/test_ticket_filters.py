"""The ticket list's filters, ``expand=clocks`` and its query count.

Filters are ``tickets.filtersets.TicketFilterSet``'s, shared with the HTML list. "Due" is
the nearest running client SLA due of a ticket.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sla.models import SlaClock
from tests.tickets.dispatch_support import field_world, open_field_ticket
from tickets import dispatch, services
from tickets.models import Ticket

TICKETS = "/api/v1/tickets/"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def fw(world):
    return field_world(world, auto_dispatch=False)


def _due(ticket: Ticket, due, *, state: str = "running") -> None:
    """Pin ``ticket``'s client SLA clocks: the first running one due at ``due``."""
    clocks = SlaClock.objects.filter(ticket=ticket, agreement="sla").order_by("pk")
    first = clocks.first()
    assert first is not None
    clocks.exclude(pk=first.pk).update(due_at=due + timedelta(days=30))
    SlaClock.objects.filter(pk=first.pk).update(state=state, due_at=due)


def test_filters_by_the_ticket_fields(world, api_for):
    client = api_for(world.users["dispatcher"])
    a1, a2, b1 = (world.tickets[k] for k in ("a1", "a2", "b1"))
    services.ticket_update(
        actor=world.actor("dispatcher"), ticket_id=a2.pk, external_id="EXT-7", category="network"
    )

    assert ids(client.get(TICKETS, {"status": ["new"]})) == {a2.pk}
    assert ids(client.get(TICKETS, {"status": ["new", "assigned"]})) == {a1.pk, a2.pk, b1.pk}
    assert ids(client.get(TICKETS, {"store": world.store_a1.pk})) == {a1.pk}
    assert ids(client.get(TICKETS, {"client": world.client_b.pk})) == {b1.pk}
    assert ids(client.get(TICKETS, {"partner": world.partner_q.pk})) == {b1.pk}
    assert ids(client.get(TICKETS, {"region": "RU-KAM"})) == {a2.pk}
    assert ids(client.get(TICKETS, {"category": "network"})) == {a2.pk}
    assert ids(client.get(TICKETS, {"priority": "p3"})) == {a1.pk, a2.pk, b1.pk}
    assert ids(client.get(TICKETS, {"external_id": "EXT-7"})) == {a2.pk}
    assert ids(client.get(TICKETS, {"needs_visit": "true"})) == set()
    assert ids(client.get(TICKETS, {"q": "cctv"})) == {a2.pk}
    after = (a2.created_at - timedelta(microseconds=1)).isoformat()
    assert a2.pk in ids(client.get(TICKETS, {"created_after": after}))
    assert a1.pk not in ids(client.get(TICKETS, {"created_after": b1.created_at.isoformat()}))
    bad = client.get(TICKETS, {"status": "lost"})
    assert bad.status_code == 400
    assert "status" in bad.json()["error"]["fields"]


def test_due_filters_read_the_nearest_running_sla_due(fw, api_for):
    # Given three field tickets: one due in 1 h, one in 5 h, one whose clocks are paused
    now = timezone.now()
    soon, later, paused = (open_field_ticket(fw, now) for _ in range(3))
    _due(soon, now + timedelta(hours=1))
    _due(later, now + timedelta(hours=5))
    _due(paused, now + timedelta(hours=1), state="paused")
    SlaClock.objects.filter(ticket=paused).update(state="paused")
    client = api_for(fw.users["dispatcher"])
    mine = {soon.pk, later.pk, paused.pk}

    # Then due_before/due_after split on the nearest running due; a paused one has none
    two_hours = (now + timedelta(hours=2)).isoformat()
    assert ids(client.get(TICKETS, {"due_before": two_hours})) & mine == {soon.pk}
    assert ids(client.get(TICKETS, {"due_after": two_hours})) & mine == {later.pk}
    window = {"due_after": now.isoformat(), "due_before": two_hours}
    assert ids(client.get(TICKETS, window)) & mine == {soon.pk}


def test_breached_at_risk_and_scope_of_external_id_lookup(fw, api_for):
    now = timezone.now()
    late = open_field_ticket(fw, now)
    SlaClock.objects.filter(ticket=late, agreement="sla").update(breached_at=now)
    dispatcher = api_for(fw.users["dispatcher"])
    assert late.pk in ids(dispatcher.get(TICKETS, {"breached": "true"}))
    assert late.pk not in ids(dispatcher.get(TICKETS, {"breached": "false"}))
    assert late.pk not in ids(dispatcher.get(TICKETS, {"at_risk": "true"}))

    # An external reference is looked up within the caller's own tickets only
    services.ticket_update(actor=fw.actor("dispatcher"), ticket_id=late.pk, external_id="X-1")
    assert ids(api_for(fw.users["client_manager_a"]).get(TICKETS, {"external_id": "X-1"})) == {
        late.pk
    }
    assert ids(api_for(fw.users["client_manager_b"]).get(TICKETS, {"external_id": "X-1"})) == set()


def test_expand_clocks_nests_each_rows_clocks_as_the_caller_may_see_them(fw, api_for):
    ticket = open_field_ticket(fw, timezone.now())
    dispatch.offer_make(
        actor=fw.actor("dispatcher"), ticket_id=ticket.pk, partner_id=fw.partner_p.pk
    )

    plain = api_for(fw.users["dispatcher"]).get(TICKETS)
    assert all("clocks" not in row for row in plain.json()["results"])

    staff = api_for(fw.users["dispatcher"]).get(TICKETS, {"expand": "clocks"}).json()
    row = next(r for r in staff["results"] if r["id"] == ticket.pk)
    assert {c["agreement"] for c in row["clocks"]} == {"sla", "ola"}
    # The client reads its SLA, never the partner's OLA
    client = api_for(fw.users["client_manager_a"]).get(TICKETS, {"expand": "clocks"}).json()
    row = next(r for r in client["results"] if r["id"] == ticket.pk)
    assert {c["agreement"] for c in row["clocks"]} == {"sla"}
    assert row["store"]["code"] == "A1"  # the store is always nested

    unknown = api_for(fw.users["dispatcher"]).get(TICKETS, {"expand": "clocks,owner"})
    assert unknown.status_code == 400
    assert "expand" in unknown.json()["error"]["fields"]


@pytest.mark.parametrize("params", [{}, {"expand": "clocks", "breached": "false"}])
def test_list_query_count_is_flat_at_3_and_30_tickets(fw, api_for, params):
    client = api_for(fw.users["dispatcher"])
    assert client.get(TICKETS).status_code == 200  # the token's last-used stamp is written

    def make(n: int) -> None:
        for _ in range(n):
            open_field_ticket(fw, timezone.now())

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(TICKETS, {"page_size": 100, **params})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    make(3)
    few = queries()
    make(27)
    many = queries()
    assert few == many
