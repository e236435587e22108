"""Writes of client data: bulk upserts of stores and equipment (the imports of issue 5).

Every interface (the import API, the /imports/ page, a command) calls these functions with
rows of text as a person typed them; the rows are checked here, against the models' own
field validators and the reference data, and written in one transaction or not at all.

Upsert keys (documented in the import page and the API):
* a store is the client's store with the same ``code``; its ``external_id`` must stay unique
  within the client, but it does not identify the row (codes are what people know);
* equipment is the piece with the same ``serial`` at the same store. ``Equipment`` has no
  external id of its own, so an ``external_id`` column is accepted and ignored.

Blank optional cells never erase what a store already has: a sheet exported before a field
was filled in cannot wipe it. A store's blank ``time_zone`` is its region's zone; a new
store's blank ``city`` is its region's name (the reference list knows no cities).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from calendars.models import BusinessCalendar
from clients.choices import EquipmentKind
from clients.models import Client, Equipment, Region, Store
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed

IMPORT_ROLES = (Role.PROVIDER_ADMIN, Role.DISPATCHER, Role.CLIENT_MANAGER)
_BATCH = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DOTTED_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


@dataclass(frozen=True)
class StoreRow:
    """One store as typed in a file; ``line`` is where it is in the file (header: line 1)."""

    line: int
    code: str = ""
    name: str = ""
    address: str = ""
    region: str = ""
    time_zone: str = ""
    latitude: str = ""
    longitude: str = ""
    access_calendar: str = ""
    external_id: str = ""
    city: str = ""


@dataclass(frozen=True)
class EquipmentRow:
    """One piece of equipment as typed in a file (``store`` is the store's code)."""

    line: int
    store: str = ""
    kind: str = ""
    model: str = ""
    serial: str = ""
    warranty_until: str = ""
    external_id: str = ""


@dataclass(frozen=True)
class RowError:
    """What is wrong with one cell (``column`` is the canonical column name)."""

    line: int
    column: str
    message: str


@dataclass
class ImportReport:
    """The outcome of checking (and maybe writing) a batch of rows.

    The counts say what the rows without errors would do (or did, once ``applied``)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    @property
    def valid(self) -> bool:
        return not self.errors

    def add(self, line: int, column: str, message: str) -> None:
        self.errors.append(RowError(line=line, column=column, message=str(message)))


class ImportInvalid(ValidationFailed):
    """A batch with errors was asked to be written: nothing was, the report says why."""

    default_code = "import_invalid"

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            _("The file has %(count)s error(s); nothing was imported.")
            % {"count": len(report.errors)}
        )
        self.report = report


# --------------------------------------------------------------------------- access


def import_client_get(*, actor: Actor | None, client_id: int | None) -> Client:
    """The client ``actor`` may import into: any for provider admins and dispatchers (named
    explicitly), its own for a client manager. Another client's id is NotFound for a client
    manager (existence does not leak); other roles may not import at all."""
    if actor is None or actor.role not in IMPORT_ROLES:
        raise PermissionDenied(_("Only provider staff and client managers import data."))
    if client_id is None and actor.role == Role.CLIENT_MANAGER:
        client_id = actor.organisation_id
    if client_id is None:
        raise ValidationFailed(
            _("Choose the client to import into."),
            fields={"client": [_("This field is required.")]},
        )
    try:
        return Client.objects.visible_to(actor).get(pk=client_id)
    except (Client.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Client not found.")) from None


# --------------------------------------------------------------------------- cell helpers


def _text(report: ImportReport, line: int, column: str, value: str) -> str:
    value = (value or "").strip()
    if _CONTROL.search(value):
        report.add(line, column, _("Contains control characters."))
    return value


def _model_errors(
    report: ImportReport, line: int, instance: Any, columns: dict[str, str], exclude: list[str]
) -> None:
    """The model's own field validators (lengths, ranges, zone names), per file column."""
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            for message in messages:
                report.add(line, columns.get(name, name), message)


def _coordinate(report: ImportReport, line: int, column: str, raw: str, limit: int):
    if not raw:
        return None
    try:
        value = Decimal(raw.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        report.add(line, column, _("Not a number."))
        return None
    if not value.is_finite() or not -limit <= value <= limit:
        report.add(line, column, _("Must be between -%(limit)s and %(limit)s.") % {"limit": limit})
        return None
    return value.quantize(Decimal("0.000001"))


def parse_date(raw: str) -> date | None:
    """``YYYY-MM-DD`` or ``DD.MM.YYYY`` (how Russian spreadsheets write dates); ValueError."""
    match = _DOTTED_DATE.match(raw)
    if match:
        day, month, year = (int(part) for part in match.groups())
        return date(year, month, day)
    if len(raw) >= 10 and raw[4] == "-":
        # A spreadsheet date cell arrives as "YYYY-MM-DD 00:00:00".
        return datetime.fromisoformat(raw).date() if len(raw) > 10 else date.fromisoformat(raw)
    raise ValueError(raw)


# --------------------------------------------------------------------------- stores

_STORE_FIELDS = ["name", "address", "city", "region_id", "time_zone", "latitude", "longitude"]
_STORE_FIELDS += ["access_calendar_id", "external_id"]
_STORE_COLUMNS = {"region": "region", "access_calendar": "access_calendar"}


@dataclass
class _Plan:
    report: ImportReport
    create: list[Any] = field(default_factory=list)
    update: list[Any] = field(default_factory=list)


def _store_plan(client: Client, rows: Sequence[StoreRow]) -> _Plan:
    """Check every row against the reference data and the client's stores: four queries."""
    plan = _Plan(report=ImportReport(rows=len(rows)))
    regions = {region.code: region for region in Region.objects.all()}
    calendars = dict(BusinessCalendar.objects.values_list("code", "id"))
    existing = {store.code: store for store in Store.objects.filter(client=client)}
    owner_of_external = {s.external_id: s.code for s in existing.values() if s.external_id}
    seen_codes: dict[str, int] = {}
    seen_external: dict[str, int] = {}
    for row in rows:
        errors_before = len(plan.report.errors)
        code, external = row.code.strip(), row.external_id.strip()
        if code and code in seen_codes:
            plan.report.add(
                row.line,
                "code",
                _("Duplicate code: also on line %(line)s.") % {"line": seen_codes[code]},
            )
        seen_codes.setdefault(code, row.line)
        if external and external in seen_external:
            plan.report.add(
                row.line,
                "external_id",
                _("Duplicate external id: also on line %(line)s.")
                % {"line": seen_external[external]},
            )
        seen_external.setdefault(external, row.line)
        _store_row(
            plan, row, client, regions, calendars, existing, owner_of_external, errors_before
        )
    return plan


def _store_row(
    plan, row, client, regions, calendars, existing, owner_of_external, errors_before
) -> None:
    report, line = plan.report, row.line
    code = _text(report, line, "code", row.code)
    values: dict[str, Any] = {
        name: _text(report, line, name, getattr(row, name)) for name in ("name", "address", "city")
    }
    region_code = _text(report, line, "region", row.region).upper()
    region = regions.get(region_code)
    if region is None:
        message = _("Unknown region “%(code)s” (ISO 3166-2, e.g. RU-MOW).") % {"code": region_code}
        report.add(line, "region", message if region_code else _("Required."))
    # The zone is checked by the model's validator (servicedesk.timezones rules) below.
    zone = _text(report, line, "time_zone", row.time_zone)
    latitude = _coordinate(report, line, "latitude", row.latitude.strip(), 90)
    longitude = _coordinate(report, line, "longitude", row.longitude.strip(), 180)
    if bool(row.latitude.strip()) != bool(row.longitude.strip()):
        report.add(line, "longitude", _("Give both coordinates or neither."))
    calendar_code = _text(report, line, "access_calendar", row.access_calendar)
    if calendar_code and calendar_code not in calendars:
        report.add(
            line, "access_calendar", _("Unknown calendar “%(code)s”.") % {"code": calendar_code}
        )
    external = _text(report, line, "external_id", row.external_id) or None
    if external and owner_of_external.get(external, code) != code:
        report.add(
            line,
            "external_id",
            _("Already the external id of store %(code)s.") % {"code": owner_of_external[external]},
        )
    store = existing.get(code)
    new = store is None
    if new:
        store = Store(client=client, code=code)
    before = {name: getattr(store, name) for name in _STORE_FIELDS}
    if zone:
        store.time_zone = zone
    exclude = ["client", "region", "access_calendar", "phone"]
    if region is not None:
        if not zone and (new or store.region_id != region.pk):
            store.time_zone = region.time_zone
        store.region_id = region.pk
        store.city = values["city"] or (store.city if not new else region.name_ru)
    else:
        # Without a region there is no default zone or city to blame the row for.
        exclude += ["city", "time_zone"] if not zone else ["city"]
    store.name, store.address = values["name"], values["address"]
    if latitude is not None and longitude is not None:
        store.latitude, store.longitude = latitude, longitude
    if calendar_code in calendars:
        store.access_calendar_id = calendars[calendar_code]
    if external:
        store.external_id = external
    _model_errors(report, line, store, _STORE_COLUMNS, exclude)
    if len(report.errors) > errors_before:
        return
    if new:
        report.created += 1
        plan.create.append(store)
    elif before != {name: getattr(store, name) for name in _STORE_FIELDS}:
        report.updated += 1
        plan.update.append(store)
    else:
        report.unchanged += 1


def store_import_rows(
    *, actor: Actor | None, client_id: int | None, rows: Sequence[StoreRow], dry_run: bool = True
) -> ImportReport:
    """Check every row; with ``dry_run=False`` and no errors, write them (``store_upsert``).

    A dry run writes nothing and reports every bad row; it answers in a fixed number of
    queries, however many rows."""
    client = import_client_get(actor=actor, client_id=client_id)
    if not dry_run:
        return store_upsert(actor=actor, client_id=client.pk, rows=rows)
    return _store_plan(client, rows).report


def store_upsert(
    *, actor: Actor | None, client_id: int | None, rows: Sequence[StoreRow]
) -> ImportReport:
    """Create or update the client's stores by code, all rows or none.

    The client row is locked for the duration, so two imports into one client run one after
    the other and the second sees the first's stores. Raises ``ImportInvalid`` (with the
    report) when any row is bad, ``Conflict`` when the database refuses a row."""
    client = import_client_get(actor=actor, client_id=client_id)
    return _apply(client, lambda: _store_plan(client, rows), Store, _STORE_FIELDS)


# --------------------------------------------------------------------------- equipment

_EQUIPMENT_FIELDS = ["kind", "model", "warranty_until"]
_EQUIPMENT_COLUMNS = {"serial_number": "serial", "store": "store"}


def equipment_kinds() -> dict[str, str]:
    """Every way a file may name a kind: its value, and its label in English and Russian."""
    names = {value: value for value in EquipmentKind.values}
    for language in ("en", "ru"):
        with translation.override(language):
            names.update({str(kind.label).lower(): kind.value for kind in EquipmentKind})
    return names


def _equipment_plan(client: Client, rows: Sequence[EquipmentRow]) -> _Plan:
    """Check every row against the client's stores and equipment: two queries."""
    plan = _Plan(report=ImportReport(rows=len(rows)))
    report = plan.report
    stores = dict(Store.objects.filter(client=client).values_list("code", "id"))
    existing = {
        (item.store_id, item.serial_number): item
        for item in Equipment.objects.filter(store__client=client)
    }
    kinds = equipment_kinds()
    seen: dict[tuple[int, str], int] = {}
    for row in rows:
        line, errors_before = row.line, len(report.errors)
        store_code = _text(report, line, "store", row.store)
        store_id = stores.get(store_code)
        if store_id is None:
            message = _("Unknown store “%(code)s” of this client.") % {"code": store_code}
            report.add(line, "store", message if store_code else _("Required."))
        raw_kind = _text(report, line, "kind", row.kind)
        kind = kinds.get(raw_kind.lower())
        if kind is None:
            report.add(
                line,
                "kind",
                _("Unknown kind “%(kind)s”; one of: %(kinds)s.")
                % {"kind": raw_kind, "kinds": ", ".join(EquipmentKind.values)},
            )
        model = _text(report, line, "model", row.model)
        serial = _text(report, line, "serial", row.serial)
        warranty = None
        raw_warranty = _text(report, line, "warranty_until", row.warranty_until)
        if raw_warranty:
            try:
                warranty = parse_date(raw_warranty)
            except ValueError:
                report.add(line, "warranty_until", _("Not a date (YYYY-MM-DD or DD.MM.YYYY)."))
        key = (store_id, serial)
        if store_id is not None and serial and key in seen:
            report.add(
                line,
                "serial",
                _("Duplicate serial at this store: also on line %(line)s.") % {"line": seen[key]},
            )
        seen.setdefault(key, line)
        item = existing.get(key)
        new = item is None
        if new:
            item = Equipment(store_id=store_id, serial_number=serial)
        before = {name: getattr(item, name) for name in _EQUIPMENT_FIELDS}
        item.kind, item.model = kind or raw_kind, model
        if warranty is not None:
            item.warranty_until = warranty
        exclude = ["store", "kind", "installed_on"]
        _model_errors(report, line, item, _EQUIPMENT_COLUMNS, exclude)
        if len(report.errors) > errors_before:
            continue
        if new:
            report.created += 1
            plan.create.append(item)
        elif before != {name: getattr(item, name) for name in _EQUIPMENT_FIELDS}:
            report.updated += 1
            plan.update.append(item)
        else:
            report.unchanged += 1
    return plan


def equipment_import_rows(
    *,
    actor: Actor | None,
    client_id: int | None,
    rows: Sequence[EquipmentRow],
    dry_run: bool = True,
) -> ImportReport:
    """Check every row; with ``dry_run=False`` and no errors, write them (``equipment_upsert``)."""
    client = import_client_get(actor=actor, client_id=client_id)
    if not dry_run:
        return equipment_upsert(actor=actor, client_id=client.pk, rows=rows)
    return _equipment_plan(client, rows).report


def equipment_upsert(
    *, actor: Actor | None, client_id: int | None, rows: Sequence[EquipmentRow]
) -> ImportReport:
    """Create or update equipment at the client's stores by (store, serial), all or none."""
    client = import_client_get(actor=actor, client_id=client_id)
    return _apply(client, lambda: _equipment_plan(client, rows), Equipment, _EQUIPMENT_FIELDS)


# --------------------------------------------------------------------------- writing


def _apply(client: Client, make_plan, model, fields: list[str]) -> ImportReport:
    """Lock the client, check again on what is there now, write in bulk; all or nothing."""
    try:
        with transaction.atomic():
            Client.objects.select_for_update().filter(pk=client.pk).first()
            plan = make_plan()
            if not plan.report.valid:
                raise ImportInvalid(plan.report)
            now = timezone.now()
            for instance in plan.update:
                instance.updated_at = now
            model.objects.bulk_create(plan.create, batch_size=_BATCH)
            _bulk_update(model, plan.update, [*fields, "updated_at"])
    except IntegrityError as exc:
        raise Conflict(
            _("The database refused a row (%(reason)s); nothing was imported.")
            % {"reason": str(exc).splitlines()[0]},
            code="import_conflict",
        ) from None
    plan.report.applied = True
    return plan.report


def _bulk_update(model, instances: list, names: list[str]) -> None:
    """``UPDATE … FROM (VALUES …)``, a batch per query: Django's ``bulk_update`` writes one
    ``CASE`` per column with a branch per row, which PostgreSQL evaluates row by row (10 s
    for 1,000 stores; this takes a fraction of a second)."""
    if not instances:
        return
    fields = [model._meta.get_field(name) for name in names]
    table = connection.ops.quote_name(model._meta.db_table)
    pk = model._meta.pk
    columns = [pk, *fields]
    casts = ", ".join(f"%s::{field.db_type(connection)}" for field in columns)
    aliases = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    assignments = ", ".join(
        f"{connection.ops.quote_name(f.column)} = v.{connection.ops.quote_name(f.column)}"
        for f in fields
    )
    pk_column = connection.ops.quote_name(pk.column)
    with connection.cursor() as cursor:
        for start in range(0, len(instances), _BATCH):
            batch = instances[start : start + _BATCH]
            params = [
                field.get_db_prep_save(getattr(instance, field.attname), connection)
                for instance in batch
                for field in columns
            ]
            values = ", ".join(f"({casts})" for _instance in batch)
            # Identifiers come from the model's metadata; every value is a parameter.
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} FROM (VALUES {values}) "
                f"AS v({aliases}) WHERE t.{pk_column} = v.{pk_column}",
                params,
            )
