"""Every action of the HTML UI through the API: edits, offers, ranking and visits.

Each action is tried with the right role (it happens, through the same service) and with a
wrong one: outside the caller's scope it is 404, inside it with the wrong role 403, and in
both cases nothing is written. A partner never sees another partner's offer or visit.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.tickets.dispatch_support import field_world, open_field_ticket
from tickets.models import Offer, Ticket, TicketEvent, Visit

TICKETS = "/api/v1/tickets/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
REPORT = {
    "checklist": {"power": True, "fiscal_drive": True, "receipt_printer": True, "network": True},
    "parts": [{"name": "Термоголовка", "qty": 1, "serial": "TH-778"}],
    "text": "Заменена термоголовка",
}


def written(ticket: Ticket) -> tuple[int, int, int, int]:
    """What a refused action must leave alone: version, events, offers, visits."""
    ticket.refresh_from_db()
    return (
        ticket.version,
        TicketEvent.objects.filter(ticket=ticket).count(),
        Offer.objects.filter(ticket=ticket).count(),
        Visit.objects.filter(ticket=ticket).count(),
    )


def code(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def fw(world):
    """The world with SLA terms and OLAs; client A offers field jobs by hand."""
    return field_world(world, auto_dispatch=False)


@pytest.fixture
def field_ticket(fw) -> Ticket:
    return open_field_ticket(fw, timezone.now())


@pytest.fixture
def api(world, api_for):
    """``api(name)``: the API client of ``world``'s user ``name`` (one token per user)."""
    made: dict = {}

    def get(name: str):
        if name not in made:
            made[name] = api_for(world.users[name])
        return made[name]

    return get


