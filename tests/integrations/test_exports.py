"""Exports of tickets and SLA results: scoped like the ticket list, filtered like it, in the
store's local time, streamed, with a flat query count and spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from calendars.models import BusinessCalendar
from integrations.exports import neutralise
from sla.models import SlaPolicy
from tests.factories import ClientContractFactory
from tickets import services as ticket_services

PAYLOADS = [
    '=HYPERLINK("http://evil","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "＝1+1",
]
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def csv_rows(response) -> list[dict[str, str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def xlsx_sheet(response):
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return workbook.worksheets[0]


def test_tickets_csv_for_the_provider_in_each_stores_local_time(world, api_for):
    response = api_for(world.users["dispatcher"]).get(
        "/api/v1/exports/tickets.csv", HTTP_ACCEPT="text/csv"
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="tickets.csv"'
    rows = {row["subject"]: row for row in csv_rows(response)}
    assert set(rows) == {"A1 till", "A2 cctv", "B1 net"}
    kamchatka = rows["A2 cctv"]
    assert kamchatka["time_zone"] == "Asia/Kamchatka"
    created = world.tickets["a2"].created_at.astimezone(UTC) + timedelta(hours=12)
    assert kamchatka["created_at"] == created.strftime("%Y-%m-%d %H:%M:%S")
    assert rows["A1 till"]["partner"] == "Partner P"


@pytest.mark.parametrize(
    ("user", "subjects"),
    [
        ("partner_manager_p", {"A1 till"}),
        ("engineer_q", {"B1 net"}),
        ("client_manager_a", {"A1 till", "A2 cctv"}),
        ("store_staff_a1", {"A1 till"}),
    ],
)
def test_each_actor_exports_only_what_its_list_shows(world, api_for, user, subjects):
    response = api_for(world.users[user]).get("/api/v1/exports/tickets.csv")

    assert {row["subject"] for row in csv_rows(response)} == subjects


def test_a_client_manager_cannot_export_another_clients_tickets(world, api_for):
    api = api_for(world.users["client_manager_a"])

    response = api.get(f"/api/v1/exports/tickets.csv?client={world.client_b.pk}")

    assert csv_rows(response) == []


def test_filters_are_the_ticket_lists(world, api_for):
    api = api_for(world.users["dispatcher"])

    by_region = api.get("/api/v1/exports/tickets.csv?region=RU-KAM")
    assigned = api.get("/api/v1/exports/tickets.csv?status=assigned")
    bad = api.get("/api/v1/exports/tickets.csv?status=bogus")

    assert [row["subject"] for row in csv_rows(by_region)] == ["A2 cctv"]
    assert {row["subject"] for row in csv_rows(assigned)} == {"A1 till", "B1 net"}
    assert bad.status_code == 400
    assert "status" in bad.json()["error"]["fields"]


def _tickets_with_payloads(world) -> None:
    for subject in PAYLOADS:
        ticket_services.ticket_create(
            actor=world.actor("dispatcher"), store_id=world.store_a1.pk, subject=subject
        )


def test_formula_cells_get_an_apostrophe_in_csv(world, api_for):
    _tickets_with_payloads(world)

    response = api_for(world.users["dispatcher"]).get("/api/v1/exports/tickets.csv")

    subjects = {row["subject"] for row in csv_rows(response)}
    assert {"'" + payload for payload in PAYLOADS} <= subjects
    assert not subjects & set(PAYLOADS)


def test_formula_cells_are_plain_strings_in_xlsx(world, api_for):
    _tickets_with_payloads(world)

    response = api_for(world.users["dispatcher"]).get("/api/v1/exports/tickets.xlsx")

    assert response.status_code == 200
    sheet = xlsx_sheet(response)
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    column = header.index("subject")
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    by_value = {cell.value: cell for cell in cells}
    for payload in PAYLOADS:
        assert by_value[payload].data_type == "s", payload
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def _export_queries(api, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
        b"".join(response.streaming_content)
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/exports/tickets.csv",
        "/api/v1/exports/tickets.xlsx",
        "/api/v1/exports/sla-results.csv",
    ],
)
def test_query_count_does_not_grow_with_rows(world, api_for, sla_policy, url):
    api = api_for(world.users["dispatcher"])
    api.get(url)  # warm the calendar cache and the token lookup's first queries
    few = _export_queries(api, url)

    for n in range(15):
        ticket_services.ticket_create(
            actor=world.actor("dispatcher"), store_id=world.store_a1.pk, subject=f"More {n}"
        )

    assert _export_queries(api, url) == few


# --------------------------------------------------------------------------- SLA results


@pytest.fixture
def sla_policy(world) -> SlaPolicy:
    """Client A: P3 responds in 1 h and resolves in 8 h, round the clock."""
    contract = ClientContractFactory(client=world.client_a, starts_on="2025-01-01")
    return SlaPolicy.objects.create(
        contract=contract,
        priority="p3",
        response_seconds=3600,
        resolution_seconds=8 * 3600,
        calendar=BusinessCalendar.objects.get(code="24x7"),
    )


def test_sla_results_with_overdue_working_seconds_in_local_time(world, api_for, sla_policy):
    with time_machine.travel(NOW - timedelta(hours=10), tick=False):
        ticket = ticket_services.ticket_create(
            actor=world.actor("dispatcher"), store_id=world.store_a2.pk, subject="Late"
        )

    with time_machine.travel(NOW, tick=False):
        response = api_for(world.users["client_manager_a"]).get(
            "/api/v1/exports/sla-results.csv?q=Late"
        )
        rows = {row["metric"]: row for row in csv_rows(response)}

    assert set(rows) == {"response", "resolution"}
    resolution = rows["resolution"]
    assert resolution["reference"] == f"AAA-{ticket.number:06d}"
    assert resolution["time_zone"] == "Asia/Kamchatka"
    assert resolution["agreement"] == "sla"
    assert resolution["target_seconds"] == str(8 * 3600)
    assert resolution["overdue_working_seconds"] == str(2 * 3600)
    # Started 23:00 UTC the day before: 11:00 on the 10th in Kamchatka (UTC+12).
    assert resolution["started_at"] == "2026-03-10 11:00:00"
    assert resolution["due_at"] == "2026-03-10 19:00:00"


def test_sla_results_xlsx_for_a_partner_hold_only_its_jobs(world, api_for, sla_policy):
    dispatcher = world.actor("dispatcher")
    mine = ticket_services.ticket_create(actor=dispatcher, store_id=world.store_a1.pk, subject="P")
    ticket_services.ticket_assign(
        actor=dispatcher,
        ticket_id=mine.pk,
        partner_id=world.partner_p.pk,
        engineer_id=world.users["engineer_p"].pk,
    )
    ticket_services.ticket_create(actor=dispatcher, store_id=world.store_a1.pk, subject="Other")

    response = api_for(world.users["partner_manager_p"]).get("/api/v1/exports/sla-results.xlsx")

    sheet = xlsx_sheet(response)
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    rows = [
        dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert {row["reference"] for row in rows} == {f"AAA-{mine.number:06d}"}
    assert {row["metric"] for row in rows if row["agreement"] == "sla"} == {
        "response",
        "resolution",
    }
    assert {row["partner"] for row in rows} <= {None, world.partner_p.name}


@pytest.mark.parametrize(
    "value", ["=1", "+1", "-1", "@A1", "\tx", "\rx", "＝1", "＋1", "－1", "＠A1"]
)
def test_every_formula_start_is_neutralised(value):
    assert neutralise(value) == "'" + value


def test_plain_values_are_left_alone():
    assert [neutralise(v) for v in ("Касса", "a=b", -5, None)] == ["Касса", "a=b", -5, None]


# --------------------------------------------------------------------------- HTML


def test_html_export_page_and_download_with_the_session(client, world):
    client.force_login(world.users["client_manager_a"])

    page = client.get("/exports/")
    # What the page's form sends: a checkbox's "on" and a date input's day.
    download = client.get("/exports/tickets.csv?is_open=on&created_after=2020-01-01&q=")

    assert page.status_code == 200
    assert b"/exports/sla-results.xlsx" in page.content
    assert b'name="client"' not in page.content  # a client manager exports its own only
    assert {row["subject"] for row in csv_rows(download)} == {"A1 till", "A2 cctv"}
