"""The audit trail: written by the database for every change, read by provider admins only."""

from __future__ import annotations

import csv
import io
import zoneinfo

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from audit.views import safe_cell
from servicedesk.db_context import DbContext, db_context
from tests.conftest import api_client_for
from tests.factories import UserFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _as(user, role: str = "dispatcher", request_id: str = "req-test") -> DbContext:
    return DbContext(user_id=user.pk, organisation_id=None, role=role, request_id=request_id)


# --- what is recorded -----------------------------------------------------------------------


def test_a_ticket_created_through_the_api_records_who_and_what(world):
    # given a dispatcher with an API token
    dispatcher = world.actor("dispatcher")
    client = api_client_for(world.users["dispatcher"])

    # when they open a ticket
    response = client.post(
        "/api/v1/tickets/",
        {"store": world.store_a1.pk, "subject": "Till 2 is dead"},
        HTTP_X_REQUEST_ID="ops-4711",
    )

    # then the audit trail holds the insert, with the actor and the request id
    assert response.status_code == 201, response.content
    entry = AuditEntry.objects.get(
        table_name="tickets_ticket", row_pk=str(response.json()["id"]), action="INSERT"
    )
    assert entry.user_id == dispatcher.user_id
    assert entry.organisation_id == dispatcher.organisation_id
    assert entry.role == "dispatcher"
    assert entry.request_id == "ops-4711" == response["X-Request-ID"]
    assert entry.new_values["subject"] == "Till 2 is dead"
    assert entry.old_values is None


def test_an_update_through_the_api_records_only_the_changed_columns(world):
    ticket = world.tickets["a2"]
    client = api_client_for(world.users["dispatcher"])

    response = client.post(f"/api/v1/tickets/{ticket.pk}/assign/", {"partner": world.partner_p.pk})

    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.filter(
        table_name="tickets_ticket", row_pk=str(ticket.pk), action="UPDATE"
    ).latest("id")
    assert "partner_id" in entry.changed_columns
    assert "subject" not in entry.changed_columns
    assert entry.old_values["partner_id"] is None
    assert entry.new_values["partner_id"] == world.partner_p.pk
    assert set(entry.old_values) == set(entry.new_values) == set(entry.changed_columns)
    assert entry.request_id == response["X-Request-ID"]


def test_a_bulk_update_is_recorded_row_by_row(world):
    # given three tickets and a dispatcher's context
    tickets = [world.tickets[key] for key in ("a1", "a2", "b1")]
    admin = world.users["provider_admin"]
    before = AuditEntry.objects.count()

    # when one UPDATE statement changes them all
    with db_context(lambda: _as(admin, "provider_admin", "bulk-1")), transaction.atomic():
        changed = Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
            attention_reason="Quarterly review"
        )

    # then there is one entry per row, each with that column only and the actor
    entries = list(AuditEntry.objects.filter(request_id="bulk-1"))
    assert changed == 3 and AuditEntry.objects.count() == before + 3
    assert sorted(e.row_pk for e in entries) == sorted(str(t.pk) for t in tickets)
    for entry in entries:
        assert entry.action == "UPDATE"
        assert entry.changed_columns == ["attention_reason"]
        assert entry.new_values == {"attention_reason": "Quarterly review"}
        assert (entry.user_id, entry.role) == (admin.pk, "provider_admin")
    assert len({e.txid for e in entries}) == 1


def test_raw_sql_and_deletes_are_recorded_too(world):
    ticket_pk = world.tickets["a2"].pk
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_ticket SET priority = 'p1' WHERE id = %s", [ticket_pk])

    entry = AuditEntry.objects.filter(table_name="tickets_ticket", row_pk=str(ticket_pk)).latest(
        "id"
    )
    assert entry.changed_columns == ["priority"]
    assert entry.user_id is None and entry.role == ""  # nobody declared: shown as system


