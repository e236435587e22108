"""The dispatcher's board: who sees it, lanes, filters, alerts, the ranking and one-click offers."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from servicedesk.models import Notification
from tests.tickets.dispatch_support import field_world, live_offer, open_field_ticket
from tickets.models import Offer

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response) -> str:
    return html.unescape(response.content.decode())


def lane_of(response, ticket) -> str | None:
    """The lane (``data-lane``) the ticket's card sits in."""
    page = response.content.decode()
    for match in re.finditer(r'data-lane="(\w+)"(.*?)</section>', page, re.S):
        if f'data-ticket="{ticket.pk}"' in match.group(2):
            return match.group(1)
    return None


@pytest.fixture
def fw(world):
    return field_world(world, auto_dispatch=False)


def new_job(fw, **fields):
    return open_field_ticket(fw, when=timezone.now(), **fields)


@pytest.mark.parametrize("user", ["dispatcher", "provider_admin"])
def test_provider_staff_see_the_board(client, fw, user):
    job = new_job(fw)
    client.force_login(fw.users[user])

    response = client.get(reverse("dispatch_board"))

    assert response.status_code == 200
    assert lane_of(response, job) == "unassigned"
    assert "Dispatch board" in text(response)


@pytest.mark.parametrize(
    "user", ["client_manager_a", "store_staff_a1", "partner_manager_p", "engineer_p"]
)
def test_others_get_404_on_the_board_and_its_actions(client, fw, user):
    job = new_job(fw)
    client.force_login(fw.users[user])

    assert client.get(reverse("dispatch_board")).status_code == 404
    assert client.get(reverse("dispatch_ranking", args=[job.pk])).status_code == 404
    response = client.post(reverse("dispatch_offer", args=[job.pk]), {"partner": fw.partner_p.pk})
    assert response.status_code == 404
    assert live_offer(job) is None


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("dispatch_board"))
    assert response.status_code == 302


def test_ranking_shows_reasons_and_one_click_offer(client, fw):
    job = new_job(fw)
    fw.partner_q.certifications.update(expires_on="2026-01-02")  # Q's certificate expired
    client.force_login(fw.users["dispatcher"])

    page = client.get(reverse("dispatch_ranking", args=[job.pk]))
    body = text(page)

    assert page.status_code == 200
    assert "Partner P" in body and "Partner Q" in body
    assert "no valid certification" in body  # why Q is left out
    assert "ranking__item--out" in body
    assert body.count('name="partner"') == 1  # a button for the eligible partner only

    response = client.post(
        reverse("dispatch_offer", args=[job.pk]),
        {"partner": fw.partner_p.pk, "next": reverse("dispatch_board")},
    )

    assert response.status_code == 302
    offer = live_offer(job)
    assert offer is not None and offer.partner_id == fw.partner_p.pk
    board = client.get(reverse("dispatch_board"))
    assert lane_of(board, job) == "offered"
    assert "data-countdown" in board.content.decode()


def test_offer_refused_shows_the_reason_on_the_ranking(client, fw):
    job = new_job(fw)
    fw.partner_q.certifications.update(expires_on="2026-01-02")
    client.force_login(fw.users["dispatcher"])

    response = client.post(reverse("dispatch_offer", args=[job.pk]), {"partner": fw.partner_q.pk})

    assert response.status_code in (400, 409, 422)
    assert "alert--error" in text(response)
    assert not Offer.objects.filter(ticket=job).exists()


def test_filters_are_kept_in_the_url_and_narrow_the_board(client, fw):
    job_a = new_job(fw)
    job_b = new_job(fw, store=fw.store_b1)
    client.force_login(fw.users["dispatcher"])

    response = client.get(reverse("dispatch_board"), {"client": fw.client_b.pk})
    body = response.content.decode()

    assert f'data-ticket="{job_b.pk}"' in body
    assert f'data-ticket="{job_a.pk}"' not in body
    assert f"client={fw.client_b.pk}" in body  # the poll keeps the filter
    bad = client.get(reverse("dispatch_board"), {"client": "x", "partner": "'", "region": "<"})
    assert bad.status_code == 200


def test_htmx_poll_gets_the_live_fragment(client, fw):
    new_job(fw)
    client.force_login(fw.users["dispatcher"])

    response = client.get(reverse("dispatch_board"), **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="board-live"')
    assert "<html" not in body
    assert 'hx-trigger="every 15s' in body


def test_flagged_job_is_under_needs_attention_with_its_reason(client, fw):
    job = new_job(fw)
    type(job).objects.filter(pk=job.pk).update(
        needs_attention=True, attention_reason="No eligible partner left"
    )
    client.force_login(fw.users["dispatcher"])

    response = client.get(reverse("dispatch_board"))

    assert lane_of(response, job) == "attention"
    assert "No eligible partner left" in text(response)


def test_alerts_show_newest_first_and_can_be_marked_read(client, fw):
    me = fw.users["dispatcher"]
    old = Notification.objects.create(recipient=me, kind="x", title="Old alert", dedupe_key="1")
    new = Notification.objects.create(recipient=me, kind="x", title="New alert", dedupe_key="2")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(1))
    theirs = Notification.objects.create(
        recipient=fw.users["provider_admin"], kind="x", title="Not mine", dedupe_key="3"
    )
    client.force_login(me)

    body = text(client.get(reverse("dispatch_board")))
    assert body.index("New alert") < body.index("Old alert")
    assert "Not mine" not in body

    client.post(reverse("dispatch_alert_read", args=[new.pk]))
    client.post(reverse("dispatch_alert_read", args=[theirs.pk]))  # not mine: nothing happens

    new.refresh_from_db()
    theirs.refresh_from_db()
    assert new.read_at is not None and theirs.read_at is None
    fragment = client.post(reverse("dispatch_alerts_read"), **HTMX)
    assert "No new alerts." in text(fragment)


def test_board_query_count_is_flat(client, fw):
    client.force_login(fw.users["dispatcher"])
    for _ in range(3):
        new_job(fw)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dispatch_board"))
    for _ in range(17):
        new_job(fw)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("dispatch_board"))

    assert response.content.decode().count("job-card") >= 20
    assert len(many.captured_queries) == len(few.captured_queries)


def test_ticket_page_has_a_dispatch_block_for_staff_only(client, fw):
    job = new_job(fw)
    client.force_login(fw.users["dispatcher"])
    body = text(client.get(reverse("ticket_detail", args=[job.pk])))
    assert reverse("dispatch_ranking", args=[job.pk]) in body

    client.force_login(fw.users["client_manager_a"])
    body = text(client.get(reverse("ticket_detail", args=[job.pk])))
    assert reverse("dispatch_ranking", args=[job.pk]) not in body
