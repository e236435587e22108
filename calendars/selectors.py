"""Reads of business calendars.

Calendars are reference data, like regions: working hours, a zone and dated holidays,
with no tenant in them (a calendar belongs to no client or partner; policies, stores and
partner contracts point to it). Every actor may therefore read every calendar: clients
and integrators need them for the deadline calculator, partners for their own hours.
Only provider administrators change them (``calendars.services.calendar_admin_check``).
This floor cannot see who uses a calendar (clients and partners sit above it), which is
one more reason not to pretend calendars are scoped.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from calendars.models import BusinessCalendar, CalendarException, WorkingInterval
from servicedesk.actors import Actor
from servicedesk.exceptions import NotFound


def calendar_list(*, actor: Actor | None, at: datetime | None = None) -> QuerySet[BusinessCalendar]:
    """Calendars any actor may read, each with the weekly intervals in force at ``at`` or
    later (``current_intervals``: the week now and any edit scheduled from a later instant)
    and its dated exceptions. Nobody without an actor sees any."""
    if actor is None:
        return BusinessCalendar.objects.none()
    at = at or timezone.now()
    current = WorkingInterval.objects.filter(
        Q(effective_until__isnull=True) | Q(effective_until__gt=at)
    ).order_by("weekday", "opens", "effective_from")
    return BusinessCalendar.objects.prefetch_related(
        Prefetch("intervals", queryset=current, to_attr="current_intervals"),
        Prefetch("exceptions", queryset=CalendarException.objects.order_by("day", "opens")),
    )


def calendar_get(*, actor: Actor | None, calendar_id: int) -> BusinessCalendar:
    """One calendar; NotFound when missing (or when there is no actor)."""
    try:
        return calendar_list(actor=actor).get(pk=calendar_id)
    except (BusinessCalendar.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Calendar not found.")) from None
