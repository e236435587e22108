"""Reading import files: CSV (UTF-8 with or without BOM, ``,`` or ``;``) and XLSX.

This module only turns bytes into rows of text with the line each came from; what the rows
mean is checked by ``clients.services`` (``store_import_rows``, ``equipment_import_rows``).
Headers may be English or Russian, in any order and case; unknown columns are ignored and
listed in the report, so an export with extra columns still imports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients import services as client_services
from clients.services import EquipmentRow, ImportReport, RowError, StoreRow
from servicedesk.actors import Actor
from servicedesk.exceptions import ValidationFailed

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 20_000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
FILE = "file"  # the "column" of errors about the file as a whole

STORES, EQUIPMENT = "stores", "equipment"
KINDS = {STORES: gettext_lazy("Stores"), EQUIPMENT: gettext_lazy("Equipment")}

# canonical column → the header spellings accepted (compared after ``_normalise``).
STORE_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "store code", "код", "код магазина"),
    "name": ("name", "название", "наименование"),
    "address": ("address", "адрес"),
    "region": ("region", "region code", "регион", "код региона"),
    "time_zone": ("time zone", "time_zone", "timezone", "часовой пояс"),
    "latitude": ("latitude", "lat", "широта"),
    "longitude": ("longitude", "lon", "lng", "долгота"),
    "access_calendar": (
        "access calendar",
        "access_calendar",
        "calendar",
        "календарь доступа",
        "часы доступа",
        "календарь",
    ),
    "external_id": ("external id", "external_id", "внешний id", "внешний идентификатор"),
    "city": ("city", "город"),
}
EQUIPMENT_HEADERS: dict[str, tuple[str, ...]] = {
    "store": ("store", "store code", "магазин", "код магазина"),
    "kind": ("kind", "type", "тип", "вид"),
    "model": ("model", "модель"),
    "serial": ("serial", "serial number", "serial_number", "серийный номер", "заводской номер"),
    "warranty_until": (
        "warranty until",
        "warranty_until",
        "warranty",
        "гарантия до",
        "гарантия",
    ),
    "external_id": ("external id", "external_id", "внешний id", "внешний идентификатор"),
}
REQUIRED = {
    STORES: ("code", "name", "address", "region"),
    EQUIPMENT: ("store", "kind", "model", "serial"),
}
HEADERS = {STORES: STORE_HEADERS, EQUIPMENT: EQUIPMENT_HEADERS}
ROW_TYPES = {STORES: StoreRow, EQUIPMENT: EquipmentRow}


class ImportFileError(Exception):
    """The file as a whole cannot be read (not CSV/XLSX, too big, no header…)."""


@dataclass
class ImportResult:
    """What the interfaces show: the service's report plus what the reader noticed."""

    kind: str
    client_id: int | None
    dry_run: bool
    sha256: str
    report: ImportReport
    ignored_columns: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        report = self.report
        return {
            "kind": self.kind,
            "client": self.client_id,
            "dry_run": self.dry_run,
            "valid": report.valid,
            "applied": report.applied,
            "sha256": self.sha256,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "errors": [asdict(error) for error in report.errors],
            "ignored_columns": self.ignored_columns,
        }


def _normalise(header: Any) -> str:
    text = str(header or "").replace("\ufeff", "").strip().lower().replace("ё", "е")
    return re.sub(r"[\s_]+", " ", text.strip("*: "))


