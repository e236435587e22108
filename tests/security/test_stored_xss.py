"""Stored XSS: markup typed into ticket subjects and descriptions, comments, file names,
store and partner names is shown as text on every page that shows it, never run.

Every field takes the same payload. Each page is fetched by the role that uses it; the raw
markup must be absent and, so that the check cannot pass by showing nothing, the escaped
payload must be present on the pages that display the field. A real browser then opens the
busiest pages and fails on any dialog the payload would open.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tickets import services

pytestmark = pytest.mark.django_db

RAW = "<img src=x onerror=\"alert('xss')\">"
ESCAPED = "&lt;img src=x onerror="
# 1×1 transparent PNG: uploads are checked by content.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001b7e2e7e10000000049454e44ae426082"
)


@pytest.fixture
def poisoned(world):
    return poison(world)


def poison(world):
    """Client A's store, partner P and a ticket of theirs carry the payload everywhere text
    goes; returns the ticket."""
    world.store_a1.name = f"Store {RAW}"
    world.store_a1.address = f"Street {RAW}"
    world.store_a1.save(update_fields=["name", "address"])
    organisation = world.partner_p.organisation
    organisation.name = f"Partner {RAW}"
    organisation.save(update_fields=["name"])
    dispatcher = world.actor("dispatcher")
    ticket = services.ticket_create(
        actor=dispatcher,
        store_id=world.store_a1.pk,
        subject=f"Subject {RAW}",
        description=f"Description {RAW}",
    )
    services.ticket_assign(
        actor=dispatcher,
        ticket_id=ticket.pk,
        partner_id=world.partner_p.pk,
        engineer_id=world.users["engineer_p"].pk,
    )
    services.ticket_comment(actor=dispatcher, ticket_id=ticket.pk, body=f"Comment {RAW}")
    services.ticket_attach(
        actor=dispatcher,
        ticket_id=ticket.pk,
        uploaded_file=SimpleUploadedFile(f"photo{RAW}.png", PNG, content_type="image/png"),
        is_internal=False,
        comment_id=None,
    )
    return ticket


def _pages(world, ticket) -> dict[str, list[str]]:
    """Role → the pages that role works with, showing the poisoned ticket."""
    return {
        "dispatcher": [
            reverse("home"),
            reverse("ticket_list"),
            reverse("ticket_detail", args=[ticket.pk]),
            reverse("dispatch_board"),
            reverse("dispatch_ranking", args=[ticket.pk]),
        ],
        "client_manager_a": [
            reverse("ticket_list"),
            reverse("ticket_detail", args=[ticket.pk]),
        ],
        "store_staff_a1": [reverse("ticket_detail", args=[ticket.pk])],
        "partner_manager_p": [reverse("portal"), reverse("ticket_detail", args=[ticket.pk])],
        "engineer_p": [reverse("field_jobs"), reverse("field_job", args=[ticket.pk])],
    }


def test_the_payload_is_escaped_on_every_page_that_shows_it(world, poisoned, client):
    shown_on = []
    for user, urls in _pages(world, poisoned).items():
        client.force_login(world.users[user])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (user, url)
            page = response.content.decode()
            assert RAW not in page, f"{user} {url}: the markup is rendered, not escaped"
            assert 'onerror="alert' not in page, (user, url)
            if ESCAPED in page:
                shown_on.append((user, url))
        client.logout()
    # Not vacuous: the payload is actually displayed, as text, on each role's ticket views.
    detail = reverse("ticket_detail", args=[poisoned.pk])
    for user in ("dispatcher", "client_manager_a", "store_staff_a1", "partner_manager_p"):
        assert (user, detail) in shown_on, f"{user} does not see the subject at all"
    assert ("engineer_p", reverse("field_job", args=[poisoned.pk])) in shown_on


def test_the_api_returns_the_text_as_data_not_markup(world, poisoned, api_for):
    api = api_for(world.users["dispatcher"])
    response = api.get(reverse("api:ticket-detail", args=[poisoned.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["subject"] == f"Subject {RAW}"  # stored verbatim, never "cleaned"
    assert response["X-Content-Type-Options"] == "nosniff"
