"""The audit page and its CSV export, for provider administrators."""

from __future__ import annotations

import csv
import json
import zoneinfo
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from audit.constants import WATCHED_TABLES
from audit.forms import AuditFilterForm
from audit.models import AuditEntry
from audit.selectors import audit_entry_list, audit_page, audit_require_viewer
from servicedesk.actors import Actor
from servicedesk.exceptions import ValidationFailed
from servicedesk.timezones import is_valid_time_zone, utc_offset_label
from servicedesk.views import actor_required

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def viewer_zone(request: HttpRequest) -> str:
    zone = getattr(request.user, "time_zone", "") or "UTC"
    return zone if is_valid_time_zone(zone) else "UTC"


def _filtered(request: HttpRequest, actor: Actor, zone: str) -> tuple[AuditFilterForm, Any]:
    audit_require_viewer(actor)
    form = AuditFilterForm(request.GET or None, zone=zone)
    if form.is_bound and not form.is_valid():
        return form, None
    filters = form.selector_filters() if form.is_bound else {}
    return form, audit_entry_list(actor=actor, **filters)


@actor_required
@require_safe
def audit_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Newest changes first, ``AUDIT_PAGE_SIZE`` a page, "older" by keyset cursor; times in
    the viewer's own zone, named."""
    zone = viewer_zone(request)
    form, entries = _filtered(request, actor, zone)
    page = None
    if entries is not None:
        try:
            page = audit_page(entries, cursor=request.GET.get("cursor"), size=_page_size())
        except ValidationFailed as exc:
            form.add_error(None, exc.message)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "form": form,
        "page": page,
        "rows": [_present(entry) for entry in page.rows] if page else [],
        "zone": zone,
        "zone_offset": utc_offset_label(timezone.now(), zone),
        "tables": WATCHED_TABLES,
        "query": query.urlencode(),
    }
    return render(request, "audit/auditentry_list.html", context, status=200 if page else 400)


@actor_required
@require_safe
def audit_export(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The filtered entries as CSV (at most ``AUDIT_EXPORT_MAX_ROWS``), streamed; every
    text cell a spreadsheet could run as a formula is defused with a leading apostrophe."""
    zone = viewer_zone(request)
    form, entries = _filtered(request, actor, zone)
    if entries is None:
        return HttpResponse(
            "\n".join(m for errors in form.errors.values() for m in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    rows = entries[: settings.AUDIT_EXPORT_MAX_ROWS].iterator(chunk_size=2000)
    response = StreamingHttpResponse(_csv_lines(rows, zone), content_type="text/csv")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet evaluates."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines(entries: Iterator[AuditEntry], zone: str) -> Iterator[str]:
    writer = csv.writer(_Echo())
    tz = zoneinfo.ZoneInfo(zone)
    yield "\ufeff"  # lets spreadsheet programs read the file as UTF-8 (Cyrillic names)
    yield writer.writerow(
        [
            _("Id"),
            _("Time (%(zone)s)") % {"zone": zone},
            _("Table"),
            _("Row id"),
            _("Action"),
            _("Changed columns"),
            _("Old values"),
            _("New values"),
            _("User id"),
            _("User"),
            _("Organisation id"),
            _("Role"),
            _("Request id"),
            _("Transaction id"),
        ]
    )
    for entry in entries:
        yield writer.writerow(
            [
                safe_cell(value)
                for value in (
                    entry.pk,
                    entry.at.astimezone(tz).isoformat(timespec="seconds"),
                    entry.table_name,
                    entry.row_pk,
                    entry.action,
                    " ".join(entry.changed_columns),
                    entry.old_values,
                    entry.new_values,
                    entry.user_id,
                    entry.username,
                    entry.organisation_id,
                    entry.role,
                    entry.request_id,
                    entry.txid,
                )
            ]
        )


def _present(entry: AuditEntry) -> dict[str, Any]:
    old, new = entry.old_values or {}, entry.new_values or {}
    changes = [
        {"column": column, "old": _shown(old.get(column)), "new": _shown(new.get(column))}
        for column in entry.changed_columns
    ]
    if entry.action == "DELETE":  # what was removed is the "old" side
        changes = [{**c, "new": c["old"]} for c in changes]
    return {"entry": entry, "changes": changes}


def _shown(value: Any) -> str:
    if value is None:
        return "∅"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _page_size() -> int:
    return int(getattr(settings, "AUDIT_PAGE_SIZE", 50))