def test_a_password_change_is_recorded_without_the_hash(world):
    user = world.users["engineer_p"]
    with db_context(lambda: _as(user, "partner_engineer")), transaction.atomic():
        user.set_password("correct horse battery staple")
        user.save(update_fields=["password"])

    entry = AuditEntry.objects.filter(table_name="servicedesk_user", row_pk=str(user.pk)).latest(
        "id"
    )
    assert entry.changed_columns == ["password"]
    assert entry.old_values == {"password": "[redacted]"}
    assert entry.new_values == {"password": "[redacted]"}
    stored = AuditEntry.objects.filter(table_name="servicedesk_user").values_list(
        "old_values", "new_values"
    )
    assert user.password not in str(list(stored))


def test_signing_in_alone_writes_no_entry(client, world):
    user = world.users["dispatcher"]
    user.set_password("pw-for-login-1")
    user.save()
    before = AuditEntry.objects.filter(table_name="servicedesk_user").count()

    client.force_login(user)  # updates last_login only

    assert AuditEntry.objects.filter(table_name="servicedesk_user").count() == before


# --- append-only ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditentry SET role = 'nobody'",
        "DELETE FROM audit_auditentry",
        "TRUNCATE audit_auditentry",
    ],
)
def test_audit_entries_cannot_be_changed_or_removed(world, statement):
    count = AuditEntry.objects.count()
    assert count > 0
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # Test connections may truncate (to empty the database); this one says it may not.
        cursor.execute("SET LOCAL servicedesk.audit_truncate = ''")
        cursor.execute(statement)
    assert AuditEntry.objects.count() == count
    assert not AuditEntry.objects.filter(role="nobody").exists()


# --- who may read it ------------------------------------------------------------------------


def test_provider_admin_sees_the_page_in_their_own_zone(client, world):
    admin = world.users["provider_admin"]
    admin.time_zone = "Asia/Kamchatka"
    admin.save(update_fields=["time_zone"])
    client.force_login(admin)

    response = client.get("/audit/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Asia/Kamchatka (UTC+12)" in page
    assert "tickets_ticket" in page
    assert "(UTC+12)</time>" in page


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("dispatcher", 403),
        ("client_manager_a", 404),
        ("store_staff_a1", 404),
        ("partner_manager_p", 404),
        ("engineer_p", 404),
    ],
)
def test_nobody_else_reads_the_trail(client, world, user, status):
    client.force_login(world.users[user])

    assert client.get("/audit/").status_code == status
    assert client.get("/audit/export.csv").status_code == status
    response = api_client_for(world.users[user]).get("/api/v1/audit/")
    assert response.status_code == status
    assert "results" not in response.json()


def test_anonymous_callers_are_sent_to_sign_in(client, world):
    assert client.get("/audit/").status_code == 302
    assert api_client_for(world.users["nobody"]).get("/api/v1/audit/").status_code in (401, 403)


def test_the_api_lists_entries_newest_first_with_filters(world):
    ticket = world.tickets["a2"]
    api_client_for(world.users["dispatcher"]).post(
        f"/api/v1/tickets/{ticket.pk}/assign/", {"partner": world.partner_p.pk}
    )
    client = api_client_for(world.users["provider_admin"])

    response = client.get("/api/v1/audit/", {"table": "tickets_ticket", "row": str(ticket.pk)})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows and {(r["table"], r["row_id"]) for r in rows} == {
        ("tickets_ticket", str(ticket.pk))
    }
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert rows[-1]["action"] == "INSERT"
    assert (rows[0]["action"], rows[0]["username"]) == ("UPDATE", "dispatcher")


def test_the_api_rejects_bad_filters_with_field_messages(world):
    client = api_client_for(world.users["provider_admin"])

    response = client.get("/api/v1/audit/", {"table": "auth_secret", "since": "yesterday"})

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"table", "since"}