def _cell(value: Any) -> str:
    """A spreadsheet value as text: numbers without ``.0``, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_csv(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("The file is not UTF-8 text: save it as “CSV UTF-8”.")) from None
    first = text.split("\n", 1)[0]
    # Russian Excel writes ";" (its decimal separator is the comma); count on the header line.
    delimiter = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, cells))  # a quoted cell may span lines: report where it starts
            start = reader.line_num + 1
            if len(rows) > MAX_IMPORT_ROWS + 1:
                break
    except csv.Error as exc:
        raise ImportFileError(
            _("Line %(line)s cannot be read: %(reason)s.") % {"line": start, "reason": exc}
        ) from None
    return rows


def _read_xlsx(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    unreadable = ImportFileError(_("The file is not a readable XLSX workbook."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise unreadable from None
    if unpacked > MAX_UNPACKED_BYTES:
        # A few megabytes can unzip to gigabytes (a "zip bomb"): refuse before parsing.
        raise ImportFileError(_("The workbook is too large once unpacked; save it as CSV."))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise unreadable from None
    try:
        sheet = workbook.worksheets[0]
        rows: list[tuple[int, list[str]]] = []
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((line, [_cell(value) for value in values]))
            if len(rows) > MAX_IMPORT_ROWS + 1:
                break
    finally:
        workbook.close()
    return rows


def read_table(data: bytes) -> list[tuple[int, list[str]]]:
    """``(line, cells)`` of a CSV or XLSX file (told apart by content, not by name)."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(
            _("The file is larger than %(mb)s MB.") % {"mb": MAX_IMPORT_BYTES // (1024 * 1024)}
        )
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    return _read_csv(data)


def rows_from_table(
    kind: str, table: list[tuple[int, list[str]]]
) -> tuple[list[StoreRow] | list[EquipmentRow], list[str]]:
    """Typed rows (blank lines skipped) and the ignored header names; ImportFileError when a
    required column is missing, a header repeats or there are too many rows."""
    table = [(line, cells) for line, cells in table if any(str(c).strip() for c in cells)]
    if not table:
        raise ImportFileError(_("The file is empty."))
    header_line, header = table[0]
    spellings = {
        _normalise(alias): name for name, aliases in HEADERS[kind].items() for alias in aliases
    }
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, title in enumerate(header):
        name = spellings.get(_normalise(title))
        if name is None:
            if str(title).strip():
                ignored.append(str(title).strip())
            continue
        if name in positions:
            raise ImportFileError(_("The column “%(name)s” appears twice.") % {"name": title})
        positions[name] = index
    missing = [name for name in REQUIRED[kind] if name not in positions]
    if missing:
        raise ImportFileError(
            _("Missing column(s): %(names)s (header on line %(line)s).")
            % {"names": ", ".join(missing), "line": header_line}
        )
    body = table[1:]
    if not body:
        raise ImportFileError(_("The file has a header but no rows."))
    if len(body) > MAX_IMPORT_ROWS:
        raise ImportFileError(
            _("The file has more than %(max)s rows; split it.") % {"max": MAX_IMPORT_ROWS}
        )
    row_type = ROW_TYPES[kind]
    rows = [
        row_type(
            line=line,
            **{
                name: (str(cells[index]) if index < len(cells) else "")
                for name, index in positions.items()
            },
        )
        for line, cells in body
    ]
    return rows, ignored


def import_file(
    *, actor: Actor | None, kind: str, client_id: int | None, data: bytes, dry_run: bool = True
) -> ImportResult:
    """Read ``data`` and hand its rows to the client services (which check access first).

    A file that cannot be read at all is reported as one error on line 1 (column ``file``),
    in the same shape as row errors, so every interface shows both the same way. Raises what
    the services raise: PermissionDenied/NotFound, and ImportInvalid when asked to apply a
    file with errors."""
    if kind not in KINDS:
        raise ValidationFailed(
            _("Unknown import kind."), fields={"kind": [_("Choose stores or equipment.")]}
        )
    client = client_services.import_client_get(actor=actor, client_id=client_id)
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        rows, ignored = rows_from_table(kind, read_table(data))
    except ImportFileError as exc:
        report = ImportReport(errors=[RowError(line=1, column=FILE, message=str(exc))])
        result = ImportResult(kind, client.pk, dry_run, sha256, report)
        if not dry_run:
            error = client_services.ImportInvalid(report)
            error.result = result
            raise error from None
        return result
    service = (
        client_services.store_import_rows
        if kind == STORES
        else client_services.equipment_import_rows
    )
    try:
        report = service(actor=actor, client_id=client.pk, rows=rows, dry_run=dry_run)
    except client_services.ImportInvalid as exc:
        # The interfaces answer a refused apply with the same report a dry run shows.
        exc.result = ImportResult(kind, client.pk, dry_run, sha256, exc.report, ignored)
        raise
    return ImportResult(kind, client.pk, dry_run, sha256, report, ignored)
