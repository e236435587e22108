"""The event feed: what each caller sees, in commit-safe order, resumable without gaps.

These tests commit for real (``transaction=True``): the feed only shows events of finished
transactions, and a test wrapped in one open transaction would never see its own.
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.celery_support import connected_database_url
from tests.integrations.conftest import settle
from tickets import services as ticket_services
from tickets.events import event_record
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _feed(client, **params) -> dict:
    response = client.get("/api/v1/events/", params)
    assert response.status_code == 200, response.content
    return response.json()


def _walk(client, **params) -> list[dict]:
    """Every page from the start, following ``after`` until no more."""
    seen, after = [], None
    while True:
        page = _feed(client, **({"after": after} if after else {}), **params)
        seen += page["results"]
        after = page["cursor"]
        if not page["has_more"]:
            return seen


def test_an_event_committed_late_below_the_cursor_is_not_skipped(world, api_for):
    # Given a reader who has read everything so far
    client = api_for(world.users["dispatcher"])
    settle()
    cursor = _feed(client)["cursor"]
    ticket = world.tickets["a1"]
    # When transaction A writes an event (taking the lower id) and stays open...
    with psycopg.connect(connected_database_url()) as conn_a:
        a_id, a_txid = conn_a.execute(
            "INSERT INTO tickets_ticketevent"
            " (ticket_id, kind, actor_role, is_internal, data, created_at)"
            " VALUES (%s, 'commented', 'system', false, '{}', now()) RETURNING id, txid",
            [ticket.pk],
        ).fetchone()
        # ...while B writes one (a higher id) and commits first
        b = event_record(ticket=ticket, kind="commented", actor=None)
        b_txid = TicketEvent.objects.values_list("txid", flat=True).get(pk=b.pk)
        assert a_id < b.pk and a_txid < b_txid
        # an id cursor would now hand out B and move past A for good
        assert list(TicketEvent.objects.filter(pk__gte=a_id).values_list("pk", flat=True)) == [b.pk]
        # Then the feed holds B back while A may still commit below it
        page = _feed(client, after=cursor)
        assert page["results"] == [] and page["cursor"] == cursor
        conn_a.commit()
    # When A commits, both appear from the same cursor, in commit-safe order
    settle()
    page = _feed(client, after=cursor)
    assert [e["id"] for e in page["results"]] == [a_id, b.pk]
    # and the next cursor resumes after both
    assert _feed(client, after=page["cursor"])["results"] == []


def test_each_caller_sees_the_events_of_its_own_timeline(world, api_for):
    settle()
    everything = _walk(api_for(world.users["dispatcher"]))
    by_ticket = {key: t.pk for key, t in world.tickets.items()}
    assert {e["ticket"] for e in everything} == set(by_ticket.values())
    assert any(e["is_internal"] for e in everything)  # staff see internal notes

    client_a = _walk(api_for(world.users["client_manager_a"]))
    assert {e["ticket"] for e in client_a} == {by_ticket["a1"], by_ticket["a2"]}
    assert not any(e["is_internal"] for e in client_a)
    assert {e["ticket"] for e in _walk(api_for(world.users["client_manager_b"]))} == {
        by_ticket["b1"]
    }
    store_staff = _walk(api_for(world.users["store_staff_a1"]))
    assert {e["ticket"] for e in store_staff} == {by_ticket["a1"]}

    partner_p = _walk(api_for(world.users["partner_manager_p"]))
    assert {e["ticket"] for e in partner_p} == {by_ticket["a1"]}
    assert not any(e["is_internal"] for e in partner_p)
    assert all(e["data"].get("partner_id") in (None, world.partner_p.pk) for e in partner_p)
    # the same rows as the ticket's own timeline for that caller
    timeline = api_for(world.users["partner_manager_p"]).get(
        f"/api/v1/tickets/{by_ticket['a1']}/events/", {"page_size": 200}
    )
    assert sorted(e["id"] for e in partner_p) == sorted(e["id"] for e in timeline.json()["results"])


def test_without_a_role_the_feed_is_refused(world, api_for):
    response = api_for(world.users["nobody"]).get("/api/v1/events/")
    assert response.status_code in (401, 403)


def test_pages_walk_every_event_once_in_order(world, api_for):
    client = api_for(world.users["dispatcher"])
    settle()
    all_at_once = _feed(client, limit=500)["results"]
    paged = _walk(client, limit=2)
    assert [e["id"] for e in paged] == [e["id"] for e in all_at_once]
    assert len({e["id"] for e in paged}) == len(paged) == TicketEvent.objects.count()


def test_filters_by_kind_and_ticket(world, api_for):
    client = api_for(world.users["dispatcher"])
    settle()
    a1 = world.tickets["a1"].pk
    created = _walk(client, kind="created")
    assert {e["kind"] for e in created} == {"created"} and len(created) == 3
    assert {e["type"] for e in created} == {"ticket.created"}
    on_a1 = _walk(client, ticket=a1)
    assert {e["ticket"] for e in on_a1} == {a1}
    both = _walk(client, kind=["created", "commented"], ticket=a1)
    assert sorted(e["kind"] for e in both) == ["commented", "commented", "created"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": 501}, "limit"),
        ({"limit": 0}, "limit"),
        ({"after": "not-a-cursor"}, "after"),
        ({"kind": "nonsense"}, "kind"),
        ({"ticket": "x"}, "ticket"),
    ],
)
def test_bad_parameters_answer_400_with_the_field(world, api_for, params, field):
    response = api_for(world.users["dispatcher"]).get("/api/v1/events/", params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_query_count_does_not_grow_with_events(world, api_for):
    client = api_for(world.users["client_manager_a"])
    settle()
    _feed(client)  # warm up the token and actor look-ups
    with CaptureQueriesContext(connection) as few:
        small = _feed(client, limit=500)
    for n in range(10):
        ticket_services.ticket_comment(
            actor=world.actor("dispatcher"), ticket_id=world.tickets["a1"].pk, body=f"more {n}"
        )
    settle()
    with CaptureQueriesContext(connection) as many:
        large = _feed(client, limit=500)
    assert len(large["results"]) >= len(small["results"]) + 10
    assert len(many) == len(few)
