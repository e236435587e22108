"""Reads of the audit trail: provider administrators only."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from audit.models import AuditEntry
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import NotFound, PermissionDenied, ValidationFailed
from servicedesk.models import User


def audit_require_viewer(actor: Actor | None) -> None:
    """Provider administrators may read the trail. Other provider staff are told no (403);
    anybody else is told there is nothing here (404), like any out-of-scope object."""
    if actor is None or not actor.is_provider:
        raise NotFound(_("Not found."))
    if not actor.has_role(Role.PROVIDER_ADMIN):
        raise PermissionDenied(_("Only provider administrators may read the audit trail."))


def audit_entry_list(
    *,
    actor: Actor | None,
    table: str | None = None,
    row_pk: str | None = None,
    user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """Entries newest first (by time, then id), each with its user's ``username`` in one
    query; ``until`` is exclusive."""
    audit_require_viewer(actor)
    entries = AuditEntry.objects.annotate(
        username=Subquery(User.objects.filter(pk=OuterRef("user_id")).values("username")[:1])
    )
    if table:
        entries = entries.filter(table_name=table)
    if row_pk:
        entries = entries.filter(row_pk=row_pk)
    if user_id:
        entries = entries.filter(user_id=user_id)
    if since:
        entries = entries.filter(at__gte=since)
    if until:
        entries = entries.filter(at__lt=until)
    return entries.order_by("-at", "-id")


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditEntry]
    next_cursor: str | None


def audit_page(entries: QuerySet[AuditEntry], *, cursor: str | None, size: int) -> AuditPage:
    """One page of ``entries`` (ordered newest first) after ``cursor``: a keyset on
    ``(at, id)``, so a page is one index range however deep, and new entries never shift
    the pages after the first."""
    if cursor:
        at, pk = _decode(cursor)
        entries = entries.filter(Q(at__lt=at) | Q(at=at, id__lt=pk), at__lte=at)
    rows = list(entries[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return AuditPage(rows, _encode(rows[-1]) if more else None)


def _encode(entry: AuditEntry) -> str:
    raw = f"{entry.at.isoformat()}|{entry.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        at, pk = base64.urlsafe_b64decode(cursor.encode("ascii")).decode().split("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError(at)
        return moment, int(pk)
    except (ValueError, UnicodeError, binascii.Error):
        raise ValidationFailed(
            _("Invalid cursor."), fields={"cursor": [_("Invalid cursor.")]}
        ) from None
