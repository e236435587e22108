"""Imports of stores and equipment: every bad row reported with its line, nothing written by
a dry run, all rows or none written by an apply, CSV and XLSX alike, scoped by the actor."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from clients.models import Equipment, Store
from clients.services import ImportInvalid
from integrations.imports import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    MAX_UNPACKED_BYTES,
    import_file,
)
from servicedesk.exceptions import Conflict, NotFound, PermissionDenied
from tests.factories import RegionFactory

STORE_HEADER = [
    "code",
    "name",
    "address",
    "region",
    "time_zone",
    "latitude",
    "longitude",
    "access_calendar",
    "external_id",
]
EQUIPMENT_HEADER = ["store", "kind", "model", "serial", "warranty_until", "external_id"]


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def store_line(code: str, **overrides: str) -> list[str]:
    values = {
        "code": code,
        "name": f"Магазин {code}",
        "address": "ул. Ленина, 1",
        "region": "RU-MOW",
        "time_zone": "",
        "latitude": "55.75",
        "longitude": "37.61",
        "access_calendar": "",
        "external_id": "",
    }
    values.update(overrides)
    return [values[name] for name in STORE_HEADER]


def errors_by_line(result) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for error in result.report.errors:
        found.setdefault(error.line, set()).add(error.column)
    return found


def import_stores(
    world, data: bytes, *, user: str = "dispatcher", dry_run: bool = True, client=None
):
    return import_file(
        actor=world.actor(user),
        kind="stores",
        client_id=(client or world.client_a).pk,
        data=data,
        dry_run=dry_run,
    )


# --------------------------------------------------------------------------- dry run


def test_dry_run_reports_each_kind_of_bad_store_row_with_its_line(world):
    data = csv_bytes(
        [
            STORE_HEADER,
            store_line("N1"),  # line 2: fine
            store_line("N2", region="RU-XXX"),  # 3: unknown region
            store_line("N3", time_zone="Mars/Olympus_Mons"),  # 4: invalid zone
            store_line("N1"),  # 5: duplicate of line 2
            store_line("N5", latitude="95"),  # 6: latitude out of range
            store_line("N6", longitude="east"),  # 7: not a number
            store_line("N7", name="x" * 201),  # 8: too long
            store_line("N8", access_calendar="no-such-calendar"),  # 9
            store_line(""),  # 10: no code
            store_line("N10", time_zone="MSK-3"),  # 11: a POSIX zone, refused by our rules
            store_line("N11", latitude="55.7", longitude=""),  # 12: half a coordinate
        ]
    )
    stores_before = Store.objects.count()

    result = import_stores(world, data)

    assert result.report.valid is False
    assert errors_by_line(result) == {
        3: {"region"},
        4: {"time_zone"},
        5: {"code"},
        6: {"latitude"},
        7: {"longitude"},
        8: {"name"},
        9: {"access_calendar"},
        10: {"code"},
        11: {"time_zone"},
        12: {"longitude"},
    }
    messages = {error.line: error.message for error in result.report.errors}
    assert "RU-XXX" in messages[3]
    assert "line 2" in messages[5]
    assert result.report.created == 1  # only line 2 would be created
    assert Store.objects.count() == stores_before


def test_dry_run_reports_each_kind_of_bad_equipment_row(world):
    data = csv_bytes(
        [
            EQUIPMENT_HEADER,
            ["A1", "cash_register", "Атол 91Ф", "SN-1", "2027-01-31", ""],  # 2: fine
            ["B1", "cash_register", "Атол", "SN-2", "", ""],  # 3: another client's store
            ["A1", "toaster", "T-1000", "SN-3", "", ""],  # 4: unknown kind
            ["A1", "cctv", "Hikvision", "SN-4", "31.02.2027", ""],  # 5: no such date
            ["A1", "cctv", "Hikvision", "SN-1", "", ""],  # 6: duplicate serial of line 2
            ["A2", "cctv", "m" * 121, "SN-5", "", ""],  # 7: model too long
            ["A2", "cctv", "Hikvision", "", "", ""],  # 8: no serial
        ]
    )
    equipment_before = Equipment.objects.count()

    result = import_file(
        actor=world.actor("dispatcher"),
        kind="equipment",
        client_id=world.client_a.pk,
        data=data,
    )

    assert errors_by_line(result) == {
        3: {"store"},
        4: {"kind"},
        5: {"warranty_until"},
        6: {"serial"},
        7: {"model"},
        8: {"serial"},
    }
    assert result.report.created == 1
    assert Equipment.objects.count() == equipment_before


def test_file_level_problems_are_reported_on_line_one(world):
    missing_column = csv_bytes([["code", "name"], ["N1", "Shop"]])
    not_a_table = b"\x00\x01 binary \xff\xfe"

    header_only = csv_bytes([STORE_HEADER])
    for data in (missing_column, not_a_table, b"", header_only):
        result = import_stores(world, data)

        assert result.report.valid is False
        assert [(e.line, e.column) for e in result.report.errors] == [(1, "file")]


def test_a_workbook_that_unzips_to_gigabytes_is_refused_unread(world):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"0" * (MAX_UNPACKED_BYTES + 1))

    result = import_stores(world, buffer.getvalue())

    assert len(buffer.getvalue()) < 1024 * 1024
    assert [(e.line, e.column) for e in result.report.errors] == [(1, "file")]
    assert "unpacked" in result.report.errors[0].message


def test_too_many_rows_is_refused_before_any_row_is_checked(world):
    rows = [STORE_HEADER] + [store_line(f"S{i}") for i in range(MAX_IMPORT_ROWS + 1)]

    result = import_stores(world, csv_bytes(rows))

    assert [(e.line, e.column) for e in result.report.errors] == [(1, "file")]
    assert str(MAX_IMPORT_ROWS) in result.report.errors[0].message


# --------------------------------------------------------------------------- formats


def test_semicolon_csv_with_bom_russian_headers_and_russian_number_formats(world):
    data = csv_bytes(
        [
            ["Код", "Название", "Адрес", "Регион", "Часовой пояс", "Широта", "Долгота"],
            ["K-1", "Камчатка центр", "ул. Ленинская, 5", "RU-KAM", "", "53,0452", "158,6483"],
            ["K-2", "Москва", "ул. Тверская, 7", "ru-mow", "Europe/Moscow", "", ""],
        ],
        delimiter=";",
        bom=True,
    )

    result = import_stores(world, data, dry_run=False)

    assert result.report.valid, result.report.errors
    kam = Store.objects.get(client=world.client_a, code="K-1")
    assert kam.time_zone == "Asia/Kamchatka"  # the region's zone when the cell is blank
    assert kam.latitude == Decimal("53.045200")
    assert kam.city == "Камчатский край"
    assert Store.objects.get(client=world.client_a, code="K-2").region.code == "RU-MOW"


def test_equipment_csv_with_russian_headers_labels_and_dotted_dates(world):
    data = (
        csv_bytes(
            [["Код магазина", "Тип", "Модель", "Серийный номер", "Гарантия до"]],
            delimiter=";",
        )
        + "A1;Cash register;Атол 91Ф;RU-77;31.12.2027\r\n".encode()
    )

    result = import_file(
        actor=world.actor("dispatcher"),
        kind="equipment",
        client_id=world.client_a.pk,
        data=data,
        dry_run=False,
    )

    assert result.report.valid, result.report.errors
    item = Equipment.objects.get(store=world.store_a1, serial_number="RU-77")
    assert (item.kind, item.warranty_until) == ("cash_register", date(2027, 12, 31))


def test_xlsx_round_trip_with_numbers_and_date_cells(world):
    data = xlsx_bytes(
        [
            ["Store", "Kind", "Model", "Serial", "Warranty until"],
            ["A2", "scales", "CAS", 100200300, date(2028, 5, 1)],
        ]
    )

    result = import_file(
        actor=world.actor("dispatcher"),
        kind="equipment",
        client_id=world.client_a.pk,
        data=data,
        dry_run=False,
    )

    assert result.report.valid, result.report.errors
    item = Equipment.objects.get(store=world.store_a2, serial_number="100200300")
    assert item.warranty_until == date(2028, 5, 1)


def test_xlsx_store_errors_carry_the_sheet_row_number(world):
    data = xlsx_bytes([STORE_HEADER, store_line("X1"), [], store_line("X2", region="RU-ZZ")])

    result = import_stores(world, data)

    assert errors_by_line(result) == {4: {"region"}}


# --------------------------------------------------------------------------- apply


def test_apply_creates_and_updates_by_code_then_reports_unchanged(world):
    RegionFactory(code="RU-SVE", name_ru="Свердловская область", time_zone="Asia/Yekaterinburg")
    data = csv_bytes(
        [
            STORE_HEADER,
            store_line("A1", name="Renamed A1", external_id="ERP-1"),
            store_line("N1", region="RU-SVE", access_calendar="24x7"),
        ]
    )

    first = import_stores(world, data, dry_run=False)
    again = import_stores(world, data, dry_run=True)

    assert (first.report.created, first.report.updated, first.report.applied) == (1, 1, True)
    world.store_a1.refresh_from_db()
    assert (world.store_a1.name, world.store_a1.external_id) == ("Renamed A1", "ERP-1")
    new = Store.objects.get(client=world.client_a, code="N1")
    assert new.time_zone == "Asia/Yekaterinburg"
    assert new.access_calendar.code == "24x7"
    assert (again.report.created, again.report.updated, again.report.unchanged) == (0, 0, 2)


def test_equipment_upsert_updates_by_store_and_serial(world):
    existing = Equipment.objects.get(store=world.store_a1)
    data = csv_bytes(
        [EQUIPMENT_HEADER, ["A1", "fiscal_printer", "Штрих-М", existing.serial_number, "", "x"]]
    )

    result = import_file(
        actor=world.actor("client_manager_a"),
        kind="equipment",
        client_id=None,
        data=data,
        dry_run=False,
    )

    existing.refresh_from_db()
    assert (result.report.updated, result.report.created) == (1, 0)
    assert (existing.kind, existing.model) == ("fiscal_printer", "Штрих-М")


def test_apply_with_any_bad_row_writes_nothing(world):
    data = csv_bytes([STORE_HEADER, store_line("G1"), store_line("G2", region="RU-XXX")])

    with pytest.raises(ImportInvalid) as raised:
        import_stores(world, data, dry_run=False)

    assert [(e.line, e.column) for e in raised.value.report.errors] == [(3, "region")]
    assert not Store.objects.filter(code__in=["G1", "G2"]).exists()


def test_a_database_failure_in_the_last_row_rolls_back_every_row(world):
    # A real constraint the import knows nothing about, refusing only the last row.
    with connection.cursor() as cursor:
        # The world's rows leave deferred foreign-key checks pending; ALTER needs them done.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE clients_store ADD CONSTRAINT test_no_zzz CHECK (code <> 'ZZZ')")
    rows = [STORE_HEADER] + [store_line(f"R{i}") for i in range(5)] + [store_line("ZZZ")]
    data = csv_bytes(rows)
    assert import_stores(world, data).report.valid  # the dry run cannot know

    with pytest.raises(Conflict):
        import_stores(world, data, dry_run=False)

    assert not Store.objects.filter(code__startswith="R").exists()
    assert not Store.objects.filter(code="ZZZ").exists()


def test_external_id_of_another_store_is_refused(world):
    Store.objects.filter(pk=world.store_a2.pk).update(external_id="ERP-2")
    data = csv_bytes([STORE_HEADER, store_line("A1", external_id="ERP-2")])

    result = import_stores(world, data)

    assert errors_by_line(result) == {2: {"external_id"}}


# --------------------------------------------------------------------------- who may import


def test_client_manager_imports_into_its_own_client_only(world):
    data = csv_bytes([STORE_HEADER, store_line("M1")])
    before = Store.objects.count()

    with pytest.raises(NotFound):
        import_stores(world, data, user="client_manager_a", client=world.client_b, dry_run=False)
    own = import_file(
        actor=world.actor("client_manager_a"), kind="stores", client_id=None, data=data
    )

    assert Store.objects.count() == before
    assert own.client_id == world.client_a.pk


@pytest.mark.parametrize("user", ["store_staff_a1", "partner_manager_p", "engineer_p"])
def test_other_roles_may_not_import(world, user):
    data = csv_bytes([STORE_HEADER, store_line("M1")])

    with pytest.raises(PermissionDenied):
        import_stores(world, data, user=user, dry_run=False)

    assert not Store.objects.filter(code="M1").exists()


# --------------------------------------------------------------------------- API


def test_api_dry_run_answers_200_with_the_errors_and_apply_answers_400(world, api_for):
    api = api_for(world.users["dispatcher"])
    data = csv_bytes([STORE_HEADER, store_line("P1"), store_line("P2", latitude="-91")])

    def post(dry_run: str):
        upload = io.BytesIO(data)
        upload.name = "stores.csv"
        return api.post(
            "/api/v1/stores/import/",
            {"file": upload, "client": world.client_a.pk, "dry_run": dry_run},
            format="multipart",
        )

    checked, applied = post("true"), post("false")

    assert checked.status_code == 200
    assert checked.json()["valid"] is False
    assert checked.json()["errors"] == [
        {"line": 3, "column": "latitude", "message": checked.json()["errors"][0]["message"]}
    ]
    assert applied.status_code == 400
    assert applied.json()["error"]["code"] == "import_invalid"
    assert applied.json()["errors"] == checked.json()["errors"]
    assert not Store.objects.filter(code__in=["P1", "P2"]).exists()


def test_api_apply_of_a_clean_equipment_file(world, api_for):
    api = api_for(world.users["client_manager_a"])
    upload = io.BytesIO(
        csv_bytes([EQUIPMENT_HEADER, ["A2", "network", "MikroTik", "MT-1", "", ""]])
    )
    upload.name = "equipment.csv"

    response = api.post(
        "/api/v1/equipment/import/",
        {"file": upload, "client": world.client_a.pk, "dry_run": "false"},
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["applied"] is True
    assert Equipment.objects.filter(store=world.store_a2, serial_number="MT-1").exists()


@pytest.mark.parametrize(("user", "status"), [("client_manager_a", 404), ("store_staff_b1", 403)])
def test_api_refuses_foreign_clients_and_other_roles(world, api_for, user, status):
    upload = io.BytesIO(csv_bytes([STORE_HEADER, store_line("Q1")]))
    upload.name = "stores.csv"

    response = api_for(world.users[user]).post(
        "/api/v1/stores/import/",
        {"file": upload, "client": world.client_b.pk, "dry_run": "false"},
        format="multipart",
    )

    assert response.status_code == status
    assert set(response.json()) == {"error"}
    assert not Store.objects.filter(code="Q1").exists()


def test_api_refuses_a_file_over_the_size_limit(world, api_for):
    upload = io.BytesIO(b"code,name\n" + b"x" * MAX_IMPORT_BYTES)
    upload.name = "big.csv"

    response = api_for(world.users["dispatcher"]).post(
        "/api/v1/stores/import/", {"file": upload, "client": world.client_a.pk}, format="multipart"
    )

    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


def test_api_without_a_file_is_a_field_error(world, api_for):
    response = api_for(world.users["dispatcher"]).post(
        "/api/v1/stores/import/", {"client": world.client_a.pk}, format="multipart"
    )

    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


# --------------------------------------------------------------------------- queries


def _queries(world, count: int, *, dry_run: bool) -> int:
    rows = [STORE_HEADER] + [store_line(f"C{count}-{i}") for i in range(count)]
    with CaptureQueriesContext(connection) as captured:
        result = import_stores(world, csv_bytes(rows), dry_run=dry_run)
    assert result.report.valid and result.report.created == count
    return len(captured)


@pytest.mark.parametrize("dry_run", [True, False])
def test_query_count_does_not_grow_with_rows(world, dry_run):
    assert _queries(world, 10, dry_run=dry_run) == _queries(world, 300, dry_run=dry_run)