def test_pages_follow_a_keyset_cursor_without_gaps_or_repeats(client, world, settings):
    settings.AUDIT_PAGE_SIZE = 4
    client.force_login(world.users["provider_admin"])
    expected = list(AuditEntry.objects.order_by("-at", "-id").values_list("id", flat=True))
    seen: list[int] = []
    url = "/audit/"
    while url:
        response = client.get(url)
        seen += [row["entry"].pk for row in response.context["rows"]]
        cursor = response.context["page"].next_cursor
        url = f"/audit/?cursor={cursor}" if cursor else None
    assert seen == expected
    assert client.get("/audit/?cursor=bm9wZQ").status_code == 400


def test_a_date_range_is_read_in_the_viewers_zone(client, world):
    admin = world.users["provider_admin"]
    client.force_login(admin)
    today = AuditEntry.objects.latest("id").at.astimezone(zoneinfo.ZoneInfo(admin.time_zone))

    day = today.date().isoformat()
    inside = client.get("/audit/", {"since": day, "until": day}).context["rows"]
    before = client.get("/audit/", {"until": "2000-01-01"}).context["rows"]

    assert inside and not before


# --- export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_a_spreadsheet_would_run_are_defused(start):
    assert safe_cell(f"{start}cmd|' /C calc'!A0") == f"'{start}cmd|' /C calc'!A0"
    assert safe_cell("plain") == "plain"
    assert safe_cell(5) == 5


def test_the_export_is_a_csv_with_defused_cells(client, world):
    # given a change made by a user whose name is a formula
    mallory = UserFactory(username='=HYPERLINK("http://evil")')
    with db_context(lambda: _as(mallory, "dispatcher", "+exfil")), transaction.atomic():
        Ticket.objects.filter(pk=world.tickets["a1"].pk).update(subject="@SUM(1+1)")
    client.force_login(world.users["provider_admin"])

    response = client.get("/audit/export.csv", {"table": "tickets_ticket"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert len(header) == 14 and "Europe/Moscow" in header[1]
    assert {row[2] for row in body} == {"tickets_ticket"}
    mallory_row = next(row for row in body if row[8] == str(mallory.pk))
    assert mallory_row[9] == '\'=HYPERLINK("http://evil")'
    assert mallory_row[12] == "'+exfil"
    assert '"@SUM(1+1)"' in mallory_row[7]  # inside JSON: it starts with "{", harmless
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)


# --- cost -----------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _more_entries(world, count: int) -> None:
    admin = world.users["provider_admin"]
    with db_context(lambda: _as(admin, "provider_admin")), transaction.atomic():
        for index in range(count):
            Ticket.objects.filter(pk=world.tickets["a1"].pk).update(subject=f"subject {index}")


def test_page_export_and_api_cost_the_same_queries_for_more_rows(client, world):
    client.force_login(world.users["provider_admin"])
    api = api_client_for(world.users["provider_admin"])
    _queries(client, "/audit/")  # warm the session and the caches
    _queries(api, "/api/v1/audit/")
    small = (_queries(client, "/audit/"), _queries(api, "/api/v1/audit/"))

    _more_entries(world, 30)

    large = (_queries(client, "/audit/"), _queries(api, "/api/v1/audit/"))
    assert large == small
    assert AuditEntry.objects.count() > 40


@pytest.mark.parametrize(
    "params",
    [
        {"user": str(10**30)},
        {"until": "9999-12-31", "since": "0001-01-01"},
        {"row": "a\x00b"},
        {"cursor": "!!!"},
        {"page_size": "0"},
    ],
)
def test_odd_filters_never_cause_a_server_error(world, params):
    response = api_client_for(world.users["provider_admin"]).get("/api/v1/audit/", params)

    assert response.status_code in (200, 400)


@pytest.mark.parametrize("name", ["user", "since", "until"])
def test_a_typed_filter_given_empty_is_rejected_by_the_api(world, name):
    response = api_client_for(world.users["provider_admin"]).get("/api/v1/audit/", {name: ""})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [name]
