"""The HTML interface: pages per role, scoping, the ticket page's actions and their refusals."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from servicedesk.exceptions import ApplicationError, ValidationFailed
from tests.factories import MembershipFactory, StoreFactory
from tickets import services
from tickets.choices import TicketStatus
from tickets.models import Attachment, Comment, Ticket, TicketEvent
from tickets.presenters import allowed_moves

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response) -> str:
    return html.unescape(response.content.decode())


def nav_labels(response) -> list[str]:
    return [
        html.unescape(label.strip())
        for label in re.findall(r'class="mainnav__link"[^>]*>([^<]+)<', response.content.decode())
    ]


def detail_url(ticket) -> str:
    return reverse("ticket_detail", args=[ticket.pk])


# --- signing in and the home page -------------------------------------------------------------


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("ticket_list"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_login_form_signs_in_and_ignores_foreign_next(client, world):
    page = client.get(reverse("login"))
    assert page.status_code == 200

    response = client.post(
        reverse("login") + "?next=https://evil.example/",
        {"username": "dispatcher", "password": "secret-pass-123", "next": "https://evil.example/"},
    )

    assert response.status_code == 302
    assert response.url == reverse("home")


def test_wrong_password_shows_an_error(client, world):
    response = client.post(reverse("login"), {"username": "dispatcher", "password": "nope"})

    assert response.status_code == 200
    assert "alert--error" in text(response)


@pytest.mark.parametrize(
    ("user", "expected", "absent"),
    [
        (
            "provider_admin",
            [
                "Overview",
                "Tickets",
                "New ticket",
                "Dispatch",
                "Import",
                "Export",
                "Audit",
                "Administration",
            ],
            [],
        ),
        (
            "dispatcher",
            ["Overview", "Tickets", "New ticket", "Dispatch", "Import", "Export"],
            ["Administration", "Audit"],
        ),
        (
            "client_manager_a",
            ["Overview", "Tickets", "New ticket", "Import", "Export"],
            ["Administration", "Audit"],
        ),
        (
            "store_staff_a1",
            ["Overview", "My store's tickets", "New ticket"],
            ["Tickets", "Import", "Export"],
        ),
        ("partner_manager_p", ["Overview", "Jobs", "Portal", "Export"], ["New ticket", "Import"]),
        ("engineer_p", ["Overview", "My jobs", "Field"], ["New ticket", "Tickets", "Export"]),
    ],
)
def test_each_role_reaches_its_home_with_its_menu(client, world, user, expected, absent):
    client.force_login(world.users[user])

    response = client.get(reverse("home"))

    assert response.status_code == 200
    labels = nav_labels(response)
    assert labels == expected
    assert not set(absent) & set(labels)
    assert world.actor(user).organisation_name in text(response)


def test_home_counts_open_tickets_by_status(client, world, django_assert_max_num_queries):
    client.force_login(world.users["dispatcher"])

    with django_assert_max_num_queries(8):
        response = client.get(reverse("home"))

    counts = dict(
        (status, int(n))
        for n, status in re.findall(
            r'tile__count">(\d+)</span>\s*<span class="badge badge--status-(\w+)"', text(response)
        )
    )
    assert counts["assigned"] == 2  # A1 and B1
    assert counts["new"] == 1  # A2


def test_user_without_membership_gets_a_friendly_403(client, world):
    client.force_login(world.users["nobody"])

    response = client.get(reverse("home"))

    assert response.status_code == 403
    assert "no access yet" in text(response)


def test_a_user_with_two_organisations_switches_between_them(client, world):
    user = world.users["dispatcher"]
    second = MembershipFactory(
        user=user, organisation=world.client_a.organisation, role="client_manager"
    )
    client.force_login(user)

    page = text(client.get(reverse("organisation_switch")))
    response = client.post(reverse("organisation_switch"), {"membership": second.pk})
    home = text(client.get(reverse("home")))

    assert "Client A" in page and "Provider" in page
    assert response.status_code == 302
    assert "Client A · Client manager" in home
    assert "B1 net" not in text(client.get(reverse("ticket_list")))


def test_switching_to_someone_elses_membership_is_refused(client, world):
    client.force_login(world.users["dispatcher"])
    foreign = world.actor("client_manager_b").membership_id

    client.post(reverse("organisation_switch"), {"membership": foreign})

    assert "membership_id" not in client.session
    assert "B1 net" in text(client.get(reverse("ticket_list")))  # still the dispatcher


# --- the list -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "visible", "hidden"),
    [
        ("store_staff_a1", ["A1 till"], ["A2 cctv", "B1 net"]),
        ("partner_manager_p", ["A1 till"], ["B1 net", "A2 cctv"]),
        ("client_manager_b", ["B1 net"], ["A1 till", "A2 cctv"]),
        ("engineer_p", ["A1 till"], ["B1 net", "A2 cctv"]),
        ("dispatcher", ["A1 till", "A2 cctv", "B1 net"], []),
    ],
)
def test_list_shows_own_tickets_only(client, world, user, visible, hidden):
    client.force_login(world.users[user])

    page = text(client.get(reverse("ticket_list")))

    for subject in visible:
        assert subject in page
    for subject in hidden:
        assert subject not in page


def test_list_filters_from_the_url_and_htmx_gets_the_fragment(client, world):
    client.force_login(world.users["dispatcher"])

    full = client.get(reverse("ticket_list"), {"status": "new"})
    fragment = client.get(reverse("ticket_list"), {"q": "B1"}, **HTMX)

    assert "A2 cctv" in text(full) and "A1 till" not in text(full)
    assert '<option value="new" selected>' in full.content.decode()
    assert "<html" not in fragment.content.decode()
    assert "B1 net" in text(fragment) and "A1 till" not in text(fragment)
    assert "HX-Request" in fragment["Vary"]


def test_list_empty_state(client, world):
    client.force_login(world.users["dispatcher"])

    response = client.get(reverse("ticket_list"), {"q": "no such thing"})

    assert "No tickets match these filters" in text(response)


def test_bad_filter_values_do_not_break_the_list(client, world):
    client.force_login(world.users["dispatcher"])

    response = client.get(reverse("ticket_list"), {"status": "bogus", "page": "x", "is_open": "?"})

    assert response.status_code == 200


def test_list_query_count_does_not_grow_with_rows(client, world):
    client.force_login(world.users["dispatcher"])
    url = reverse("ticket_list")
    client.get(url)  # warm the session

    with CaptureQueriesContext(connection) as three:
        client.get(url)
    dispatcher = world.actor("dispatcher")
    for i in range(27):
        ticket = services.ticket_create(
            actor=dispatcher, store_id=world.store_b1.pk, subject=f"Extra {i}"
        )
        services.ticket_assign(actor=dispatcher, ticket_id=ticket.pk, partner_id=world.partner_q.pk)
    with CaptureQueriesContext(connection) as thirty:
        response = client.get(url)

    assert "Extra 26" in text(response)
    assert len(thirty) == len(three)


# --- the ticket page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "ticket"),
    [
        ("client_manager_b", "a1"),
        ("store_staff_a1", "a2"),
        ("partner_manager_q", "a1"),
        ("engineer_p2", "a1"),
    ],
)
def test_foreign_ticket_page_is_404(client, world, user, ticket):
    client.force_login(world.users[user])

    response = client.get(detail_url(world.tickets[ticket]))

    assert response.status_code == 404
    assert "Nothing here" in text(response)  # the desk's own 404 page, in the layout


def test_foreign_ticket_writes_are_404_and_change_nothing(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["client_manager_b"])
    comments = Comment.objects.count()

    posts = [
        client.post(reverse("ticket_comment", args=[ticket.pk]), {"body": "hi"}),
        client.post(
            reverse("ticket_transition", args=[ticket.pk]),
            {"to_status": "cancelled", "version": ticket.version},
        ),
    ]

    assert [r.status_code for r in posts] == [404, 404]
    assert Comment.objects.count() == comments
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ASSIGNED


@pytest.mark.parametrize(
    ("user", "sees_internal"),
    [
        ("dispatcher", True),
        ("client_manager_a", False),
        ("partner_manager_p", False),
        ("engineer_p", False),
    ],
)
def test_internal_note_only_for_staff(client, world, user, sees_internal):
    client.force_login(world.users[user])

    page = text(client.get(detail_url(world.tickets["a1"])))

    assert "Public note A1" in page
    assert ("Internal note A1" in page) is sees_internal
    assert ('name="is_internal"' in page) is sees_internal


def test_ticket_page_query_count_does_not_grow_with_the_timeline(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["dispatcher"])
    client.get(detail_url(ticket))

    with CaptureQueriesContext(connection) as short:
        client.get(detail_url(ticket))
    for i in range(15):
        services.ticket_comment(actor=world.actor("dispatcher"), ticket_id=ticket.pk, body=f"c{i}")
    with CaptureQueriesContext(connection) as long:
        response = client.get(detail_url(ticket))

    assert "c14" in text(response)
    assert len(long) == len(short)


def test_timeline_is_readable(client, world):
    client.force_login(world.users["dispatcher"])

    page = text(client.get(detail_url(world.tickets["a1"])))

    assert "Ticket created" in page
    assert f"Assigned to {world.partner_p.name}" in page


def test_posting_a_comment_creates_it_and_its_event(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["client_manager_a"])

    response = client.post(reverse("ticket_comment", args=[ticket.pk]), {"body": "Till is dead"})

    assert response.status_code == 302
    comment = Comment.objects.get(body="Till is dead")
    assert comment.ticket_id == ticket.pk and not comment.is_internal
    assert TicketEvent.objects.filter(
        ticket=ticket, kind="commented", data__comment_id=comment.pk
    ).exists()
    assert "Till is dead" in text(client.get(detail_url(ticket)))


def test_htmx_comment_returns_the_refreshed_ticket(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["dispatcher"])

    response = client.post(
        reverse("ticket_comment", args=[ticket.pk]),
        {"body": "Staff only", "is_internal": "on"},
        **HTMX,
    )

    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page and 'id="ticket"' in page
    assert "Staff only" in page
    ticket.refresh_from_db()
    assert f'name="version" value="{ticket.version}"' in page
    assert Comment.objects.get(body="Staff only").is_internal


def test_empty_comment_is_refused_inline(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["dispatcher"])
    comments = Comment.objects.count()

    response = client.post(reverse("ticket_comment", args=[ticket.pk]), {"body": "  "}, **HTMX)

    assert response.status_code == 400
    assert "The comment is empty." in text(response)
    assert Comment.objects.count() == comments


def test_client_cannot_post_an_internal_note(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["client_manager_a"])

    client.post(reverse("ticket_comment", args=[ticket.pk]), {"body": "x", "is_internal": "on"})

    # The checkbox is not on a client's form, so the note is posted as a public comment.
    assert not Comment.objects.filter(body="x", is_internal=True).exists()


def test_status_buttons_offer_the_actors_moves(client, world):
    client.force_login(world.users["partner_manager_p"])

    page = text(client.get(detail_url(world.tickets["a1"])))

    assert 'value="accepted"' in page  # assigned → accepted is the partner manager's call
    assert 'value="cancelled"' not in page


def test_allowed_status_change_works(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["partner_manager_p"])

    response = client.post(
        reverse("ticket_transition", args=[ticket.pk]),
        {"to_status": "accepted", "version": ticket.version},
    )

    assert response.status_code == 302
    old_version = ticket.version
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ACCEPTED
    assert ticket.version == old_version + 1
    page = text(client.get(detail_url(ticket)))
    assert "Status: Assigned → Accepted" in page


@pytest.mark.parametrize(
    ("user", "to_status", "code", "message"),
    [
        ("engineer_p", "accepted", 403, "Your role cannot move a ticket"),
        ("store_staff_a1", "closed", 409, "cannot go from Assigned to Closed"),
        ("dispatcher", "flying", 400, "This status change is not allowed."),
    ],
)
def test_illegal_move_shows_an_error_and_changes_nothing(
    client, world, user, to_status, code, message
):
    ticket = world.tickets["a1"]
    client.force_login(world.users[user])
    events = TicketEvent.objects.count()

    response = client.post(
        reverse("ticket_transition", args=[ticket.pk]),
        {"to_status": to_status, "version": ticket.version},
    )

    assert response.status_code == code
    assert message in text(response)
    before = (ticket.status, ticket.version)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version) == before
    assert TicketEvent.objects.count() == events


def test_stale_version_is_refused_with_a_clear_message(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["dispatcher"])
    stale = ticket.version - 1

    response = client.post(
        reverse("ticket_transition", args=[ticket.pk]),
        {"to_status": "cancelled", "version": stale},
        **HTMX,
    )

    assert response.status_code == 409
    assert "was changed by someone else" in text(response)
    before = (ticket.status, ticket.version)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version) == before
    # The refreshed fragment carries the current version, so a retry can succeed.
    assert f'name="version" value="{ticket.version}"' in response.content.decode()


def test_dispatcher_assigns_a_partner_and_engineer(client, world):
    ticket = world.tickets["a2"]
    client.force_login(world.users["dispatcher"])

    response = client.post(
        reverse("ticket_assign", args=[ticket.pk]),
        {
            "partner": world.partner_p.pk,
            "engineer": world.users["engineer_p2"].pk,
            "version": ticket.version,
        },
    )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.partner_id, ticket.engineer_id) == (
        world.partner_p.pk,
        world.users["engineer_p2"].pk,
    )
    assert ticket.status == TicketStatus.ASSIGNED


def test_engineer_of_another_partner_is_refused_on_the_form(client, world):
    ticket = world.tickets["a2"]
    client.force_login(world.users["dispatcher"])

    response = client.post(
        reverse("ticket_assign", args=[ticket.pk]),
        {
            "partner": world.partner_p.pk,
            "engineer": world.users["engineer_q"].pk,
            "version": ticket.version,
        },
    )

    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.partner_id is None


def test_partner_manager_names_the_engineer_on_its_job(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["partner_manager_p"])
    page = text(client.get(detail_url(ticket)))

    response = client.post(
        reverse("ticket_assign", args=[ticket.pk]),
        {
            "partner": world.partner_p.pk,
            "engineer": world.users["engineer_p2"].pk,
            "version": ticket.version,
        },
    )

    assert "Name the engineer" in page
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.engineer_id == world.users["engineer_p2"].pk


def test_others_get_no_assign_form_and_cannot_post_one(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["engineer_p"])

    page = text(client.get(detail_url(ticket)))
    response = client.post(
        reverse("ticket_assign", args=[ticket.pk]),
        {"partner": world.partner_p.pk, "engineer": "", "version": ticket.version},
    )

    assert reverse("ticket_assign", args=[ticket.pk]) not in page
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.engineer_id == world.users["engineer_p"].pk


def test_people_options_lists_a_partners_engineers(client, world):
    client.force_login(world.users["dispatcher"])

    response = client.get(reverse("people_options"), {"partner": world.partner_p.pk}, **HTMX)

    assert str(world.users["engineer_p"].pk) in response.content.decode()
    assert str(world.users["engineer_q"]) not in text(response)


def test_people_options_are_not_for_clients(client, world):
    client.force_login(world.users["client_manager_a"])

    response = client.get(reverse("people_options"), {"partner": world.partner_p.pk}, **HTMX)

    assert text(response).count("<option") == 1


def test_attachment_upload_and_download(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["dispatcher"])

    response = client.post(
        reverse("ticket_attach", args=[ticket.pk]),
        {"file": SimpleUploadedFile("report.txt", b"all good\n", content_type="text/plain")},
    )

    assert response.status_code == 302
    attachment = Attachment.objects.get(ticket=ticket)
    download = client.get(reverse("attachment_download", args=[attachment.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == b"all good\n"

    client.force_login(world.users["client_manager_b"])
    assert client.get(reverse("attachment_download", args=[attachment.pk])).status_code == 404


def test_markup_upload_is_refused_on_the_form(client, world):
    ticket = world.tickets["a1"]
    client.force_login(world.users["dispatcher"])

    response = client.post(
        reverse("ticket_attach", args=[ticket.pk]),
        {"file": SimpleUploadedFile("x.html", b"<html><script>1</script>", "text/html")},
    )

    assert response.status_code == 400
    assert "Only images, PDF, plain text and office documents" in text(response)
    assert not Attachment.objects.exists()


def test_ticket_times_are_in_the_stores_zone(client, world):
    client.force_login(world.users["dispatcher"])

    page = text(client.get(detail_url(world.tickets["a2"])))
    listing = text(client.get(reverse("ticket_list"), {"q": "A2"}))

    assert "(UTC+12)" in page
    assert "Asia/Kamchatka" in page
    assert "Europe/Moscow" in page  # the viewer's own zone, as a second line
    assert "(UTC+12)" in listing


# --- creating -----------------------------------------------------------------------------


def test_new_ticket_missing_subject_keeps_input_and_creates_nothing(client, world):
    client.force_login(world.users["client_manager_a"])
    before = Ticket.objects.count()

    response = client.post(
        reverse("ticket_create"),
        {
            "store": world.store_a1.pk,
            "subject": "",
            "description": "Typed with care",
            "priority": "p2",
            "category": "network",
        },
    )

    assert response.status_code == 400
    page = text(response)
    assert "Typed with care" in page
    assert "This field is required." in page
    assert f'<option value="{world.store_a1.pk}" selected>' in response.content.decode()
    assert '<option value="p2" selected>' in response.content.decode()
    assert Ticket.objects.count() == before


def test_new_ticket_for_a_foreign_store_is_refused(client, world):
    client.force_login(world.users["client_manager_a"])
    before = Ticket.objects.count()

    response = client.post(
        reverse("ticket_create"),
        {"store": world.store_b1.pk, "subject": "x", "priority": "p3", "category": "hardware"},
    )

    assert response.status_code == 400
    assert Ticket.objects.count() == before


def test_closed_store_refusal_from_the_service_lands_on_the_field(client, world, monkeypatch):
    client.force_login(world.users["client_manager_a"])

    def refuse(**kwargs):
        raise ValidationFailed("Store A1 is closed.", fields={"store": ["closed!"]})

    monkeypatch.setattr(services, "ticket_create", refuse)
    response = client.post(
        reverse("ticket_create"),
        {"store": world.store_a1.pk, "subject": "x", "priority": "p3", "category": "hardware"},
    )

    assert response.status_code == 400
    assert "closed!" in text(response)


def test_new_ticket_is_created_and_shown(client, world):
    client.force_login(world.users["store_staff_a1"])

    form = client.get(reverse("ticket_create"))
    response = client.post(
        reverse("ticket_create"),
        {
            "store": world.store_a1.pk,
            "subject": "Printer jams",
            "priority": "p2",
            "category": "fiscal",
            "needs_visit": "on",
        },
    )

    assert form.status_code == 200
    ticket = Ticket.objects.get(subject="Printer jams")
    assert response.status_code == 302 and response.url == detail_url(ticket)
    assert (ticket.store_id, ticket.priority, ticket.needs_visit) == (world.store_a1.pk, "p2", True)
    assert ticket.reference in text(client.get(response.url))


def test_partners_cannot_open_the_new_ticket_page(client, world):
    client.force_login(world.users["partner_manager_p"])

    response = client.get(reverse("ticket_create"))

    assert response.status_code == 403
    assert "Partners cannot open tickets." in text(response)


def test_equipment_options_follow_the_store(client, world):
    client.force_login(world.users["client_manager_a"])
    other = StoreFactory(client=world.client_b)

    own = client.get(reverse("equipment_options"), {"store": world.store_a1.pk}, **HTMX)
    foreign = client.get(reverse("equipment_options"), {"store": other.pk}, **HTMX)

    assert world.store_a1.equipment.first().serial_number in text(own)
    assert text(foreign).count("<option") == 1


# --- language ---------------------------------------------------------------------------------


def test_language_switch(client, world):
    client.force_login(world.users["dispatcher"])

    to_ru = client.post(reverse("set_language"), {"language": "ru", "next": "/tickets/"})
    russian = text(client.get(reverse("ticket_list")))
    client.post(reverse("set_language"), {"language": "en", "next": "/tickets/"})
    english = text(client.get(reverse("ticket_list")))

    assert to_ru.status_code == 302 and to_ru.url == "/tickets/"
    assert "Заявки" in russian and 'lang="ru"' in russian
    assert "Новая" in russian  # a status label, translated too
    assert "Tickets" in english and 'lang="en"' in english


# --- the buttons never offer what the service refuses -------------------------------------------


@pytest.mark.parametrize(
    "user",
    ["dispatcher", "client_manager_a", "store_staff_a1", "partner_manager_p", "engineer_p"],
)
def test_allowed_moves_match_the_service(world, user):
    actor = world.actor(user)
    ticket = world.tickets["a1"]
    for status in TicketStatus.values:
        ticket.status = status
        ticket.status_before_wait = "accepted" if status == "waiting_client" else ""
        accepted = set()
        for target in TicketStatus.values:
            try:
                services._check_move(actor, ticket, target)
            except ApplicationError:
                continue
            accepted.add(target)
        assert set(allowed_moves(actor, ticket)) == accepted, (user, status)


@pytest.mark.parametrize(
    ("method", "name", "data"),
    [
        ("post", "ticket_transition", {"to_status": "closed", "version": "abc"}),
        ("post", "ticket_transition", {}),
        ("post", "ticket_assign", {"partner": "abc", "engineer": "x", "version": "1"}),
        ("post", "ticket_assign", {"partner": "999999", "version": "1"}),
        ("post", "ticket_comment", {}),
        ("post", "ticket_attach", {}),
        ("post", "ticket_create", {"store": "abc", "priority": "p9", "category": "?"}),
        ("get", "ticket_list", {"created_after": "yesterday", "page": "999", "partner": "x"}),
        ("get", "equipment_options", {"store": "abc"}),
        ("get", "people_options", {"partner": "abc"}),
        ("post", "organisation_switch", {"membership": "abc"}),
    ],
)
def test_bad_input_never_gives_a_500(client, world, method, name, data):
    client.force_login(world.users["dispatcher"])
    ticket = world.tickets["a1"]
    with_ticket = {"ticket_transition", "ticket_assign", "ticket_comment", "ticket_attach"}
    url = reverse(name, args=[ticket.pk] if name in with_ticket else [])
    versions = Ticket.objects.values_list("version", flat=True)
    before = sorted(versions)

    response = getattr(client, method)(url, data)

    assert response.status_code < 500
    assert sorted(versions) == before  # nothing written
