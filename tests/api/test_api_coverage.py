"""Every non-ticket resource a role uses, through /api/v1/: coverage, certifications,
partner and client contracts, SLA clocks, stores and equipment, the caller's notifications.

Each list is scoped by the same selector as the rest of the platform (a foreign row is
absent from the list and a 404 by id), filters narrow it, and its query count does not
grow with the rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendars.services import calendar_presets_ensure
from partners.models import PartnerContract
from servicedesk.models import Notification, NotificationPreference
from sla.models import SlaClock, SlaPolicy
from tests.conftest import api_client_for
from tests.factories import (
    CertificationFactory,
    ClientContractFactory,
    CompetencyFactory,
    CoverageFactory,
    EquipmentFactory,
    PartnerContractFactory,
    RegionFactory,
    StoreFactory,
)
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # 10:00 in Moscow


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(response) -> set[int]:
    return {row["id"] for row in rows(response)}


def count_queries(client, url: str, params: dict | None = None) -> int:
    client.get(url, params)  # warm: the token's last-used stamp, content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


# -- coverage, certifications, partner contracts ------------------------------------------


def test_partner_sees_only_its_own_coverage(world, api_for):
    own = world.partner_p.coverages.get()
    foreign = world.partner_q.coverages.get()

    as_p = api_for(world.users["partner_manager_p"])

    assert ids(as_p.get("/api/v1/coverage/")) == {own.pk}
    assert as_p.get(f"/api/v1/coverage/{foreign.pk}/").status_code == 404
    assert ids(api_for(world.users["dispatcher"]).get("/api/v1/coverage/")) == {own.pk, foreign.pk}
    # Clients and engineers learn nothing about where partners work.
    assert ids(api_for(world.users["client_manager_a"]).get("/api/v1/coverage/")) == set()
    assert ids(api_for(world.users["engineer_p"]).get("/api/v1/coverage/")) == set()


def test_coverage_nests_partner_and_region_and_filters(world, api_for):
    kamchatka = world.store_a2.region
    wide = CoverageFactory(partner=world.partner_p, region=kamchatka, capacity=12)
    client = api_for(world.users["provider_admin"])

    listed = rows(client.get("/api/v1/coverage/", {"region": "ru-kam"}))

    assert [row["id"] for row in listed] == [wide.pk]
    assert listed[0]["partner"] == {"id": world.partner_p.pk, "name": "Partner P"}
    assert listed[0]["region"]["code"] == "RU-KAM"
    assert ids(client.get("/api/v1/coverage/", {"min_capacity": 10})) == {wide.pk}
    assert ids(client.get("/api/v1/coverage/", {"partner": world.partner_q.pk})) == {
        world.partner_q.coverages.get().pk
    }
    ordered = rows(client.get("/api/v1/coverage/", {"ordering": "-capacity"}))
    assert ordered[0]["id"] == wide.pk


def test_certification_filters(world, api_for):
    fiscal = CompetencyFactory(code="fiscal", name="Fiscal printers")
    expired = CertificationFactory(
        partner=world.partner_p, competency=fiscal, issued_on="2024-01-01", expires_on="2025-06-30"
    )
    current = world.partner_p.certifications.get(competency__code="cash-registers")
    client = api_for(world.users["partner_manager_p"])

    with time_machine.travel(MONDAY, tick=False):
        assert ids(client.get("/api/v1/certifications/")) == {expired.pk, current.pk}
        assert ids(client.get("/api/v1/certifications/", {"expired": "true"})) == {expired.pk}
        assert ids(client.get("/api/v1/certifications/", {"expired": "false"})) == {current.pk}
        flags = {row["id"]: row["is_valid"] for row in rows(client.get("/api/v1/certifications/"))}
    assert flags == {expired.pk: False, current.pk: True}
    assert ids(client.get("/api/v1/certifications/", {"competency": "fiscal"})) == {expired.pk}
    assert ids(client.get("/api/v1/certifications/", {"competency": fiscal.pk})) == {expired.pk}
    assert ids(client.get("/api/v1/certifications/", {"expires_before": "2026-01-01"})) == {
        expired.pk
    }
    assert ids(client.get("/api/v1/certifications/", {"expires_after": "2026-01-01"})) == {
        current.pk
    }
    # Partner Q's certificate is not P's business, by list or by id.
    foreign = world.partner_q.certifications.get()
    assert client.get(f"/api/v1/certifications/{foreign.pk}/").status_code == 404


def test_partner_contracts_are_the_partners_own(world, api_for):
    own = world.partner_p.contracts.get()
    foreign = world.partner_q.contracts.get()
    as_p = api_for(world.users["partner_manager_p"])

    body = as_p.get(f"/api/v1/partner-contracts/{own.pk}/").json()

    assert ids(as_p.get("/api/v1/partner-contracts/")) == {own.pk}
    assert as_p.get(f"/api/v1/partner-contracts/{foreign.pk}/").status_code == 404
    assert body["partner"] == {"id": world.partner_p.pk, "name": "Partner P"}
    assert body["visit_fee"] == "3500.00"
    assert body["ola_calendar"] is None
    assert ids(api_for(world.users["client_manager_a"]).get("/api/v1/partner-contracts/")) == set()
    everyone = api_for(world.users["dispatcher"])
    assert ids(everyone.get("/api/v1/partner-contracts/", {"partner": world.partner_q.pk})) == {
        foreign.pk
    }


# -- client contracts ----------------------------------------------------------------------


def test_client_contracts_never_cross_clients(world, api_for):
    a_old = ClientContractFactory(
        client=world.client_a, starts_on="2024-01-01", ends_on="2025-12-31"
    )
    a_new = ClientContractFactory(client=world.client_a, starts_on="2026-01-01")
    b_one = ClientContractFactory(client=world.client_b)
    as_a = api_for(world.users["client_manager_a"])

    assert ids(as_a.get("/api/v1/client-contracts/")) == {a_old.pk, a_new.pk}
    assert as_a.get(f"/api/v1/client-contracts/{b_one.pk}/").status_code == 404
    assert ids(as_a.get("/api/v1/client-contracts/", {"in_force_on": "2025-03-01"})) == {a_old.pk}
    assert ids(as_a.get("/api/v1/client-contracts/", {"client": world.client_b.pk})) == set()
    # Commercial terms: store staff and partners read none.
    for user in ("store_staff_a1", "partner_manager_p", "engineer_p"):
        assert ids(api_for(world.users[user]).get("/api/v1/client-contracts/")) == set(), user
    provider = api_for(world.users["dispatcher"])
    assert ids(provider.get("/api/v1/client-contracts/")) == {a_old.pk, a_new.pk, b_one.pk}


# -- SLA clocks ----------------------------------------------------------------------------


@pytest.fixture
def clock_world(world):
    """Both clients on a 24×7 P1 policy; partner P has OLA targets. At Monday 10:00 MSK:
    ``a`` (store A1) and ``b`` (store B1) are opened with a visit; ``a`` goes to partner P
    and ``b`` to partner Q, so each has 3 SLA and 3 OLA clocks; ``a2`` (store A2) has SLA
    clocks only."""
    presets = calendar_presets_ensure()
    for client in (world.client_a, world.client_b):
        SlaPolicy.objects.create(
            contract=ClientContractFactory(client=client),
            priority="p1",
            response_seconds=30 * 60,
            arrival_seconds=4 * 3600,
            resolution_seconds=8 * 3600,
            calendar=presets["24x7"],
        )
    PartnerContract.objects.update(arrive_within_seconds=3 * 3600, resolve_within_seconds=6 * 3600)
    dispatcher = world.actor("dispatcher")
    made = {}
    with time_machine.travel(MONDAY, tick=False):
        for key, store, partner, engineer in (
            ("a", world.store_a1, world.partner_p, "engineer_p"),
            ("b", world.store_b1, world.partner_q, "engineer_q"),
            ("a2", world.store_a2, None, None),
        ):
            ticket = ticket_services.ticket_create(
                actor=dispatcher,
                store_id=store.pk,
                subject=f"Clock {key}",
                priority="p1",
                needs_visit=True,
            )
            if partner is not None:
                ticket_services.ticket_assign(
                    actor=dispatcher,
                    ticket_id=ticket.pk,
                    partner_id=partner.pk,
                    engineer_id=world.users[engineer].pk,
                )
            made[key] = ticket
    world.tickets.update(made)
    return world


def clocks_of(world, user: str, **params) -> list[dict]:
    with time_machine.travel(MONDAY, tick=False):
        return rows(api_client_for(world.users[user]).get("/api/v1/sla-clocks/", params))


def shape(clocks: list[dict]) -> set[tuple[str, str]]:
    """(ticket subject key, agreement) pairs, e.g. ("a", "ola")."""
    return {(c["ticket"]["reference"], c["agreement"]) for c in clocks}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("dispatcher", {("a", "sla"), ("a", "ola"), ("b", "sla"), ("b", "ola"), ("a2", "sla")}),
        ("client_manager_a", {("a", "sla"), ("a2", "sla")}),
        ("store_staff_a1", {("a", "sla")}),
        ("client_manager_b", {("b", "sla")}),
        ("partner_manager_p", {("a", "sla"), ("a", "ola")}),
        ("engineer_p", {("a", "sla"), ("a", "ola")}),
        ("engineer_p2", set()),
        ("partner_manager_q", {("b", "sla"), ("b", "ola")}),
    ],
)
def test_clock_scope_per_role(clock_world, user, expected):
    refs = {t.reference: key for key, t in clock_world.tickets.items() if key in ("a", "b", "a2")}

    clocks = clocks_of(clock_world, user)

    assert {(refs[r], agreement) for r, agreement in shape(clocks)} == expected
    ola_partners = {c["partner"]["id"] for c in clocks if c["agreement"] == "ola"}
    if user.endswith("_p"):
        assert ola_partners == {clock_world.partner_p.pk}


def test_partner_never_reads_another_partners_ola_clock(clock_world):
    a = clock_world.tickets["a"]
    foreign = SlaClock.objects.filter(ticket=clock_world.tickets["b"], agreement="ola").first()

    with time_machine.travel(MONDAY, tick=False):
        as_p = api_client_for(clock_world.users["partner_manager_p"])
        assert as_p.get(f"/api/v1/sla-clocks/{foreign.pk}/").status_code == 404
        own = SlaClock.objects.filter(ticket=a, agreement="ola").first()
        assert as_p.get(f"/api/v1/sla-clocks/{own.pk}/").status_code == 200


def test_clock_filters(clock_world):
    a = clock_world.tickets["a"]
    SlaClock.objects.filter(ticket=a, metric="response").update(
        breached_at=MONDAY, state="breached", stopped_at=MONDAY, next_check_at=None
    )

    by_ticket = clocks_of(clock_world, "dispatcher", ticket=a.pk)
    ola = clocks_of(clock_world, "dispatcher", ticket=a.pk, agreement="ola")
    arrival = clocks_of(clock_world, "dispatcher", ticket=a.pk, metric="arrival")
    breached = clocks_of(clock_world, "dispatcher", breached="true")
    running = clocks_of(clock_world, "dispatcher", ticket=a.pk, state="running")
    # 24×7 from 10:00 MSK: response and acceptance 10:30, OLA arrival 13:00, SLA arrival
    # 14:00, OLA resolution 16:00, SLA resolution 18:00 (UTC is 3 h behind).
    early = clocks_of(clock_world, "dispatcher", ticket=a.pk, due_before="2026-12-07T08:00:00Z")
    late = clocks_of(clock_world, "dispatcher", ticket=a.pk, due_after="2026-12-07T13:00:00+03:00")

    assert len(by_ticket) == 6
    assert {c["metric"] for c in ola} == {"acceptance", "arrival", "resolution"}
    assert {(c["agreement"], c["metric"]) for c in arrival} == {
        ("sla", "arrival"),
        ("ola", "arrival"),
    }
    assert [(c["ticket"]["id"], c["metric"]) for c in breached] == [(a.pk, "response")]
    assert len(running) == 5
    assert {(c["agreement"], c["metric"]) for c in early} == {
        ("ola", "acceptance"),
        ("sla", "response"),
    }
    assert {(c["agreement"], c["metric"]) for c in late} == {
        ("ola", "arrival"),
        ("sla", "arrival"),
        ("ola", "resolution"),
        ("sla", "resolution"),
    }
    clock = next(c for c in by_ticket if (c["agreement"], c["metric"]) == ("sla", "resolution"))
    assert clock["due_at"] == "2026-12-07T15:00:00Z"
    assert clock["due_at_local"] == "2026-12-07T18:00:00+03:00"
    assert clock["ticket"]["store"]["code"] == "A1"


def test_clock_filter_rejects_a_bad_date(clock_world):
    with time_machine.travel(MONDAY, tick=False):
        client = api_client_for(clock_world.users["dispatcher"])
        response = client.get("/api/v1/sla-clocks/", {"due_before": "next tuesday"})

    assert response.status_code == 400
    assert "due_before" in response.json()["error"]["fields"]


# -- stores and equipment ------------------------------------------------------------------


def test_store_filters_people_use(world, api_for):
    mall = StoreFactory(
        client=world.client_a,
        code="A9",
        region=world.store_a1.region,
        address="ТЦ Европейский, пл. Киевского вокзала, 2",
        external_id="ERP-0009",
        access_calendar=calendar_presets_ensure()["office"],
    )
    client = api_for(world.users["client_manager_a"])

    def codes(**params) -> set[str]:
        return {row["code"] for row in rows(client.get("/api/v1/stores/", params))}

    assert codes(code="a9") == {"A9"}
    assert codes(external_id="ERP-0009") == {"A9"}
    assert codes(time_zone="Asia/Kamchatka") == {"A2"}
    assert codes(q="Европейский") == {"A9"}
    assert codes(region="RU-MOW") == {"A1", "A9"}
    # Client B's store stays out whatever the filter says.
    assert codes(client=world.client_b.pk) == set()
    assert codes(code="B1") == set()
    body = client.get(f"/api/v1/stores/{mall.pk}/").json()
    assert body["region"] == {
        "code": "RU-MOW",
        "name_ru": "Москва",
        "name_en": "Moscow",
        "country": "RU",
        "time_zone": "Europe/Moscow",
    }
    assert body["access_calendar"]["code"] == "office"


def test_equipment_filters(world, api_for):
    printer = EquipmentFactory(store=world.store_a2, kind="fiscal_printer", model="Штрих-М")
    client = api_for(world.users["client_manager_a"])

    def found(**params) -> set[int]:
        return ids(client.get("/api/v1/equipment/", params))

    assert found(region="RU-KAM", kind="fiscal_printer") == {printer.pk}
    assert found(q="штрих") == {printer.pk}
    assert found(serial_number=printer.serial_number.lower()) == {printer.pk}
    assert found(client=world.client_b.pk) == set()


# -- notifications -------------------------------------------------------------------------


def notify(user, key: str, *, kind: str = "sla_breach", read: bool = False) -> Notification:
    return Notification.objects.create(
        recipient=user,
        kind=kind,
        title=f"Note {key}",
        dedupe_key=key,
        read_at=MONDAY if read else None,
    )


def test_notifications_are_the_callers_own(world, api_for):
    me, other = world.users["dispatcher"], world.users["client_manager_b"]
    unread = notify(me, "1")
    offer = notify(me, "2", kind="offer")
    seen = notify(me, "3", read=True)
    theirs = notify(other, "4")
    client = api_for(me)

    assert ids(client.get("/api/v1/notifications/")) == {unread.pk, offer.pk, seen.pk}
    assert ids(client.get("/api/v1/notifications/", {"unread": "true"})) == {unread.pk, offer.pk}
    assert ids(client.get("/api/v1/notifications/", {"kind": "offer"})) == {offer.pk}
    assert client.get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_and_all_read(world, api_for):
    me = world.users["dispatcher"]
    first, second = notify(me, "1"), notify(me, "2")
    theirs = notify(world.users["provider_admin"], "3")
    client = api_for(me)

    one = client.post(f"/api/v1/notifications/{first.pk}/read/")
    rest = client.post("/api/v1/notifications/read-all/")

    assert one.status_code == 200 and one.json()["read"] is True
    assert rest.json() == {"marked": 1}
    second.refresh_from_db()
    theirs.refresh_from_db()
    assert second.read_at is not None
    assert theirs.read_at is None


def test_notification_preferences_read_and_write(world, api_for):
    user = world.users["client_manager_a"]
    client = api_for(user)

    before = client.get("/api/v1/notification-preferences/").json()
    saved = client.put(
        "/api/v1/notification-preferences/",
        {"email_sla": "all", "quiet_start": "22:00", "quiet_end": "07:00"},
        format="json",
    )
    half = client.put("/api/v1/notification-preferences/", {"quiet_start": None}, format="json")
    duty = client.put("/api/v1/notification-preferences/", {"on_duty": True}, format="json")

    assert before["email_sla"] == "urgent" and before["quiet_start"] is None
    assert saved.status_code == 200
    assert saved.json()["email_sla"] == "all" and saved.json()["quiet_end"] == "07:00:00"
    assert half.status_code == 400 and "quiet_start" in half.json()["error"]["fields"]
    assert duty.status_code == 400 and "on_duty" in duty.json()["error"]["fields"]
    stored = NotificationPreference.objects.get(user=user)
    assert (stored.email_sla, stored.on_duty) == ("all", False)
    assert stored.quiet_start is not None  # the refused change wrote nothing


# -- query counts --------------------------------------------------------------------------


def _grow(world, n: int, start: int) -> None:
    """``n`` more rows of everything the lists below return, for partner P and client A."""
    dispatcher = world.actor("dispatcher")
    for i in range(start, start + n):
        region = RegionFactory(code=f"RU-{i:03d}", name_ru=f"R{i}", name_en=f"R{i}")
        CoverageFactory(partner=world.partner_p, region=region)
        CertificationFactory(
            partner=world.partner_p,
            competency=CompetencyFactory(code=f"c{i}", name=f"C{i}"),
        )
        office = calendar_presets_ensure()["office"]
        PartnerContractFactory(partner=world.partner_p, ola_calendar=office)
        ClientContractFactory(client=world.client_a)
        store = StoreFactory(client=world.client_a, region=region)
        EquipmentFactory(store=store)
        notify(world.users["provider_admin"], f"grow-{i}")
        with time_machine.travel(MONDAY, tick=False):
            ticket_services.ticket_create(
                actor=dispatcher, store_id=store.pk, subject=f"Grow {i}", priority="p1"
            )


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/coverage/",
        "/api/v1/certifications/",
        "/api/v1/partner-contracts/",
        "/api/v1/client-contracts/",
        "/api/v1/sla-clocks/",
        "/api/v1/stores/",
        "/api/v1/equipment/",
        "/api/v1/notifications/",
    ],
)
def test_list_query_count_is_flat(clock_world, url):
    client = api_client_for(clock_world.users["provider_admin"])
    with time_machine.travel(MONDAY, tick=False):
        _grow(clock_world, 1, start=0)
        small = count_queries(client, url)
        _grow(clock_world, 12, start=1)
        large = count_queries(client, url)
        listed = len(rows(client.get(url)))

    assert listed >= 13
    assert large == small
