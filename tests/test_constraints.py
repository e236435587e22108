"""What the database itself refuses, whatever writes the row (no service, no validation).

Rows are inserted with the bare ORM; each bad one must fail with an IntegrityError naming
the constraint that caught it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from clients.models import Client, Region, Store
from servicedesk.models import User
from servicedesk.timezones import is_valid_time_zone
from tests.factories import (
    CertificationFactory,
    ClientFactory,
    CoverageFactory,
    EquipmentFactory,
    PartnerFactory,
    StoreFactory,
    TicketFactory,
    UserFactory,
)
from tickets.models import Attachment, Offer, Ticket, Visit

NOW = timezone.now()


def assert_refused(constraint: str, write: Callable[[], object]) -> None:
    """``write`` fails in the database, and the error names ``constraint``."""
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        write()
    assert constraint in str(exc.value)


# --- time zones ------------------------------------------------------------------------------

BAD_ZONES = [
    "Mars/Olympus",
    "MSK-3",
    "UTC+3",
    "+03:00",
    "",
    "Europe/Moscow ",
    "europe/moscow",
    "Europe/../Moscow",
    # POSIX-style offsets glued to a made-up name: PostgreSQL would read them as offsets.
    "Mars/Olympus+3",
    "Europe/Moscow+3",
    "Etc/GMT+99",
]
GOOD_ZONES = [
    "Asia/Kamchatka",
    "UTC",
    "America/Argentina/Buenos_Aires",
    "Etc/GMT+3",
    "Europe/Kaliningrad",
    "Europe/Minsk",
    "Asia/Almaty",
    "America/Port-au-Prince",
]


@pytest.mark.django_db
@pytest.mark.parametrize("zone", BAD_ZONES)
def test_store_with_an_unknown_time_zone_is_refused(zone):
    store = StoreFactory()
    assert_refused(
        "store_time_zone_valid",
        lambda: StoreFactory(client=store.client, region=store.region, time_zone=zone),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("zone", GOOD_ZONES)
def test_store_with_a_real_time_zone_is_stored(zone):
    store = StoreFactory(time_zone=zone)
    assert Store.objects.get(pk=store.pk).time_zone == zone


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Mars/Olympus", "MSK-3"])
def test_region_with_an_unknown_time_zone_is_refused(zone):
    assert_refused(
        "region_time_zone_valid",
        lambda: Region.objects.create(
            code="RU-XXX", name_ru="x", name_en="x", country="RU", time_zone=zone
        ),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Mars/Olympus", "MSK-3"])
def test_client_and_user_with_an_unknown_time_zone_are_refused(zone):
    assert_refused("client_time_zone_valid", lambda: ClientFactory(time_zone=zone))
    assert_refused("user_time_zone_valid", lambda: UserFactory(time_zone=zone))


@pytest.mark.django_db
def test_region_code_must_look_like_iso_3166_2():
    assert_refused(
        "region_code_iso",
        lambda: Region.objects.create(
            code="Moscow", name_ru="x", name_en="x", country="RU", time_zone="Europe/Moscow"
        ),
    )


@pytest.mark.django_db
def test_python_validator_and_database_check_agree_on_every_iana_name():
    # Given every zone name Python's tz database lists, plus the bad ones above
    names = sorted(zoneinfo.available_timezones() | set(BAD_ZONES) | set(GOOD_ZONES))
    # When both validators judge each name
    with connection.cursor() as cursor:
        cursor.execute("SELECT n, sd_is_valid_time_zone(n) FROM unnest(%s::text[]) AS n", [names])
        in_database = dict(cursor.fetchall())
    # Then they agree: a form never accepts a zone the database then refuses, or the reverse
    disagree = {
        name: {"python": is_valid_time_zone(name), "database": in_database[name]}
        for name in names
        if is_valid_time_zone(name) != in_database[name]
    }
    assert disagree == {}


# --- uniqueness within a tenant ----------------------------------------------------------------


@pytest.mark.django_db
def test_store_code_is_unique_per_client_only():
    # Given store S1 of one client
    store = StoreFactory(code="S1")
    # Then the same client cannot have another S1
    assert_refused(
        "store_code_unique_per_client",
        lambda: StoreFactory(client=store.client, region=store.region, code="S1"),
    )
    # But another client can
    other = StoreFactory(code="S1", region=store.region)
    assert Store.objects.filter(code="S1").count() == 2
    assert other.client_id != store.client_id


@pytest.mark.django_db
def test_ticket_number_is_unique_per_client_only():
    ticket = TicketFactory(number=7)
    assert_refused(
        "ticket_number_per_client",
        lambda: TicketFactory(store=ticket.store, number=7),
    )
    TicketFactory(number=7, store=StoreFactory(region=ticket.store.region))
    assert sorted(Ticket.objects.values_list("number", flat=True)) == [7, 7]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"number": 0}, "ticket_number_positive"),
        ({"version": 0}, "ticket_version_positive"),
        ({"status": "done"}, "ticket_status_valid"),
        ({"priority": "p9"}, "ticket_priority_valid"),
    ],
)
def test_ticket_field_checks(fields, constraint):
    store = StoreFactory()
    assert_refused(constraint, lambda: TicketFactory(store=store, **fields))


@pytest.mark.django_db
def test_engineer_without_partner_is_refused():
    engineer = UserFactory()
    assert_refused(
        "ticket_engineer_needs_partner", lambda: TicketFactory(engineer=engineer, partner=None)
    )
    # With a partner it is fine
    ticket = TicketFactory(engineer=engineer, partner=PartnerFactory())
    assert Ticket.objects.get(pk=ticket.pk).engineer_id == engineer.pk


@pytest.mark.django_db
def test_store_coordinates_stay_on_earth():
    assert_refused("store_latitude_range", lambda: StoreFactory(latitude=91))


# --- the partner network ---------------------------------------------------------------------


@pytest.mark.django_db
def test_coverage_capacity_must_be_positive():
    assert_refused("coverage_capacity_positive", lambda: CoverageFactory(capacity=0))
    assert CoverageFactory(capacity=1).capacity == 1


@pytest.mark.django_db
@pytest.mark.parametrize("expires_on", [dt.date(2025, 12, 31), dt.date(2026, 1, 1)])
def test_certification_cannot_expire_before_it_is_issued(expires_on):
    assert_refused(
        "certification_expires_after_issue",
        lambda: CertificationFactory(issued_on=dt.date(2026, 1, 1), expires_on=expires_on),
    )


# --- offers, visits, attachments ------------------------------------------------------------


def _offer(ticket: Ticket, status: str = "offered", **fields) -> Offer:
    values = {"offered_at": NOW, "deadline": NOW + dt.timedelta(minutes=30), **fields}
    return Offer.objects.create(ticket=ticket, partner=PartnerFactory(), status=status, **values)


@pytest.mark.django_db
def test_one_live_offer_per_ticket():
    # Given a ticket with a declined offer and a live one
    ticket = TicketFactory()
    _offer(ticket, "declined")
    _offer(ticket, "offered")
    # Then a second live offer is refused
    assert_refused("offer_one_live_per_ticket", lambda: _offer(ticket, "offered"))
    # But more ended offers, and a live offer on another ticket, are fine
    _offer(ticket, "expired")
    _offer(TicketFactory(store=ticket.store), "offered")
    assert Offer.objects.filter(status="offered").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("deadline", [NOW - dt.timedelta(seconds=1), NOW])
def test_offer_deadline_must_follow_the_offer(deadline):
    ticket = TicketFactory()
    assert_refused("offer_deadline_after_offer", lambda: _offer(ticket, deadline=deadline))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("checked_in_at", "checked_out_at"),
    [(NOW, NOW - dt.timedelta(minutes=1)), (None, NOW)],
    ids=["out-before-in", "out-without-in"],
)
def test_visit_checkout_after_checkin(checked_in_at, checked_out_at):
    ticket = TicketFactory()
    assert_refused(
        "visit_checkout_after_checkin",
        lambda: Visit.objects.create(
            ticket=ticket,
            partner=PartnerFactory(),
            checked_in_at=checked_in_at,
            checked_out_at=checked_out_at,
        ),
    )


@pytest.mark.django_db
def test_attachment_cannot_be_empty():
    ticket = TicketFactory()
    assert_refused(
        "attachment_size",
        lambda: Attachment.objects.create(
            ticket=ticket,
            uploaded_by=UserFactory(),
            file="attachments/x",
            original_name="x",
            content_type="text/plain",
            size=0,
            sha256="0" * 64,
        ),
    )


# --- composite foreign keys: checked when the transaction commits ----------------------------


@pytest.mark.django_db(transaction=True)
def test_ticket_store_must_belong_to_the_ticket_client():
    # Given a store of client B
    store_b = StoreFactory()
    client_a = ClientFactory()
    inserted = []
    # When a ticket of client A is written at it, then the commit fails
    # (the constraint is deferred: the error comes when the block commits)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        Ticket.objects.create(client=client_a, store=store_b, number=1, subject="x")
        inserted.append(True)  # deferred: the INSERT itself passes
    assert "ticket_store_belongs_to_client" in str(exc.value)
    assert inserted == [True]
    # And nothing was kept
    assert Ticket.objects.count() == 0
    # While the same ticket at its own client's store commits
    Ticket.objects.create(client=store_b.client, store=store_b, number=1, subject="x")
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ticket_equipment_must_be_at_the_ticket_store():
    # Given two stores of one client, with equipment at the second
    store_1 = StoreFactory()
    store_2 = StoreFactory(client=store_1.client, region=store_1.region)
    equipment_2 = EquipmentFactory(store=store_2)
    # When a ticket at store 1 names store 2's equipment, then the commit fails
    # (the constraint is deferred: the error comes when the block commits)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        Ticket.objects.create(
            client=store_1.client, store=store_1, equipment=equipment_2, number=1, subject="x"
        )
    assert "ticket_equipment_belongs_to_store" in str(exc.value)
    assert Ticket.objects.count() == 0
    # While the equipment at its own store is fine
    Ticket.objects.create(
        client=store_2.client, store=store_2, equipment=equipment_2, number=1, subject="x"
    )
    assert Ticket.objects.get().equipment_id == equipment_2.pk


@pytest.mark.django_db(transaction=True)
def test_moving_a_store_to_another_client_under_its_tickets_is_refused():
    # Given a ticket at a store of client A
    ticket = TicketFactory()
    other = ClientFactory()
    # When the store is moved to client B behind the services' back, then the commit fails
    # (the constraint is deferred: the error comes when the block commits)
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        Store.objects.filter(pk=ticket.store_id).update(client=other)
    assert "ticket_store_belongs_to_client" in str(exc.value)
    assert Store.objects.get(pk=ticket.store_id).client_id == ticket.client_id


@pytest.mark.django_db(transaction=True)
def test_deleting_equipment_keeps_the_ticket_and_its_store():
    # Given a ticket about a piece of equipment
    equipment = EquipmentFactory()
    ticket = TicketFactory(store=equipment.store, equipment=equipment)
    # When the equipment row is deleted in SQL (no ORM cascade logic)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM clients_equipment WHERE id = %s", [equipment.pk])
    # Then the ticket stays at its store, without the equipment
    ticket.refresh_from_db()
    assert ticket.equipment_id is None
    assert ticket.store_id == equipment.store_id
    assert Client.objects.filter(pk=ticket.client_id).exists()


@pytest.mark.django_db
def test_unknown_user_time_zone_is_refused_even_on_update():
    user = UserFactory()
    assert_refused(
        "user_time_zone_valid",
        lambda: User.objects.filter(pk=user.pk).update(time_zone="Mars/Olympus"),
    )
    assert User.objects.get(pk=user.pk).time_zone == "Europe/Moscow"
