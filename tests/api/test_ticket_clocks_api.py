"""SLA clocks in the ticket API: the detail's ``clocks``, their scoping, the SLA filters.

Moscow is UTC+3 all year, Kamchatka UTC+12; the P1 policy counts in store hours (08–22 local).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from calendars.services import calendar_presets_ensure
from partners.models import PartnerContract
from sla import services as sla
from sla.models import SlaPolicy
from tests.conftest import api_client_for
from tests.factories import ClientContractFactory
from tickets import services

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"
CLOCK_FIELDS = {
    "metric",
    "agreement",
    "partner",
    "state",
    "cycle",
    "target_seconds",
    "started_at",
    "due_at",
    "due_at_local",
    "warn_at",
    "breached_at",
    "stopped_at",
    "consumed_seconds",
    "remaining_seconds",
    "overdue_seconds",
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def sla_world(world):
    """Client A: P1 on store hours, 30 min / 4 h / 8 h; partner P: OLA accept 30 min,
    arrive 3 h, resolve 6 h."""
    presets = calendar_presets_ensure()
    contract = ClientContractFactory(client=world.client_a, starts_on="2025-01-01")
    SlaPolicy.objects.create(
        contract=contract,
        priority="p1",
        response_seconds=30 * 60,
        arrival_seconds=4 * 3600,
        resolution_seconds=8 * 3600,
        calendar=presets["store-hours"],
    )
    PartnerContract.objects.filter(partner=world.partner_p).update(
        arrive_within_seconds=3 * 3600, resolve_within_seconds=6 * 3600
    )
    return world


def open_ticket(world, at: datetime, *, store=None, needs_visit=False, subject="Касса"):
    with time_machine.travel(at, tick=False):
        return services.ticket_create(
            actor=world.actor("dispatcher"),
            store_id=(store or world.store_a1).pk,
            subject=subject,
            priority="p1",
            needs_visit=needs_visit,
        )


def assign_p(world, ticket, at: datetime) -> None:
    with time_machine.travel(at, tick=False):
        services.ticket_assign(
            actor=world.actor("dispatcher"), ticket_id=ticket.pk, partner_id=world.partner_p.pk
        )


def get_at(world, user: str, url: str, at: datetime, **params):
    with time_machine.travel(at, tick=False):
        return api_client_for(world.users[user]).get(url, params)


def by_key(clocks: list[dict]) -> dict[tuple[str, str], dict]:
    return {(c["agreement"], c["metric"]): c for c in clocks}


def test_detail_lists_the_clocks_read_now(sla_world):
    # Mon 2026-12-07 18:00Z = Tue 06:00 in Kamchatka; the store opens at 08:00 local.
    # Resolution 8 h → Tue 16:00 local = 04:00Z. Read at 20:30Z = 08:30 local: 30 min used.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 18), store=sla_world.store_a2)

    response = get_at(sla_world, "dispatcher", f"{TICKETS}{ticket.pk}/", utc(2026, 12, 7, 20, 30))

    assert response.status_code == 200
    clocks = by_key(response.json()["clocks"])
    assert set(clocks) == {("sla", "response"), ("sla", "resolution")}
    resolution = clocks[("sla", "resolution")]
    assert set(resolution) == CLOCK_FIELDS
    assert resolution["state"] == "running"
    assert resolution["target_seconds"] == 8 * 3600
    assert resolution["due_at"] == "2026-12-08T04:00:00Z"
    assert resolution["due_at_local"] == "2026-12-08T16:00:00+12:00"
    assert resolution["consumed_seconds"] == 30 * 60
    assert resolution["remaining_seconds"] == 7 * 3600 + 30 * 60
    assert resolution["overdue_seconds"] == 0
    assert resolution["partner"] is None
    # The 30-min response was due at 08:30 local: used up exactly, nothing over yet.
    response_clock = clocks[("sla", "response")]
    assert (response_clock["remaining_seconds"], response_clock["overdue_seconds"]) == (0, 0)


def test_overdue_clock_counts_working_seconds_over(sla_world):
    # Opened Mon 21:00 MSK (18:00Z): response due 21:30 MSK. Read at Tue 08:10 MSK: the store
    # closed 22:00–08:00, so the response is over by 21:30–22:00 + 08:00–08:10 = 40 min.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 18))

    response = get_at(sla_world, "dispatcher", f"{TICKETS}{ticket.pk}/", utc(2026, 12, 8, 5, 10))

    clock = by_key(response.json()["clocks"])[("sla", "response")]
    assert clock["state"] == "running"
    assert (clock["remaining_seconds"], clock["overdue_seconds"]) == (0, 40 * 60)


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        # The client never sees a partner's OLA.
        ("client_manager_a", {"sla"}),
        ("store_staff_a1", {"sla"}),
        # The provider sees every agreement, with the partner named.
        ("dispatcher", {"sla", "ola"}),
    ],
)
def test_clock_scoping(sla_world, user, expected):
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7), needs_visit=True)
    assign_p(sla_world, ticket, utc(2026, 12, 7, 7, 5))

    response = get_at(sla_world, user, f"{TICKETS}{ticket.pk}/", utc(2026, 12, 7, 8))

    clocks = response.json()["clocks"]
    assert {c["agreement"] for c in clocks} == expected
    ola = [c for c in clocks if c["agreement"] == "ola"]
    assert all(c["partner"] == {"id": sla_world.partner_p.pk, "name": "Partner P"} for c in ola)
    assert len(ola) == (3 if "ola" in expected else 0)


def test_partner_sees_its_own_ola(sla_world):
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7), needs_visit=True)
    assign_p(sla_world, ticket, utc(2026, 12, 7, 7, 5))

    response = get_at(sla_world, "partner_manager_p", f"{TICKETS}{ticket.pk}/", utc(2026, 12, 7, 8))
    foreign = get_at(sla_world, "partner_manager_q", f"{TICKETS}{ticket.pk}/", utc(2026, 12, 7, 8))

    ola = by_key(c for c in response.json()["clocks"] if c["agreement"] == "ola")
    assert set(ola) == {("ola", "acceptance"), ("ola", "arrival"), ("ola", "resolution")}
    # Accept within 30 min of the 10:05 offer: read at 11:00, 25 min over.
    assert ola[("ola", "acceptance")]["overdue_seconds"] == 25 * 60
    assert foreign.status_code == 404


def test_list_has_no_clocks_and_stays_flat(sla_world):
    open_ticket(sla_world, utc(2026, 12, 7, 7))

    response = get_at(sla_world, "dispatcher", TICKETS, utc(2026, 12, 7, 8))

    assert response.status_code == 200
    assert all("clocks" not in row for row in response.json()["results"])


def test_detail_query_count_does_not_grow_with_clocks(sla_world):
    few = open_ticket(sla_world, utc(2026, 12, 7, 7))
    many = open_ticket(sla_world, utc(2026, 12, 7, 7), needs_visit=True)
    assign_p(sla_world, many, utc(2026, 12, 7, 7, 5))
    with time_machine.travel(utc(2026, 12, 7, 8), tick=False):
        client = api_client_for(sla_world.users["dispatcher"])
        client.get(f"{TICKETS}{few.pk}/")  # warm: token stamp, calendars
        client.get(f"{TICKETS}{many.pk}/")

        with CaptureQueriesContext(connection) as two:
            assert len(client.get(f"{TICKETS}{few.pk}/").json()["clocks"]) == 2
        with CaptureQueriesContext(connection) as six:
            assert len(client.get(f"{TICKETS}{many.pk}/").json()["clocks"]) == 6

    assert len(six) == len(two)


def _late_warned_calm(world):
    """At Mon 10:25 MSK: ``late`` (opened 09:00, response due 09:30) is breached; ``warned``
    (opened 10:00, warning at 10:22:30) is at risk; ``calm`` (opened 10:20) neither."""
    late = open_ticket(world, utc(2026, 12, 7, 6), subject="Late")
    warned = open_ticket(world, utc(2026, 12, 7, 7), subject="Warned")
    calm = open_ticket(world, utc(2026, 12, 7, 7, 20), subject="Calm")
    sla.sweep_batch(now=utc(2026, 12, 7, 7, 25))
    return late, warned, calm


def test_breached_and_at_risk_filters(sla_world):
    late, warned, calm = _late_warned_calm(sla_world)
    at = utc(2026, 12, 7, 7, 25)

    def ids(**params) -> set[int]:
        response = get_at(sla_world, "dispatcher", TICKETS, at, **params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(breached="true") == {late.pk}
    assert ids(at_risk="true") == {warned.pk}
    assert late.pk not in ids(breached="false") and calm.pk in ids(breached="false")
    assert ids(breached="true", at_risk="true") == set()


def test_breached_filter_stays_in_scope(sla_world):
    late, _warned, _calm = _late_warned_calm(sla_world)

    own = get_at(sla_world, "client_manager_a", TICKETS, utc(2026, 12, 7, 8), breached="true")
    foreign = get_at(sla_world, "client_manager_b", TICKETS, utc(2026, 12, 7, 8), breached="true")

    assert [row["id"] for row in own.json()["results"]] == [late.pk]
    assert foreign.json()["results"] == []


def test_due_is_not_an_api_ordering(sla_world):
    # The keyset paginator orders by non-null model fields only (documented on the viewset).
    response = get_at(sla_world, "dispatcher", TICKETS, utc(2026, 12, 7, 8), ordering="due")

    assert response.status_code == 400
    assert "ordering" in response.json()["error"]["fields"]


def test_schema_documents_the_clocks_and_filters(db):
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()

    params = {p["name"] for p in schema["paths"][TICKETS]["get"]["parameters"]}
    assert {"breached", "at_risk"} <= params
    detail = schema["components"]["schemas"]["TicketDetail"]["properties"]
    assert detail["clocks"]["items"]["$ref"].endswith("/TicketClock")
