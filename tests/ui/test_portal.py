"""The partner portal: own offers and jobs only, nothing internal; accept and decline."""

from __future__ import annotations

import html
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.tickets.dispatch_support import field_world, open_field_ticket
from tickets import dispatch, services
from tickets.models import Offer, Visit

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def fw(world):
    return field_world(world, auto_dispatch=False)


def offered(fw, partner, subject: str = ""):
    job = open_field_ticket(fw, when=timezone.now())
    if subject:
        type(job).objects.filter(pk=job.pk).update(subject=subject)
        job.refresh_from_db()
    offer = dispatch.offer_make(
        actor=fw.actor("dispatcher"), ticket_id=job.pk, partner_id=partner.pk
    )
    return job, offer


def local(instant, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def accept_data(fw, offer, eta, engineer="engineer_p"):
    zone = offer.ticket.store.time_zone
    prefix = f"o{offer.pk}"
    return {f"{prefix}-engineer": fw.users[engineer].pk, f"{prefix}-eta": local(eta, zone)}


@pytest.mark.parametrize(
    "user", ["dispatcher", "client_manager_a", "store_staff_a1", "engineer_p", "provider_admin"]
)
def test_portal_is_for_partner_managers_only(client, fw, user):
    _job, offer = offered(fw, fw.partner_p)
    client.force_login(fw.users[user])

    assert client.get(reverse("portal")).status_code == 404
    response = client.post(reverse("portal_offer_decline", args=[offer.pk]), {"reason": "x"})
    assert response.status_code == 404
    assert Offer.objects.get(pk=offer.pk).status == "offered"


def test_portal_shows_own_offers_and_never_another_partners_or_internal(client, fw):
    mine, _offer = offered(fw, fw.partner_p, subject="Mine: till is down")
    theirs, _other = offered(fw, fw.partner_q, subject="Theirs: scales")
    services.ticket_comment(
        actor=fw.actor("dispatcher"), ticket_id=mine.pk, body="SECRET internal", is_internal=True
    )
    client.force_login(fw.users["partner_manager_p"])

    body = text(client.get(reverse("portal")))

    assert "Mine: till is down" in body and mine.reference in body
    assert "Theirs: scales" not in body and theirs.reference not in body
    assert "B1 net" not in body  # the world's job held by partner Q
    assert "SECRET internal" not in body
    assert "Internal note A1" not in body
    assert mine.store.time_zone in body  # the ETA's zone is named


def test_accepting_names_the_engineer_and_eta_in_the_stores_zone(client, fw):
    job, offer = offered(fw, fw.partner_p)
    eta = (timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    client.force_login(fw.users["partner_manager_p"])

    response = client.post(
        reverse("portal_offer_accept", args=[offer.pk]), accept_data(fw, offer, eta)
    )

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "accepted"
    assert job.engineer_id == fw.users["engineer_p"].pk
    assert Visit.objects.get(ticket=job).eta == eta
    body = text(client.get(reverse("portal")))
    assert job.reference in body  # now under jobs in progress
    assert "No offers to answer right now." in body


def test_decline_without_reason_keeps_the_form_with_an_error(client, fw):
    _job, offer = offered(fw, fw.partner_p)
    client.force_login(fw.users["partner_manager_p"])

    response = client.post(
        reverse("portal_offer_decline", args=[offer.pk]), {f"o{offer.pk}-reason": "  "}
    )

    assert response.status_code == 400
    assert "Say why you decline the job." in text(response)
    assert Offer.objects.get(pk=offer.pk).status == "offered"


def test_decline_with_a_reason(client, fw):
    _job, offer = offered(fw, fw.partner_p)
    client.force_login(fw.users["partner_manager_p"])

    response = client.post(
        reverse("portal_offer_decline", args=[offer.pk]), {f"o{offer.pk}-reason": "No one free"}
    )

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == "declined" and offer.decline_reason == "No one free"


def test_accepting_an_expired_offer_says_so_clearly(client, fw):
    job, offer = offered(fw, fw.partner_p)
    client.force_login(fw.users["partner_manager_p"])
    later = offer.deadline + timedelta(minutes=5)

    with time_machine.travel(later, tick=False):
        response = client.post(
            reverse("portal_offer_accept", args=[offer.pk]),
            accept_data(fw, offer, later + timedelta(hours=1)),
        )

    assert response.status_code == 409
    assert "This offer expired" in text(response)
    job.refresh_from_db()
    assert job.status == "assigned"


def test_accepting_a_withdrawn_offer_says_so_clearly(client, fw):
    _job, offer = offered(fw, fw.partner_p)
    dispatch.offer_withdraw(actor=fw.actor("dispatcher"), offer_id=offer.pk, reason="Store closed")
    client.force_login(fw.users["partner_manager_p"])

    response = client.post(
        reverse("portal_offer_accept", args=[offer.pk]),
        accept_data(fw, offer, timezone.now() + timedelta(hours=1)),
    )

    assert response.status_code == 409
    assert "withdrawn" in text(response)


def test_another_partners_offer_cannot_be_answered(client, fw):
    _job, offer = offered(fw, fw.partner_q)
    client.force_login(fw.users["partner_manager_p"])

    response = client.post(
        reverse("portal_offer_decline", args=[offer.pk]), {f"o{offer.pk}-reason": "mine now"}
    )

    assert response.status_code == 404
    assert Offer.objects.get(pk=offer.pk).status == "offered"


def test_portal_query_count_is_flat(client, fw, django_assert_max_num_queries):
    client.force_login(fw.users["partner_manager_p"])
    for _ in range(2):
        offered(fw, fw.partner_p)
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("portal"))
    fw.partner_p.coverages.update(capacity=50)
    for _ in range(8):
        offered(fw, fw.partner_p)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("portal"))
    assert text(response).count("offer-card__title") == 10
