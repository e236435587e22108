"""On site: en route, check-in (position, distance, the arrival clocks), report, photos,
the store's sign-off and the resolution.

The job opens at T0 = 07:00Z and P accepts at 07:10Z (ETA 08:10Z). P's arrival OLA is
2 h from its assignment at T0 → due 09:00Z; the client's arrival SLA 4 h → 11:00Z.
Store A1 sits at 55.757600 N, 37.613600 E. A degree of latitude is
π/180 × 6 371 000 m = 111 195 m, so 0.0004° north is 44.5 m and 0.0207° north 2 301.7 m.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from servicedesk.exceptions import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from sla.models import SlaClock
from tests.factories import MembershipFactory, StoreStaffAssignmentFactory, UserFactory
from tests.tickets.dispatch_support import (
    accept,
    at,
    field_world,
    live_offer,
    ola,
    open_field_ticket,
)
from tickets import visits
from tickets.models import TicketEvent, Visit

NEAR = (Decimal("55.758000"), Decimal("37.613600"))
FAR = (Decimal("55.778300"), Decimal("37.613600"))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
REPORT = {
    "checklist": {
        "power": True,
        "fiscal_drive": True,
        "receipt_printer": True,
        "network": False,
    },
    "parts": [{"name": "Термоголовка", "qty": 1, "serial": "TH-778"}, {"name": "Шлейф", "qty": 2}],
    "text": "Заменена термоголовка, ОФД недоступен со стороны провайдера",
}


@pytest.fixture
def job(world):
    """An accepted field job: (world, ticket, visit)."""
    fw = field_world(world)
    ticket = open_field_ticket(fw)
    accept(fw, live_offer(ticket), at(10))
    return fw, ticket, Visit.objects.get(ticket=ticket)


def steps(ticket, **filters) -> list[str]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind="visit_updated", **filters)
        .order_by("created_at", "pk")
        .values_list("data__step", flat=True)
    )


def check_in(fw, visit, when, position=NEAR, who="engineer_p"):
    with time_machine.travel(when, tick=False):
        return visits.visit_check_in(
            actor=fw.actor(who), visit_id=visit.pk, latitude=position[0], longitude=position[1]
        )


def on_site(fw, visit, when=None):
    check_in(fw, visit, when or at(90))
    with time_machine.travel(at(95), tick=False):
        return visits.visit_report(actor=fw.actor("engineer_p"), visit_id=visit.pk, **REPORT)


def test_en_route_then_a_check_in_near_the_store_meets_the_arrival_clocks(job):
    fw, ticket, visit = job
    # When the engineer updates the ETA, sets off at 07:40Z and checks in at 08:40Z, 44 m away
    with time_machine.travel(at(20), tick=False):
        visits.visit_set_eta(actor=fw.actor("engineer_p"), visit_id=visit.pk, eta=at(100))
    with time_machine.travel(at(40), tick=False):
        visits.visit_en_route(actor=fw.actor("engineer_p"), visit_id=visit.pk)
    ticket.refresh_from_db()
    assert ticket.status == "en_route"
    check_in(fw, visit, at(100))
    # Then the job is on site, the position and the distance recorded, nothing flagged
    visit.refresh_from_db()
    ticket.refresh_from_db()
    assert ticket.status == "on_site"
    assert (visit.eta, visit.en_route_at, visit.checked_in_at) == (at(100), at(40), at(100))
    assert (visit.check_in_latitude, visit.check_in_distance_m, visit.check_in_flagged) == (
        NEAR[0],
        44,
        False,
    )
    # P's arrival OLA (due 09:00Z) and the client's arrival SLA (due 11:00Z) are met at 08:40Z
    arrival = ola(ticket, "arrival", fw.partner_p)
    sla_arrival = SlaClock.objects.get(ticket=ticket, agreement="sla", metric="arrival")
    assert (arrival.state, arrival.stopped_at, sla_arrival.state) == ("met", at(100), "met")
    # And every step is on the public timeline
    assert steps(ticket) == ["eta", "en_route", "checked_in"]
    assert steps(ticket, is_internal=True) == []


def test_a_check_in_far_from_the_store_is_flagged_for_the_dispatcher(job):
    fw, ticket, visit = job
    check_in(fw, visit, at(100), FAR)
    visit.refresh_from_db()
    # 0.0207° × 111 195 m = 2 301.7 m
    assert (visit.check_in_distance_m, visit.check_in_flagged) == (2302, True)
    flag = TicketEvent.objects.get(ticket=ticket, data__step="check_in_far")
    assert flag.is_internal
    assert flag.data["note"] == "check-in far from the store (2.3 km)"


def test_check_in_refuses_a_position_that_is_not_one(job):
    fw, ticket, visit = job
    with pytest.raises(ValidationFailed) as bad:
        check_in(fw, visit, at(100), (Decimal("91"), Decimal("37.6")))
    assert list(bad.value.fields) == ["latitude"]
    ticket.refresh_from_db()
    assert ticket.status == "accepted"


def test_only_the_jobs_engineer_or_its_manager_drive_the_visit(job):
    fw, _ticket, visit = job
    # Another engineer of P does not even see it; Q's people neither
    for who in ("engineer_p2", "engineer_q", "partner_manager_q"):
        with pytest.raises(NotFound):
            check_in(fw, visit, at(100), who=who)
    with pytest.raises(PermissionDenied):
        check_in(fw, visit, at(100), who="dispatcher")
    # P's manager may (e.g. for an engineer without a phone)
    check_in(fw, visit, at(100), who="partner_manager_p")


def test_the_report_names_every_missing_or_wrong_field(job):
    fw, _ticket, visit = job
    with pytest.raises(InvalidTransition):
        visits.visit_report(actor=fw.actor("engineer_p"), visit_id=visit.pk, **REPORT)
    check_in(fw, visit, at(100))
    with pytest.raises(ValidationFailed) as bad:
        visits.visit_report(
            actor=fw.actor("engineer_p"),
            visit_id=visit.pk,
            checklist={"power": True, "fiscal_drive": "yes", "cctv": True},
            parts=[{"name": "", "qty": 0}, {"name": "Шлейф", "qty": 1, "colour": "red"}],
            text="  ",
        )
    assert bad.value.fields == {
        "checklist.fiscal_drive": ["Answer yes or no."],
        "checklist.receipt_printer": ["Answer this item."],
        "checklist.network": ["Answer this item."],
        "checklist": ["Not on the cash_register checklist: cctv."],
        "parts.0.name": ["Name the part (up to 200 characters)."],
        "parts.0.qty": ["A whole number from 1 to 1000."],
        "parts.1": ["Unknown fields: colour."],
        "text": ["Say what was done."],
    }


def test_report_photos_sign_off_and_resolve(job, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    fw, ticket, visit = job
    on_site(fw, visit)
    visit.refresh_from_db()
    assert visit.checklist == REPORT["checklist"]
    assert visit.parts_used == [
        {"name": "Термоголовка", "qty": 1, "serial": "TH-778"},
        {"name": "Шлейф", "qty": 2},
    ]
    reported = TicketEvent.objects.get(ticket=ticket, data__step="reported")
    assert (reported.data["checks_failed"], reported.data["parts"]) == (["network"], 2)
    # A photo is linked to the visit; a text file is not a photo
    photo = visits.visit_attach_photo(
        actor=fw.actor("engineer_p"),
        visit_id=visit.pk,
        uploaded_file=SimpleUploadedFile("after.png", PNG),
    )
    assert (photo.visit_id, photo.content_type) == (visit.pk, "image/png")
    with pytest.raises(ValidationFailed):
        visits.visit_attach_photo(
            actor=fw.actor("engineer_p"),
            visit_id=visit.pk,
            uploaded_file=SimpleUploadedFile("notes.txt", b"just text"),
        )
    # The store staff of A1 signs off in the portal
    with time_machine.travel(at(100), tick=False):
        visits.visit_sign_off(actor=fw.actor("store_staff_a1"), visit_id=visit.pk)
    visit.refresh_from_db()
    assert (visit.signed_off_by_id, visit.signed_off_at, visit.signed_off_on_device) == (
        fw.users["store_staff_a1"].pk,
        at(100),
        False,
    )
    # The engineer resolves: checked out, the ticket resolved, the resolution clocks met
    with time_machine.travel(at(105), tick=False):
        visits.visit_resolve(actor=fw.actor("engineer_p"), visit_id=visit.pk)
    visit.refresh_from_db()
    ticket.refresh_from_db()
    assert (ticket.status, visit.checked_out_at) == ("resolved", at(105))
    assert ola(ticket, "resolution", fw.partner_p).state == "met"
    assert steps(ticket) == ["checked_in", "reported", "signed_off", "checked_out"]


def test_only_staff_of_that_store_or_its_client_sign_off(job):
    fw, _ticket, visit = job
    on_site(fw, visit)
    # Client A's staff of another store, client B's people: the visit is not theirs to see
    other = MembershipFactory(
        user=UserFactory(username="staff_a2"),
        organisation=fw.client_a.organisation,
        role="store_staff",
    )
    StoreStaffAssignmentFactory(membership=other, store=fw.store_a2)
    for who in ("staff_a2", "store_staff_b1", "client_manager_b"):
        if who == "staff_a2":
            fw.users[who] = other.user
        with pytest.raises(NotFound):
            visits.visit_sign_off(actor=fw.actor(who), visit_id=visit.pk)
    # The engineer cannot sign for the store
    with pytest.raises(PermissionDenied):
        visits.visit_sign_off(actor=fw.actor("engineer_p"), visit_id=visit.pk)
    # Client A's manager may; only once
    visits.visit_sign_off(actor=fw.actor("client_manager_a"), visit_id=visit.pk)
    with pytest.raises(Conflict):
        visits.visit_sign_off(actor=fw.actor("store_staff_a1"), visit_id=visit.pk)


def test_sign_off_on_the_engineers_screen_with_the_store_employees_password(job):
    fw, ticket, visit = job
    on_site(fw, visit)
    sign = visits.visit_sign_off_with_credentials
    engineer = fw.actor("engineer_p")
    # A wrong password, and another client's employee, are refused
    with pytest.raises(PermissionDenied, match="username or password is wrong"):
        sign(actor=engineer, visit_id=visit.pk, username="store_staff_a1", password="guess")
    with pytest.raises(PermissionDenied, match="not on the staff of store A1"):
        sign(
            actor=engineer, visit_id=visit.pk, username="store_staff_b1", password="secret-pass-123"
        )
    # The engineer's own credentials are not a store's
    with pytest.raises(PermissionDenied, match="not on the staff"):
        sign(actor=engineer, visit_id=visit.pk, username="engineer_p", password="secret-pass-123")
    # The store's employee confirms on the engineer's phone
    sign(actor=engineer, visit_id=visit.pk, username="store_staff_a1", password="secret-pass-123")
    visit.refresh_from_db()
    assert (visit.signed_off_by_id, visit.signed_off_on_device) == (
        fw.users["store_staff_a1"].pk,
        True,
    )
    signed = TicketEvent.objects.get(ticket=ticket, data__step="signed_off")
    assert (signed.actor_id, signed.actor_role, signed.data["engineer_id"]) == (
        fw.users["store_staff_a1"].pk,
        "store_staff",
        fw.users["engineer_p"].pk,
    )


def test_resolving_needs_the_report(job):
    fw, ticket, visit = job
    check_in(fw, visit, at(100))
    with pytest.raises(InvalidTransition, match="work report"):
        visits.visit_resolve(actor=fw.actor("engineer_p"), visit_id=visit.pk)
    ticket.refresh_from_db()
    assert ticket.status == "on_site"
