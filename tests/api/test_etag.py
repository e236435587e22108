"""ETag, If-None-Match (304) and If-Match (412) on tickets.

A ticket's entity tag is ``"<id>-<version>"``. A stale If-Match is refused with 412 in the
uniform error body and leaves the ticket exactly as it was: same version, same timeline.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from tests.conftest import api_client_for
from tests.tickets.dispatch_support import field_world, open_field_ticket
from tickets.models import Offer, Ticket, TicketEvent

TICKETS = "/api/v1/tickets/"


def tag(ticket: Ticket) -> str:
    ticket.refresh_from_db()
    return f'"{ticket.pk}-{ticket.version}"'


def state(ticket: Ticket) -> tuple[int, int, str, str]:
    ticket.refresh_from_db()
    return (
        ticket.version,
        TicketEvent.objects.filter(ticket=ticket).count(),
        ticket.status,
        ticket.subject,
    )


def test_read_sends_the_etag_and_if_none_match_answers_304(world, api_for):
    # Given a client manager reading ticket A1
    ticket = world.tickets["a1"]
    client = api_for(world.users["client_manager_a"])
    first = client.get(f"{TICKETS}{ticket.pk}/")
    assert first.status_code == 200
    assert first["ETag"] == f'"{ticket.pk}-{ticket.version}"'

    # When it reads again with that tag (as sent, or weak)
    for sent in (first["ETag"], f"W/{first['ETag']}", f'"0-0", {first["ETag"]}'):
        again = client.get(f"{TICKETS}{ticket.pk}/", HTTP_IF_NONE_MATCH=sent)
        # Then 304 with no body and the same tag
        assert again.status_code == 304, sent
        assert again.content == b""
        assert again["ETag"] == first["ETag"]

    # When someone changes the ticket, the old tag no longer matches: 200 and a new tag
    api_for(world.users["dispatcher"]).patch(
        f"{TICKETS}{ticket.pk}/", {"subject": "changed"}, format="json"
    )
    changed = client.get(f"{TICKETS}{ticket.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] == tag(ticket) != first["ETag"]


def test_patch_with_the_current_if_match_succeeds_and_returns_the_new_etag(world, api_for):
    ticket = world.tickets["a1"]
    current = tag(ticket)
    response = api_for(world.users["dispatcher"]).patch(
        f"{TICKETS}{ticket.pk}/", {"subject": "Касса 2"}, format="json", HTTP_IF_MATCH=current
    )
    assert response.status_code == 200, response.json()
    assert response["ETag"] == tag(ticket) == f'"{ticket.pk}-{ticket.version}"'
    assert response["ETag"] != current


@pytest.mark.parametrize(
    "path,body",
    [
        ("", {"subject": "stale edit"}),
        ("transition/", {"status": "waiting_client"}),
        ("priority/", {"priority": "p1"}),
        ("assign/", {"partner": "Q"}),
    ],
)
def test_stale_if_match_is_412_and_changes_nothing(world, api_for, path, body):
    # Given the dispatcher read A1, then somebody else changed it
    ticket = world.tickets["a1"]
    client = api_for(world.users["dispatcher"])
    read = client.get(f"{TICKETS}{ticket.pk}/")["ETag"]
    client.patch(f"{TICKETS}{ticket.pk}/", {"description": "someone else"}, format="json")
    before = state(ticket)
    if body.get("partner") == "Q":
        body = {"partner": world.partner_q.pk}

    # When the dispatcher writes with the tag it read
    url = f"{TICKETS}{ticket.pk}/{path}"
    send = client.patch if not path else client.post
    response = send(url, body, format="json", HTTP_IF_MATCH=read)

    # Then 412 in the uniform body, and the version and the timeline are unchanged
    assert response.status_code == 412, response.json()
    error = response.json()["error"]
    assert error["code"] == "precondition_failed"
    assert error["message"]
    assert state(ticket) == before


def test_offer_made_under_a_stale_if_match_is_412_and_no_offer_exists(world, api_for):
    fw = field_world(world, auto_dispatch=False)
    ticket = open_field_ticket(fw, timezone.now())
    client = api_for(world.users["dispatcher"])
    stale = f'"{ticket.pk}-{ticket.version - 1}"' if ticket.version > 1 else f'"{ticket.pk}-99"'
    before = state(ticket)

    refused = client.post(
        f"{TICKETS}{ticket.pk}/offers/",
        {"partner": world.partner_p.pk},
        format="json",
        HTTP_IF_MATCH=stale,
    )
    assert refused.status_code == 412
    assert state(ticket) == before
    assert not Offer.objects.filter(ticket=ticket).exists()

    made = client.post(
        f"{TICKETS}{ticket.pk}/offers/",
        {"partner": world.partner_p.pk},
        format="json",
        HTTP_IF_MATCH=tag(ticket),
    )
    assert made.status_code == 201, made.json()
    assert made.json()["ticket"]["version"] == state(ticket)[0] > before[0]


def test_if_match_star_or_missing_writes_and_a_foreign_tag_never_matches(world, api_for):
    ticket = world.tickets["a1"]
    other = world.tickets["a2"]
    client = api_for(world.users["dispatcher"])
    url = f"{TICKETS}{ticket.pk}/"

    # Without If-Match the write is unconditional (documented), and * matches any version
    assert client.patch(url, {"subject": "one"}, format="json").status_code == 200
    assert client.patch(url, {"subject": "two"}, format="json", HTTP_IF_MATCH="*").status_code == (
        200
    )

    before = state(ticket)
    # Another ticket's tag, a weak tag, or garbage never match this ticket
    for sent in (tag(other), f"W/{tag(ticket)}", '"nonsense"'):
        response = client.patch(url, {"subject": "three"}, format="json", HTTP_IF_MATCH=sent)
        assert response.status_code == 412, sent
    malformed = client.patch(url, {"subject": "three"}, format="json", HTTP_IF_MATCH="12-3")
    assert malformed.status_code == 400
    assert "If-Match" in malformed.json()["error"]["fields"]
    assert state(ticket) == before


def test_a_stale_body_version_without_if_match_stays_409(world, api_for):
    ticket = world.tickets["a2"]
    response = api_for(world.users["dispatcher"]).post(
        f"{TICKETS}{ticket.pk}/priority/",
        {"priority": "p1", "version": ticket.version + 5},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale_version"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_patches_with_the_same_if_match_one_wins(world):
    # Given two dispatchers' clients holding the same tag of A1
    ticket = world.tickets["a1"]
    read = tag(ticket)
    before = state(ticket)
    clients = [api_client_for(world.users["dispatcher"]) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def patch(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = clients[index].patch(
                f"{TICKETS}{ticket.pk}/",
                {"subject": f"writer {index}"},
                format="json",
                HTTP_IF_MATCH=read,
            )
        finally:
            connection.close()

    # When both PATCH at once
    threads = [threading.Thread(target=patch, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)

    # Then exactly one 200 and one 412, and the ticket moved on by one version and one event
    codes = sorted(response.status_code for response in results)
    assert codes == [200, 412]
    winner = next(r for r in results if r.status_code == 200)
    version, events, _status, subject = state(ticket)
    assert (version, events) == (before[0] + 1, before[1] + 1)
    assert subject == winner.json()["subject"]
    assert winner["ETag"] == f'"{ticket.pk}-{version}"'
