"""Row locks, taken in one place so lock order stays the same everywhere."""

from __future__ import annotations

from django.utils.translation import gettext as _

from servicedesk.actors import Actor
from servicedesk.exceptions import Conflict, NotFound
from tickets.models import Ticket


def ticket_lock(*, actor: Actor, ticket_id: int, expected_version: int | None = None) -> Ticket:
    """The ticket, locked FOR NO KEY UPDATE, if ``actor`` may see it; else NotFound.

    Not FOR UPDATE: that lock also blocks the FOR KEY SHARE lock every insert of a row that
    references the ticket takes at commit (its foreign key check). The SLA sweep inserts
    timeline rows for many tickets under its clock locks while an escalation holds a ticket
    and waits for a clock: with FOR UPDATE the two deadlocked. No service changes a ticket's
    key, so the weaker lock still serialises every writer of the ticket.

    With ``expected_version``, a ticket changed since the caller read it raises Conflict, so
    a stale form or API client never overwrites somebody else's change.
    """
    visible = Ticket.objects.visible_to(actor).filter(pk=ticket_id).values("pk")
    ticket = (
        Ticket.objects.select_for_update(of=("self",), no_key=True)
        .select_related("client", "store")
        .filter(pk__in=visible)
        .first()
    )
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    if expected_version is not None and ticket.version != expected_version:
        raise Conflict(
            _("Ticket %(ref)s was changed by someone else (version %(cur)s, you had %(had)s).")
            % {"ref": ticket.reference, "cur": ticket.version, "had": expected_version},
            code="stale_version",
        )
    return ticket
