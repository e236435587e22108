"""The ticket API: create, list, detail, actions, comments, timeline and files, per role."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tickets import services as ticket_services
from tickets.models import Attachment, Comment, Ticket, TicketEvent

TICKETS = "/api/v1/tickets/"


def detail(ticket) -> str:
    return f"{TICKETS}{ticket.pk}/"


def png_bytes() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def upload(name: str, content: bytes, content_type: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def counts() -> tuple[int, int, int, int]:
    return (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        Comment.objects.count(),
        Attachment.objects.count(),
    )


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


# -- create --------------------------------------------------------------------------------


def test_client_manager_opens_a_ticket(world, api_for):
    # given
    client = api_for(world.users["client_manager_a"])
    equipment = world.store_a2.equipment.get()

    # when
    response = client.post(
        TICKETS,
        {
            "store": world.store_a2.pk,
            "subject": "  Camera 3 shows nothing  ",
            "description": "Since the night.",
            "priority": "p2",
            "category": "cctv",
            "needs_visit": True,
            "equipment": equipment.pk,
            "external_id": "ERP-77",
        },
    )

    # then 201 with the representation and its location
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert response["Location"].endswith(detail(ticket))
    assert re.fullmatch(r"AAA-\d{6}", body["reference"])
    assert body["reference"] == f"AAA-{ticket.number:06d}" == "AAA-000003"
    assert body["client"] == {"id": world.client_a.pk, "code": "AAA", "name": "Client A"}
    assert body["store"]["id"] == world.store_a2.pk
    assert body["store"]["time_zone"] == "Asia/Kamchatka"
    assert body["subject"] == "Camera 3 shows nothing"
    assert (body["status"], body["priority"], body["category"]) == ("new", "p2", "cctv")
    assert body["needs_visit"] is True
    assert body["equipment"]["id"] == equipment.pk
    assert body["partner"] is None and body["engineer"] is None
    assert body["version"] == 1
    assert body["external_id"] == "ERP-77"
    # times: UTC in the API, the store's zone (Kamchatka, UTC+12) in created_at_local
    assert body["created_at"].endswith("Z")
    assert body["created_at_local"].endswith("+12:00")
    assert ticket.events.filter(kind="created").count() == 1


def test_created_at_local_is_the_same_instant_in_the_store_zone(world, api_for):
    from datetime import datetime

    response = api_for(world.users["dispatcher"]).get(detail(world.tickets["a1"]))

    body = response.json()
    utc = datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
    local = datetime.fromisoformat(body["created_at_local"])
    assert utc == local
    assert body["created_at_local"].endswith("+03:00")  # Moscow store


def test_create_ignores_read_only_fields_in_the_body(world, api_for):
    # given a body that tries to set what only the system sets
    client = api_for(world.users["client_manager_a"])

    # when
    response = client.post(
        TICKETS,
        {
            "store": world.store_a1.pk,
            "subject": "Printer jam",
            "client": world.client_b.pk,
            "number": 999,
            "status": "closed",
            "version": 42,
            "partner": world.partner_p.pk,
            "engineer": world.users["engineer_p"].pk,
            "id": 1,
            "created_at": "2001-01-01T00:00:00Z",
            "resolved_at": "2001-01-01T00:00:00Z",
        },
    )

    # then none of them took effect
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.client_id == world.client_a.pk
    assert ticket.number == 3
    assert ticket.status == "new"
    assert ticket.version == 1
    assert ticket.partner_id is None and ticket.engineer_id is None
    assert ticket.created_at.year > 2001 and ticket.resolved_at is None


def test_unknown_store_is_400_naming_store_and_writes_nothing(world, api_for):
    # given
    client = api_for(world.users["dispatcher"])
    before = counts()

    # when
    response = client.post(TICKETS, {"store": 987654, "subject": "Nothing works"})

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert "store" in error["fields"]
    assert "987654" in error["message"]
    assert counts() == before


def test_store_of_another_client_is_unknown_and_writes_nothing(world, api_for):
    # given client A's manager names client B's store
    client = api_for(world.users["client_manager_a"])
    before = counts()
    world.client_b.refresh_from_db()
    sequence_b = world.client_b.ticket_sequence

    # when
    response = client.post(TICKETS, {"store": world.store_b1.pk, "subject": "Hello"})

    # then it is answered as if the store did not exist
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["store"]
    assert counts() == before
    world.client_b.refresh_from_db()
    assert world.client_b.ticket_sequence == sequence_b


def test_store_staff_cannot_open_a_ticket_at_a_store_not_listed_for_them(world, api_for):
    before = counts()

    response = api_for(world.users["store_staff_a1"]).post(
        TICKETS, {"store": world.store_a2.pk, "subject": "Not my store"}
    )

    assert response.status_code == 400
    assert "store" in response.json()["error"]["fields"]
    assert counts() == before


def test_equipment_of_another_store_is_400_naming_equipment(world, api_for):
    before = counts()
    other = world.store_a2.equipment.get()

    response = api_for(world.users["client_manager_a"]).post(
        TICKETS, {"store": world.store_a1.pk, "subject": "Till", "equipment": other.pk}
    )

    assert response.status_code == 400
    assert "equipment" in response.json()["error"]["fields"]
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "subject"),
        ({"subject": ""}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"store": None}, "store"),
        ({"store": "abc"}, "store"),
        ({"store": [1]}, "store"),
        ({"needs_visit": "maybe"}, "needs_visit"),
        ({"priority": "p9"}, "priority"),
        ({"category": 5}, "category"),
        ({"kind": "outage"}, "kind"),
        ({"equipment": "first"}, "equipment"),
        ({"external_id": "e" * 101}, "external_id"),
    ],
)
def test_bad_create_bodies_are_400_naming_the_field(world, api_for, body, field):
    # given a valid body with one field spoiled (or missing)
    payload = {"store": world.store_a1.pk, "subject": "Till is down", **body}
    if body == {}:
        payload.pop("subject")
    before = counts()

    # when
    response = api_for(world.users["dispatcher"]).post(TICKETS, payload)

    # then
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]
    assert field in error["message"]
    assert counts() == before


def test_malformed_json_is_400_and_writes_nothing(world, api_for):
    before = counts()

    response = api_for(world.users["dispatcher"]).post(
        TICKETS, data='{"store": 1, "subject": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert counts() == before


@pytest.mark.parametrize("user", ["partner_manager_p", "engineer_p"])
def test_partners_cannot_open_tickets(world, api_for, user):
    before = counts()

    response = api_for(world.users[user]).post(
        TICKETS, {"store": world.store_a1.pk, "subject": "From a partner"}
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert counts() == before


# -- list and detail -----------------------------------------------------------------------


def refs(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["reference"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("user", "visible"),
    [
        ("dispatcher", {"a1", "a2", "b1"}),
        ("provider_admin", {"a1", "a2", "b1"}),
        ("client_manager_a", {"a1", "a2"}),
        ("store_staff_a1", {"a1"}),
        ("client_manager_b", {"b1"}),
        ("partner_manager_p", {"a1"}),
        ("engineer_p", {"a1"}),
        ("engineer_p2", set()),
        ("partner_manager_q", {"b1"}),
    ],
)
def test_each_role_lists_only_its_tickets(world, api_for, user, visible):
    response = api_for(world.users[user]).get(TICKETS)

    assert refs(response) == {world.tickets[key].reference for key in visible}


def test_list_filters_by_status_and_store(world, api_for):
    client = api_for(world.users["dispatcher"])

    assert refs(client.get(TICKETS, {"status": "new"})) == {world.tickets["a2"].reference}
    assert refs(client.get(TICKETS, {"store": world.store_b1.pk})) == {
        world.tickets["b1"].reference
    }
    assert refs(client.get(TICKETS, {"q": world.tickets["a1"].reference})) == {
        world.tickets["a1"].reference
    }


def test_list_filter_with_a_bad_value_is_400_naming_it(world, api_for):
    response = api_for(world.users["dispatcher"]).get(TICKETS, {"status": "bogus"})

    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_cursor_pages_walk_every_ticket_once_in_either_direction(world, api_for):
    # given 7 tickets in all (3 from the world)
    dispatcher = world.actor("dispatcher")
    for n in range(4):
        ticket_services.ticket_create(
            actor=dispatcher, store_id=world.store_a1.pk, subject=f"T{n}", priority=f"p{n % 4 + 1}"
        )
    client = api_for(world.users["dispatcher"])
    expected = list(Ticket.objects.order_by("-created_at", "-id").values_list("id", flat=True))

    # when paging forwards by 3
    seen, pages, url = [], [], f"{TICKETS}?page_size=3"
    while url:
        body = client.get(url).json()
        pages.append(body)
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    # then every ticket once, newest first, and "previous" leads back
    assert seen == expected
    assert [len(p["results"]) for p in pages] == [3, 3, 1]
    assert pages[0]["previous"] is None
    back = client.get(pages[2]["previous"]).json()
    assert [row["id"] for row in back["results"]] == expected[3:6]


def test_ordering_by_priority_pages_through_ties(world, api_for):
    # given many tickets sharing a priority
    dispatcher = world.actor("dispatcher")
    for n in range(6):
        ticket_services.ticket_create(
            actor=dispatcher, store_id=world.store_a1.pk, subject=f"P{n}", priority="p1"
        )
    client = api_for(world.users["dispatcher"])

    # when paging by priority, two at a time
    seen, url = [], f"{TICKETS}?ordering=priority&page_size=2"
    while url:
        body = client.get(url).json()
        seen += [(row["priority"], row["id"]) for row in body["results"]]
        url = body["next"]

    # then sorted by (priority, id), each ticket exactly once
    assert seen == sorted(seen)
    assert len(seen) == len({pk for _, pk in seen}) == Ticket.objects.count()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "subject"}, "ordering"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_paging_parameters_are_400_naming_them(world, api_for, params, field):
    response = api_for(world.users["dispatcher"]).get(TICKETS, params)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_cursor_of_another_ordering_is_refused(world, api_for):
    client = api_for(world.users["dispatcher"])
    next_url = client.get(TICKETS, {"page_size": 1}).json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]

    response = client.get(TICKETS, {"ordering": "number", "cursor": cursor})

    assert response.status_code == 400
    assert "cursor" in response.json()["error"]["fields"]


def test_ticket_list_query_count_does_not_grow_with_rows(
    world, api_for, django_assert_max_num_queries
):
    # given a dispatcher's token (used once, so its last-used stamp is fresh) and tickets
    # with a partner, an engineer and equipment, at a store with a region
    client = api_for(world.users["dispatcher"])
    assert client.get(TICKETS).status_code == 200
    dispatcher = world.actor("dispatcher")
    equipment = world.store_a2.equipment.get()

    def make(n: int) -> None:
        for i in range(n):
            ticket = ticket_services.ticket_create(
                actor=dispatcher,
                store_id=world.store_a2.pk,
                subject=f"Q{i}",
                equipment_id=equipment.pk,
            )
            ticket_services.ticket_assign(
                actor=dispatcher,
                ticket_id=ticket.pk,
                partner_id=world.partner_p.pk,
                engineer_id=world.users["engineer_p"].pk,
            )

    def list_queries() -> int:
        # token lookup + one page query: no COUNT, no per-row queries
        with django_assert_max_num_queries(2), CaptureQueriesContext(connection) as ctx:
            response = client.get(TICKETS, {"page_size": 100})
        assert response.status_code == 200
        return len(ctx.captured_queries)

    # when listing with 3 tickets more, then with 30 more
    make(3)
    few = list_queries()
    make(27)
    many = list_queries()

    # then the same number of queries
    assert few == many


@pytest.mark.parametrize("child", ["comments", "events", "attachments"])
def test_ticket_child_lists_do_not_grow_queries_with_rows(
    world, api_for, django_assert_max_num_queries, child
):
    # given comments with files on them (each adds a comment, a file and two events)
    client = api_for(world.users["dispatcher"])
    dispatcher = world.actor("dispatcher")
    ticket = world.tickets["a2"]
    url = f"{detail(ticket)}{child}/"
    assert client.get(url).status_code == 200  # last-used stamp written

    def add(n: int) -> None:
        for i in range(n):
            comment = ticket_services.ticket_comment(
                actor=dispatcher, ticket_id=ticket.pk, body=f"C{i}"
            )
            ticket_services.ticket_attach(
                actor=dispatcher,
                ticket_id=ticket.pk,
                uploaded_file=upload(f"{i}.txt", f"note {i}".encode(), "text/plain"),
                comment_id=comment.pk,
            )

    def fetch() -> int:
        # token + ticket lookup + count + page (+ one prefetch of files for comments)
        with django_assert_max_num_queries(5):
            response = client.get(url, {"page_size": 100})
        return response.json()["count"]

    # when / then: the same bound with 3 and with 30 comments
    add(3)
    few = fetch()
    add(27)
    assert fetch() > few >= 3


def test_detail_of_a_visible_ticket(world, api_for):
    response = api_for(world.users["engineer_p"]).get(detail(world.tickets["a1"]))

    assert response.status_code == 200
    body = response.json()
    assert body["partner"] == {"id": world.partner_p.pk, "name": "Partner P"}
    assert body["engineer"]["id"] == world.users["engineer_p"].pk


def test_detail_of_a_missing_ticket_is_404_in_the_uniform_shape(world, api_for):
    response = api_for(world.users["dispatcher"]).get(f"{TICKETS}987654/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# -- out of scope: 404 everywhere, nothing written ---------------------------------------


def _every_action(client: APIClient, ticket, world) -> list:
    base = detail(ticket)
    return [
        client.get(base),
        client.post(f"{base}transition/", {"status": "cancelled"}),
        client.post(f"{base}assign/", {"partner": world.partner_p.pk}),
        client.post(f"{base}priority/", {"priority": "p1"}),
        client.get(f"{base}comments/"),
        client.post(f"{base}comments/", {"body": "Hi"}),
        client.get(f"{base}events/"),
        client.get(f"{base}attachments/"),
        client.post(
            f"{base}attachments/", {"file": upload("a.png", png_bytes())}, format="multipart"
        ),
    ]


@pytest.mark.parametrize(
    ("user", "ticket"),
    [
        ("client_manager_b", "a1"),
        ("store_staff_a1", "a2"),
        ("partner_manager_q", "a1"),
        ("engineer_p2", "a1"),
        ("engineer_p", "b1"),
    ],
)
def test_out_of_scope_ticket_is_404_for_every_action_and_nothing_changes(
    world, api_for, user, ticket
):
    # given a ticket the user may not see
    target = world.tickets[ticket]
    before = counts()
    client = api_for(world.users[user])

    # when every endpoint under it is called
    responses = _every_action(client, target, world)

    # then each answers 404 with the uniform body, and nothing was written
    assert [r.status_code for r in responses] == [404] * len(responses)
    assert all(r.json()["error"]["code"] == "not_found" for r in responses)
    assert counts() == before
    fresh = Ticket.objects.get(pk=target.pk)
    assert (fresh.status, fresh.priority, fresh.version) == (
        target.status,
        target.priority,
        target.version,
    )


def test_missing_ticket_is_404_for_every_action(world, api_for):
    ghost = Ticket(pk=987654)

    responses = _every_action(api_for(world.users["dispatcher"]), ghost, world)

    assert [r.status_code for r in responses] == [404] * len(responses)


# -- transitions, assignment, priority -----------------------------------------------------


def test_dispatcher_changes_status_with_the_version_read(world, api_for):
    # given
    ticket = world.tickets["a2"]

    # when
    response = api_for(world.users["dispatcher"]).post(
        f"{detail(ticket)}transition/",
        {"status": "waiting_client", "version": ticket.version, "note": "Which till?"},
    )

    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "waiting_client"
    assert response.json()["version"] == ticket.version + 1
    event = TicketEvent.objects.filter(ticket=ticket).latest("id")
    assert event.kind == "status_changed"
    assert event.data == {"from": "new", "to": "waiting_client", "note": "Which till?"}


def test_illegal_transition_is_409_with_a_message_and_changes_nothing(world, api_for):
    # given a new ticket
    ticket = world.tickets["a2"]
    before = counts()

    # when asked to jump straight to on_site
    response = api_for(world.users["dispatcher"]).post(
        f"{detail(ticket)}transition/", {"status": "on_site"}
    )

    # then
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert "New" in error["message"] and "On site" in error["message"]
    assert counts() == before
    assert Ticket.objects.get(pk=ticket.pk).status == "new"


def test_unknown_status_is_400_naming_status(world, api_for):
    response = api_for(world.users["dispatcher"]).post(
        f"{detail(world.tickets['a2'])}transition/", {"status": "teleported"}
    )

    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_stale_version_is_409_conflict_and_changes_nothing(world, api_for):
    # given someone changed the ticket after our read
    ticket = world.tickets["a2"]
    stale = ticket.version
    ticket_services.ticket_reclassify(
        actor=world.actor("dispatcher"), ticket_id=ticket.pk, priority="p1"
    )
    before = counts()

    # when we write with what we read
    response = api_for(world.users["dispatcher"]).post(
        f"{detail(ticket)}transition/", {"status": "cancelled", "version": stale}
    )

    # then
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale_version"
    assert counts() == before
    assert Ticket.objects.get(pk=ticket.pk).status == "new"


def test_role_that_may_not_make_a_move_gets_403(world, api_for):
    # given client A's manager sees a1 (assigned), but clients may not un-assign
    ticket = world.tickets["a1"]
    before = counts()

    response = api_for(world.users["client_manager_a"]).post(
        f"{detail(ticket)}transition/", {"status": "new"}
    )

    assert response.status_code == 403
    assert counts() == before


def test_dispatcher_assigns_a_partner_and_the_partner_then_sees_it(world, api_for):
    # given
    ticket = world.tickets["a2"]

    # when
    response = api_for(world.users["dispatcher"]).post(
        f"{detail(ticket)}assign/",
        {
            "partner": world.partner_p.pk,
            "engineer": world.users["engineer_p2"].pk,
            "version": ticket.version,
        },
    )

    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "assigned"
    assert body["partner"]["id"] == world.partner_p.pk
    assert body["engineer"]["id"] == world.users["engineer_p2"].pk
    assert ticket.reference in refs(api_for(world.users["engineer_p2"]).get(TICKETS))


def test_assign_to_an_engineer_of_another_partner_is_400_naming_engineer(world, api_for):
    before = counts()

    response = api_for(world.users["dispatcher"]).post(
        f"{detail(world.tickets['a2'])}assign/",
        {"partner": world.partner_p.pk, "engineer": world.users["engineer_q"].pk},
    )

    assert response.status_code == 400
    assert "engineer" in response.json()["error"]["fields"]
    assert counts() == before


def test_client_cannot_assign(world, api_for):
    response = api_for(world.users["client_manager_a"]).post(
        f"{detail(world.tickets['a2'])}assign/", {"partner": world.partner_p.pk}
    )

    assert response.status_code == 403


def test_priority_change_by_staff_and_refusal_for_clients(world, api_for):
    ticket = world.tickets["a2"]

    refused = api_for(world.users["client_manager_a"]).post(
        f"{detail(ticket)}priority/", {"priority": "p1"}
    )
    done = api_for(world.users["dispatcher"]).post(
        f"{detail(ticket)}priority/", {"priority": "p1", "version": ticket.version}
    )

    assert refused.status_code == 403
    assert done.status_code == 200
    assert done.json()["priority"] == "p1"


# -- comments and timeline -----------------------------------------------------------------


def bodies(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["body"] for row in response.json()["results"]]


@pytest.mark.parametrize("user", ["client_manager_a", "store_staff_a1", "engineer_p"])
def test_clients_and_partners_see_no_internal_comments_or_events(world, api_for, user):
    # given a1 has a public and an internal comment
    client = api_for(world.users[user])
    base = detail(world.tickets["a1"])

    # when
    comments = bodies(client.get(f"{base}comments/"))
    events = client.get(f"{base}events/").json()["results"]

    # then
    assert comments == ["Public note A1"]
    assert all(not event["is_internal"] for event in events)
    assert [e["kind"] for e in events].count("commented") == 1


def test_staff_see_internal_comments_and_events(world, api_for):
    client = api_for(world.users["dispatcher"])
    base = detail(world.tickets["a1"])

    assert bodies(client.get(f"{base}comments/")) == ["Public note A1", "Internal note A1"]
    events = client.get(f"{base}events/").json()["results"]
    assert [e["kind"] for e in events] == ["created", "assigned", "commented", "commented"]
    assert [e["is_internal"] for e in events][-1] is True


def test_client_comments_publicly(world, api_for):
    response = api_for(world.users["store_staff_a1"]).post(
        f"{detail(world.tickets['a1'])}comments/", {"body": "The till beeps now."}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["body"] == "The till beeps now."
    assert body["is_internal"] is False
    assert body["author"]["id"] == world.users["store_staff_a1"].pk


def test_client_cannot_write_an_internal_note(world, api_for):
    before = counts()

    response = api_for(world.users["client_manager_a"]).post(
        f"{detail(world.tickets['a1'])}comments/", {"body": "psst", "is_internal": True}
    )

    assert response.status_code == 403
    assert counts() == before


def test_empty_comment_is_400_naming_body(world, api_for):
    response = api_for(world.users["dispatcher"]).post(
        f"{detail(world.tickets['a1'])}comments/", {"body": ""}
    )

    assert response.status_code == 400
    assert "body" in response.json()["error"]["fields"]


# -- attachments ---------------------------------------------------------------------------


def test_png_upload_and_authenticated_download(world, api_for):
    # given
    client = api_for(world.users["client_manager_a"])
    content = png_bytes()

    # when uploading
    response = client.post(
        f"{detail(world.tickets['a1'])}attachments/",
        {"file": upload("фото кассы.png", content)},
        format="multipart",
    )

    # then it is stored with its sniffed type and listed
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png"
    assert body["size"] == len(content)
    assert body["name"] == "фото кассы.png"
    listed = client.get(f"{detail(world.tickets['a1'])}attachments/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]

    # and the download is a forced download with no sniffing
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == content


def test_download_is_404_for_whoever_may_not_see_the_ticket(world, api_for):
    # given a file on a1
    attachment = ticket_services.ticket_attach(
        actor=world.actor("dispatcher"),
        ticket_id=world.tickets["a1"].pk,
        uploaded_file=upload("a.png", png_bytes()),
    )
    url = reverse("api:attachment-download", kwargs={"pk": attachment.pk})

    # then
    assert api_for(world.users["client_manager_b"]).get(url).status_code == 404
    assert APIClient().get(url).status_code == 401
    assert api_for(world.users["client_manager_a"]).get(url).status_code == 200


def test_internal_file_is_hidden_from_the_client(world, api_for):
    attachment = ticket_services.ticket_attach(
        actor=world.actor("dispatcher"),
        ticket_id=world.tickets["a1"].pk,
        uploaded_file=upload("notes.txt", b"internal notes", "text/plain"),
        is_internal=True,
    )
    client = api_for(world.users["client_manager_a"])

    listed = client.get(f"{detail(world.tickets['a1'])}attachments/").json()["results"]
    download = client.get(reverse("api:attachment-download", kwargs={"pk": attachment.pk}))

    assert listed == []
    assert download.status_code == 404


def test_html_disguised_as_png_is_refused_and_nothing_is_written(world, api_for):
    # given
    before = counts()
    html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"

    # when
    response = api_for(world.users["client_manager_a"]).post(
        f"{detail(world.tickets['a1'])}attachments/",
        {"file": upload("cute-cat.png", html)},
        format="multipart",
    )

    # then
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]
    assert counts() == before


def test_upload_without_a_file_is_400_naming_file(world, api_for):
    response = api_for(world.users["dispatcher"]).post(
        f"{detail(world.tickets['a1'])}attachments/", {}, format="multipart"
    )

    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


def test_json_upload_is_415(world, api_for):
    response = api_for(world.users["dispatcher"]).post(
        f"{detail(world.tickets['a1'])}attachments/", {"file": "aGVsbG8="}
    )

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
