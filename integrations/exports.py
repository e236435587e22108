"""Exports of tickets and their SLA results as CSV (streamed) and XLSX.

Rows come from ``tickets.selectors.ticket_list(actor=...)`` with the ticket list's own
filters, so an export shows exactly what the caller's list shows. Times are in each store's
local time, with the zone's name in a column of its own.

Spreadsheet formula injection (OWASP "CSV injection"): a text cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return (or a full-width ``＝ ＋ － ＠``) could run as
a formula when the file is opened. In CSV such a cell gets a leading apostrophe; in XLSX
every text cell is written as a string cell, which a spreadsheet never evaluates.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.actors import Actor
from servicedesk.exceptions import ValidationFailed
from sla.choices import Agreement, ClockState
from sla.models import SlaClock
from tickets.filtersets import TicketFilterSet
from tickets.models import Ticket
from tickets.presenters import clock_reading
from tickets.selectors import ticket_list

CHUNK_SIZE = 2000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

TICKET_COLUMNS = [
    "reference",
    "subject",
    "status",
    "priority",
    "category",
    "kind",
    "needs_visit",
    "client",
    "store_code",
    "store_name",
    "region",
    "time_zone",
    "created_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "partner",
    "engineer",
    "external_id",
]
SLA_COLUMNS = [
    "reference",
    "client",
    "store_code",
    "time_zone",
    "agreement",
    "partner",
    "metric",
    "cycle",
    "target_seconds",
    "started_at",
    "due_at",
    "stopped_at",
    "state",
    "breached",
    "breached_at",
    "consumed_working_seconds",
    "overdue_working_seconds",
]


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula, made plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def export_filters_check(filters: Any) -> None:
    """Refuse the filters the ticket list would refuse, naming the field (400, not 500)."""
    filterset = TicketFilterSet(filters, queryset=Ticket.objects.none())
    if not filterset.is_valid():
        fields = {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        raise ValidationFailed(_("Some filters are not valid."), fields=fields)


def _local(instant: datetime | None, zone: ZoneInfo) -> datetime | None:
    return instant.astimezone(zone).replace(tzinfo=None) if instant else None


def _zone(name: str, cache: dict[str, ZoneInfo]) -> ZoneInfo:
    if name not in cache:
        cache[name] = ZoneInfo(name)
    return cache[name]


def export_tickets(*, actor: Actor | None, filters: Any = None) -> QuerySet[Ticket]:
    """The tickets ``actor`` may see, filtered as the list is, oldest first."""
    export_filters_check(filters or {})
    return ticket_list(actor=actor, filters=filters or None).order_by("created_at", "pk")


def ticket_rows(*, actor: Actor | None, filters: Any = None) -> Iterator[list[Any]]:
    """One list per ticket (``TICKET_COLUMNS``), read in chunks: memory stays flat."""
    zones: dict[str, ZoneInfo] = {}
    for ticket in export_tickets(actor=actor, filters=filters).iterator(chunk_size=CHUNK_SIZE):
        store = ticket.store
        zone = _zone(store.time_zone, zones)
        yield [
            f"{ticket.client.code}-{ticket.number:06d}",
            ticket.subject,
            ticket.status,
            ticket.priority,
            ticket.category,
            ticket.kind,
            ticket.needs_visit,
            ticket.client.name,
            store.code,
            store.name,
            store.region.code,
            store.time_zone,
            _local(ticket.created_at, zone),
            _local(ticket.first_response_at, zone),
            _local(ticket.resolved_at, zone),
            _local(ticket.closed_at, zone),
            ticket.partner.name if ticket.partner_id else "",
            ticket.engineer.get_full_name() or ticket.engineer.username
            if ticket.engineer_id
            else "",
            ticket.external_id or "",
        ]


def export_clocks(*, actor: Actor | None, filters: Any = None) -> QuerySet[SlaClock]:
    """Clocks of the exported tickets the actor may see: the client SLA for everyone who
    sees the ticket, a partner's OLA for the provider and that partner (as on the ticket)."""
    tickets = export_tickets(actor=actor, filters=filters).order_by().values("pk")
    clocks = SlaClock.objects.filter(ticket__in=tickets)
    if actor is None or actor.is_client:
        clocks = clocks.filter(agreement=Agreement.SLA)
    elif actor.is_partner:
        clocks = clocks.filter(
            Q(agreement=Agreement.SLA)
            | Q(agreement=Agreement.OLA, partner_id=actor.organisation_id)
        )
    return clocks.select_related(
        "ticket__client", "ticket__store", "partner", "calendar", "access_calendar"
    ).order_by("ticket__created_at", "ticket_id", "agreement", "partner_id", "cycle", "metric")


def sla_rows(
    *, actor: Actor | None, filters: Any = None, now: datetime | None = None
) -> Iterator[list[Any]]:
    """One list per clock (``SLA_COLUMNS``). Working seconds of running clocks are read at
    ``now`` on their own calendars (built once per calendar and zone, not per row)."""
    now = now or timezone.now()
    zones: dict[str, ZoneInfo] = {}
    for clock in export_clocks(actor=actor, filters=filters).iterator(chunk_size=CHUNK_SIZE):
        ticket, store = clock.ticket, clock.ticket.store
        zone = _zone(store.time_zone, zones)
        reading = clock_reading(clock, now)
        breached = clock.breached_at is not None or clock.state == ClockState.BREACHED
        yield [
            f"{ticket.client.code}-{ticket.number:06d}",
            ticket.client.name,
            store.code,
            store.time_zone,
            clock.agreement,
            clock.partner.name if clock.partner_id else "",
            clock.metric,
            clock.cycle,
            clock.target_seconds,
            _local(clock.started_at, zone),
            _local(clock.due_at, zone),
            _local(clock.stopped_at, zone),
            clock.state,
            breached,
            _local(clock.breached_at, zone),
            reading.consumed_seconds,
            reading.overdue_seconds,
        ]


# --------------------------------------------------------------------------- writers


class _Echo:
    """A file-like object whose ``write`` returns what it was given (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(_TIME_FORMAT)
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(value)


def csv_stream(header: list[str], rows: Iterable[list[Any]], lines_per_chunk: int = 500):
    """UTF-8 CSV (with a BOM, so Excel reads Cyrillic) yielded a few hundred lines at a time."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    chunk: list[str] = []
    for row in rows:
        chunk.append(writer.writerow([_csv_value(value) for value in row]))
        if len(chunk) >= lines_per_chunk:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def xlsx_file(title: str, header: list[str], rows: Iterable[list[Any]]):
    """An XLSX workbook in a temporary file (write-only mode keeps memory flat); text cells are
    string cells, never formulas. Returns the open file, positioned at its start."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            item = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            item.data_type = "s"  # "=…" would otherwise be stored as a formula
            return item
        item = WriteOnlyCell(sheet, value=value)
        if isinstance(value, datetime):
            item.number_format = "yyyy-mm-dd hh:mm:ss"
        return item

    sheet.append([cell(name) for name in header])
    for row in rows:
        sheet.append([cell(value) for value in row])
    # Closed by the FileResponse that sends it.
    handle = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    workbook.save(handle)
    handle.seek(0)
    return handle


EXPORTS = {
    "tickets": (TICKET_COLUMNS, ticket_rows),
    "sla-results": (SLA_COLUMNS, sla_rows),
}