def offer_via_api(api, ticket: Ticket, partner) -> dict:
    response = api("dispatcher").post(
        f"{TICKETS}{ticket.pk}/offers/", {"partner": partner.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def accept_via_api(
    api, fw, offer_id: int, manager: str = "partner_manager_p", engineer: str = "engineer_p"
):
    eta = (timezone.now() + timedelta(hours=1)).isoformat()
    return api(manager).post(
        f"/api/v1/offers/{offer_id}/accept/",
        {"engineer": fw.users[engineer].pk, "eta": eta},
        format="json",
    )


# --- PATCH: edits, roles, mass assignment -----------------------------------------------------


def test_client_manager_edits_the_details_and_the_timeline_names_the_fields(world, api_for):
    # Given client A's manager and its ticket A2
    ticket = world.tickets["a2"]
    version = ticket.version
    client = api_for(world.users["client_manager_a"])

    # When it edits the subject, description and external reference
    response = client.patch(
        f"{TICKETS}{ticket.pk}/",
        {"subject": "Камера 3 не пишет", "description": "С утра", "external_id": "SAP-42"},
        format="json",
    )

    # Then the ticket changed once, with one "edited" event and the new ETag
    assert response.status_code == 200, response.json()
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.description, ticket.external_id) == (
        "Камера 3 не пишет",
        "С утра",
        "SAP-42",
    )
    assert response.json()["version"] == ticket.version == version + 1
    assert response["ETag"] == f'"{ticket.pk}-{ticket.version}"'
    event = TicketEvent.objects.filter(ticket=ticket).latest("pk")
    assert event.kind == "edited"
    assert event.data["fields"] == ["description", "external_id", "subject"]
    assert event.data["subject"] == {"from": "A2 cctv", "to": "Камера 3 не пишет"}


@pytest.mark.parametrize(
    "field,value",
    [
        ("client", 1),
        ("store", 1),
        ("partner", 1),
        ("status", "closed"),
        ("number", 99),
        ("version", 7),
        ("engineer", 1),
    ],
)
def test_mass_assignment_is_refused_by_name_and_writes_nothing(world, api_for, field, value):
    # Given a dispatcher and ticket A1
    ticket = world.tickets["a1"]
    before = written(ticket)
    client = api_for(world.users["dispatcher"])

    # When a PATCH also tries to set a read-only field
    response = client.patch(
        f"{TICKETS}{ticket.pk}/", {"subject": "new", field: value}, format="json"
    )

    # Then 400 names the field as read-only, and nothing changed (not even the subject)
    assert response.status_code == 400
    body = response.json()["error"]
    assert field in body["fields"]
    assert "read-only" in body["fields"][field][0].lower()
    assert written(ticket) == before
    ticket.refresh_from_db()
    assert ticket.subject == "A1 till"


def test_unknown_field_is_named_too(world, api_for):
    ticket = world.tickets["a1"]
    response = api_for(world.users["dispatcher"]).patch(
        f"{TICKETS}{ticket.pk}/", {"colour": "red"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"colour": ["Unknown field."]}


def test_patch_roles_partner_403_foreign_client_404_client_priority_403(world, api_for):
    ticket = world.tickets["a1"]
    before = written(ticket)
    url = f"{TICKETS}{ticket.pk}/"

    # A partner holding the job sees it but may not edit it
    partner = api_for(world.users["partner_manager_p"]).patch(url, {"subject": "x"}, format="json")
    assert partner.status_code == 403
    # Client B does not see client A's ticket at all
    foreign = api_for(world.users["client_manager_b"]).patch(url, {"subject": "x"}, format="json")
    assert foreign.status_code == 404
    # A client may edit details, not the priority (it changes what the SLA promises)
    client = api_for(world.users["client_manager_a"]).patch(url, {"priority": "p1"}, format="json")
    assert client.status_code == 403
    assert written(ticket) == before


def test_dispatcher_changes_priority_and_equipment_in_one_patch(world, api_for):
    ticket = world.tickets["a1"]
    equipment = world.store_a1.equipment.get()
    response = api_for(world.users["dispatcher"]).patch(
        f"{TICKETS}{ticket.pk}/", {"priority": "p2", "equipment": equipment.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.equipment_id) == ("p2", equipment.pk)
    kinds = list(
        TicketEvent.objects.filter(ticket=ticket).order_by("-pk").values_list("kind", flat=True)
    )[:2]
    assert set(kinds) == {"edited", "priority_changed"}
    # Equipment of another store is a field error
    other = world.store_a2.equipment.get()
    bad = api_for(world.users["dispatcher"]).patch(
        f"{TICKETS}{ticket.pk}/", {"equipment": other.pk}, format="json"
    )
    assert bad.status_code == 400
    assert "equipment" in bad.json()["error"]["fields"]


def test_external_id_is_unique_per_client_and_found_by_lookup(world, api_for):
    # Given A1 carries client A's reference SAP-1
    dispatcher = api_for(world.users["dispatcher"])
    a1, a2, b1 = (world.tickets[k] for k in ("a1", "a2", "b1"))
    assert (
        dispatcher.patch(f"{TICKETS}{a1.pk}/", {"external_id": "SAP-1"}, format="json").status_code
        == 200
    )

    # Then A2 cannot take it, but client B's ticket can (per client)
    taken = dispatcher.patch(f"{TICKETS}{a2.pk}/", {"external_id": "SAP-1"}, format="json")
    assert taken.status_code == 400
    assert "external_id" in taken.json()["error"]["fields"]
    assert (
        dispatcher.patch(f"{TICKETS}{b1.pk}/", {"external_id": "SAP-1"}, format="json").status_code
        == 200
    )

    # And client A's integration finds only its own ticket by the reference
    found = api_for(world.users["client_manager_a"]).get(TICKETS, {"external_id": "SAP-1"})
    assert [row["id"] for row in found.json()["results"]] == [a1.pk]


# --- offers -----------------------------------------------------------------------------------


def test_dispatcher_offers_partner_accepts_and_the_visit_appears(api, fw, field_ticket):
    # When the dispatcher offers the job to P through the API
    offer = offer_via_api(api, field_ticket, fw.partner_p)
    assert offer["status"] == "offered"
    assert offer["partner"]["id"] == fw.partner_p.pk

    # Then P's manager finds it among the offers awaiting its answer; Q's does not
    mine = api("partner_manager_p").get("/api/v1/offers/").json()["results"]
    assert [o["id"] for o in mine] == [offer["id"]]
    assert api("partner_manager_q").get("/api/v1/offers/").json()["results"] == []

    # When P accepts with an engineer and an ETA
    response = accept_via_api(api, fw, offer["id"])

    # Then the ticket is accepted and a visit is open for the engineer
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "accepted"
    field_ticket.refresh_from_db()
    assert field_ticket.status == "accepted"
    visits = api("engineer_p").get(f"{TICKETS}{field_ticket.pk}/visits/").json()
    assert [v["engineer"]["id"] for v in visits["results"]] == [fw.users["engineer_p"].pk]


def test_offer_actions_wrong_role_403_out_of_scope_404_nothing_written(api, fw, field_ticket):
    offer = offer_via_api(api, field_ticket, fw.partner_p)
    before = written(field_ticket)
    url = f"/api/v1/offers/{offer['id']}/"

    # A client sees its ticket's offers but may neither make, accept nor withdraw one
    client = api("client_manager_a")
    assert (
        client.post(
            f"{TICKETS}{field_ticket.pk}/offers/", {"partner": fw.partner_q.pk}, format="json"
        ).status_code
        == 403
    )
    assert accept_via_api(api, fw, offer["id"], manager="client_manager_a").status_code == 403
    assert client.post(f"{url}withdraw/", {"reason": "x"}, format="json").status_code == 403
    # The dispatcher may not answer for the partner
    assert api("dispatcher").post(f"{url}decline/", {"reason": "x"}, format="json").status_code == (
        403
    )
    # P's manager may not withdraw its own offer
    assert (
        api("partner_manager_p").post(f"{url}withdraw/", {"reason": "x"}, format="json").status_code
        == 403
    )
    # Another partner, another client and P's engineer do not see the offer at all
    assert accept_via_api(api, fw, offer["id"], manager="partner_manager_q").status_code == 404
    assert api("client_manager_b").get(url).status_code == 404
    assert api("engineer_p").post(f"{url}decline/", {"reason": "x"}).status_code == 404
    assert written(field_ticket) == before


def test_partner_declines_with_a_reason_and_the_dispatcher_withdraws_another(api, fw, field_ticket):
    # Given an offer to P, declined with a reason
    offer = offer_via_api(api, field_ticket, fw.partner_p)
    declined = api("partner_manager_p").post(
        f"/api/v1/offers/{offer['id']}/decline/", {"reason": "Нет инженера"}, format="json"
    )
    assert declined.status_code == 200, declined.json()
    assert (declined.json()["status"], declined.json()["reason"]) == ("declined", "Нет инженера")
    # A decline needs a reason
    second = offer_via_api(api, field_ticket, fw.partner_q)
    empty = api("partner_manager_q").post(
        f"/api/v1/offers/{second['id']}/decline/", {"reason": ""}, format="json"
    )
    assert empty.status_code == 400

    # When the dispatcher withdraws the offer to Q
    withdrawn = api("dispatcher").post(
        f"/api/v1/offers/{second['id']}/withdraw/", {"reason": "Клиент перенёс"}, format="json"
    )

    # Then the job is back with the dispatcher, and the client never reads the reasons
    assert withdrawn.status_code == 200, withdrawn.json()
    field_ticket.refresh_from_db()
    assert (field_ticket.status, field_ticket.partner_id) == ("new", None)
    rows = api("client_manager_a").get(f"{TICKETS}{field_ticket.pk}/offers/").json()
    assert {row["reason"] for row in rows["results"]} == {None}
    # Staff filter every offer by status
    staff = api("dispatcher").get("/api/v1/offers/", {"status": "withdrawn"}).json()
    assert [row["id"] for row in staff["results"]] == [second["id"]]


def test_partners_never_see_each_others_offers_or_visits(api, fw, field_ticket):
    # Given P was offered the job and declined, then Q accepted it (a visit of Q's)
    first = offer_via_api(api, field_ticket, fw.partner_p)
    api("partner_manager_p").post(
        f"/api/v1/offers/{first['id']}/decline/", {"reason": "busy"}, format="json"
    )
    second = offer_via_api(api, field_ticket, fw.partner_q)
    assert (
        accept_via_api(api, fw, second["id"], "partner_manager_q", "engineer_q").status_code == 200
    )
    q_visit = Visit.objects.get(ticket=field_ticket, partner=fw.partner_q)

    # Then Q's manager reads only Q's offer and visit on the ticket
    q = api("partner_manager_q")
    assert [o["id"] for o in q.get(f"{TICKETS}{field_ticket.pk}/offers/").json()["results"]] == [
        second["id"]
    ]
    assert q.get(f"/api/v1/offers/{first['id']}/").status_code == 404
    # And P, no longer on the job, sees neither the ticket's offers nor Q's visit
    p = api("partner_manager_p")
    assert p.get(f"{TICKETS}{field_ticket.pk}/offers/").status_code == 404
    assert p.get(f"/api/v1/visits/{q_visit.pk}/").status_code == 404
    assert p.post(f"/api/v1/visits/{q_visit.pk}/en-route/").status_code == 404


def test_ranking_for_staff_403_for_the_client_404_for_a_stranger(api, fw, field_ticket):
    url = f"{TICKETS}{field_ticket.pk}/ranking/"
    ranked = api("dispatcher").get(url)
    assert ranked.status_code == 200
    rows = ranked.json()
    assert [r["name"] for r in rows if r["eligible"]][:2] == ["Partner P", "Partner Q"]
    assert api("client_manager_a").get(url).status_code == 403
    assert api("client_manager_b").get(url).status_code == 404


# --- visits -----------------------------------------------------------------------------------


@pytest.fixture
def visit(api, fw, field_ticket) -> Visit:
    offer = offer_via_api(api, field_ticket, fw.partner_p)
    assert accept_via_api(api, fw, offer["id"]).status_code == 200
    return Visit.objects.get(ticket=field_ticket)


def test_the_whole_visit_through_the_api(api, fw, field_ticket, visit):
    engineer = api("engineer_p")
    url = f"/api/v1/visits/{visit.pk}/"

    new_eta = (timezone.now() + timedelta(hours=2)).isoformat()
    assert engineer.post(f"{url}eta/", {"eta": new_eta}, format="json").status_code == 200
    assert engineer.post(f"{url}en-route/").status_code == 200
    checked_in = engineer.post(
        f"{url}check-in/", {"latitude": "55.758000", "longitude": "37.613600"}, format="json"
    )
    assert checked_in.status_code == 200, checked_in.json()
    field_ticket.refresh_from_db()
    assert field_ticket.status == "on_site"

    # A report missing an item names it
    partial = {**REPORT, "checklist": {"power": True}}
    bad = engineer.post(f"{url}report/", partial, format="json")
    assert bad.status_code == 400
    assert "checklist.fiscal_drive" in bad.json()["error"]["fields"]
    # A NUL character (which PostgreSQL's JSON refuses) is a field error, not a crash
    nul = {**REPORT, "parts": [{"name": "a\x00b", "qty": 1}]}
    refused = engineer.post(f"{url}report/", nul, format="json")
    assert refused.status_code == 400
    assert "parts.0.name" in refused.json()["error"]["fields"]
    assert engineer.post(f"{url}report/", REPORT, format="json").status_code == 200
    photo = engineer.post(f"{url}photo/", {"file": _png()}, format="multipart")
    assert photo.status_code == 201, photo.json()
    assert engineer.post(f"{url}check-out/").status_code == 200

    # The store's staff signs off in the portal; the engineer resolves
    signed = api("store_staff_a1").post(f"{url}sign-off/", {}, format="json")
    assert signed.status_code == 200, signed.json()
    assert signed.json()["signed_off_by"]["id"] == fw.users["store_staff_a1"].pk
    resolved = engineer.post(f"{url}resolve/", {"note": "Готово"}, format="json")
    assert resolved.status_code == 200, resolved.json()
    field_ticket.refresh_from_db()
    assert field_ticket.status == "resolved"
    assert resolved["ETag"] == f'"{field_ticket.pk}-{field_ticket.version}"'


def _png():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("shot.png", PNG, content_type="image/png")


def test_visit_steps_wrong_role_403_out_of_scope_404(api, fw, field_ticket, visit):
    before = written(field_ticket)
    url = f"/api/v1/visits/{visit.pk}/"

    # The dispatcher and the client see the visit but do not drive it
    assert api("dispatcher").post(f"{url}en-route/").status_code == 403
    assert api("client_manager_a").post(f"{url}en-route/").status_code == 403
    # Nor does the provider sign for the store
    assert api("dispatcher").post(f"{url}sign-off/", {}, format="json").status_code == 403
    # Another engineer of P, Q's people and client B do not see it
    for stranger in ("engineer_p2", "partner_manager_q", "engineer_q", "client_manager_b"):
        assert api(stranger).post(f"{url}en-route/").status_code == 404, stranger
    # A step out of order is a 409
    assert api("engineer_p").post(f"{url}check-out/").status_code == 409
    assert written(field_ticket) == before
