"""The only writer of TicketEvent: every change to a ticket leaves one, in its transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from servicedesk.actors import Actor
from tickets.models import Ticket, TicketEvent


def event_record(
    *,
    ticket: Ticket,
    kind: str,
    actor: Actor | None,
    data: dict[str, Any] | None = None,
    is_internal: bool = False,
    at: datetime | None = None,
) -> TicketEvent:
    """Append one timeline entry. ``actor`` is ``None`` for the system (sweep, escalation)."""
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role if actor else "system",
        is_internal=is_internal,
        data=data or {},
        created_at=at or timezone.now(),
    )


def events_record_many(events: list[TicketEvent]) -> list[TicketEvent]:
    """Append several prepared timeline entries in one statement (the sweep, clock changes)."""
    return TicketEvent.objects.bulk_create(events)
