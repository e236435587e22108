"""Reads of tickets and their timelines, always scoped by the actor."""

from __future__ import annotations

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from servicedesk.actors import Actor
from servicedesk.exceptions import NotFound
from sla.choices import Agreement
from sla.models import SlaClock
from tickets.filtersets import TicketFilterSet
from tickets.models import Attachment, Comment, Offer, Ticket, TicketEvent, Visit


def ticket_list(*, actor: Actor | None, filters: dict | None = None) -> QuerySet[Ticket]:
    """Tickets ``actor`` may see, with what a list row shows joined in, filtered."""
    qs = Ticket.objects.visible_to(actor).with_list_related()
    if filters:
        qs = TicketFilterSet(filters, queryset=qs).qs
    return qs


def ticket_get(*, actor: Actor | None, ticket_id: int) -> Ticket:
    """One ticket ``actor`` may see; NotFound for missing and foreign ones alike."""
    try:
        return ticket_list(actor=actor).get(pk=ticket_id)
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Ticket not found.")) from None


def ticket_events(*, actor: Actor | None, ticket: Ticket) -> QuerySet[TicketEvent]:
    """The ticket's timeline as ``actor`` may see it (internal entries for staff only)."""
    return (
        TicketEvent.objects.visible_to(actor)
        .filter(ticket=ticket)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def ticket_comments(*, actor: Actor | None, ticket: Ticket) -> QuerySet[Comment]:
    attachments = Attachment.objects.visible_to(actor)
    return (
        Comment.objects.visible_to(actor)
        .filter(ticket=ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=attachments))
        .order_by("created_at", "id")
    )


def ticket_attachments(*, actor: Actor | None, ticket: Ticket) -> QuerySet[Attachment]:
    return Attachment.objects.visible_to(actor).filter(ticket=ticket).select_related("uploaded_by")


def attachment_get(*, actor: Actor | None, attachment_id: int) -> Attachment:
    try:
        return Attachment.objects.visible_to(actor).select_related("ticket").get(pk=attachment_id)
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("File not found.")) from None


def ticket_offers(*, actor: Actor | None, ticket: Ticket) -> QuerySet[Offer]:
    return Offer.objects.visible_to(actor).filter(ticket=ticket).select_related("partner")


def ticket_visits(*, actor: Actor | None, ticket: Ticket) -> QuerySet[Visit]:
    return (
        Visit.objects.visible_to(actor).filter(ticket=ticket).select_related("partner", "engineer")
    )


def _clocks_visible(actor: Actor | None, clocks: QuerySet[SlaClock]) -> QuerySet[SlaClock]:
    """The client SLA for everyone who sees the ticket (partners work to it too); a partner's
    OLA clocks only for the provider and that partner."""
    clocks = clocks.select_related("partner", "calendar", "access_calendar")
    if actor is None or actor.is_client:
        return clocks.filter(agreement=Agreement.SLA)
    if actor.is_partner:
        return clocks.filter(
            Q(agreement=Agreement.SLA)
            | Q(agreement=Agreement.OLA, partner_id=actor.organisation_id)
        )
    return clocks


def ticket_clocks(*, actor: Actor | None, ticket: Ticket) -> list[SlaClock]:
    """The ticket's clocks the actor may see (``_clocks_visible``)."""
    clocks = _clocks_visible(actor, SlaClock.objects.filter(ticket=ticket))
    return list(clocks.order_by("agreement", "partner_id", "cycle", "metric", "pk"))


def tickets_clocks(*, actor: Actor | None, ticket_ids: list[int]) -> dict[int, list[SlaClock]]:
    """``ticket_clocks`` for a page of tickets in one query, by ticket id. The tickets must
    already be the actor's (a list page)."""
    clocks = _clocks_visible(actor, SlaClock.objects.filter(ticket_id__in=ticket_ids))
    by_ticket: dict[int, list[SlaClock]] = {pk: [] for pk in ticket_ids}
    for clock in clocks.order_by("ticket_id", "agreement", "partner_id", "cycle", "metric", "pk"):
        by_ticket[clock.ticket_id].append(clock)
    return by_ticket


# -- the event feed ----------------------------------------------------------------------
#
# Event ids are not commit-ordered: a transaction that took id 10 may commit after id 11
# was read, so a reader paging on ``id > cursor`` would skip 10 for good. The feed walks
# ``(txid, id)`` instead (``txid`` is the inserting transaction's id) and stops at the
# horizon: the oldest transaction still running on the server. Every transaction below it
# has finished, so no event can ever appear below a position a reader has passed.

FeedPosition = tuple[int, int]  # (txid, id) of the last event read


def event_feed_horizon() -> int:
    """The oldest transaction id still running on the server: events of lower ``txid`` are
    all committed or rolled back. The horizon is server-wide (transaction ids are), so a
    long transaction anywhere delays the feed, never makes it skip."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return int(cursor.fetchone()[0])


def _feed_window(
    qs: QuerySet[TicketEvent], *, after: FeedPosition | None, horizon: int
) -> QuerySet[TicketEvent]:
    qs = qs.filter(txid__lt=horizon)
    if after is not None:
        txid, pk = after
        # The redundant ``txid >= t`` gives PostgreSQL an index range to start from.
        qs = qs.filter(Q(txid__gte=txid) & (Q(txid__gt=txid) | Q(txid=txid, pk__gt=pk)))
    return qs.order_by("txid", "pk")


def ticket_event_feed(
    *,
    actor: Actor | None,
    after: FeedPosition | None = None,
    horizon: int | None = None,
    kinds: list[str] | None = None,
    ticket_id: int | None = None,
) -> QuerySet[TicketEvent]:
    """Every timeline entry ``actor`` may see (the timeline's rules: internal entries for
    staff only, a partner's only on its jobs and never about another partner), past
    ``after``, in commit-safe ``(txid, id)`` order, below the horizon."""
    qs = TicketEvent.objects.visible_to(actor)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if ticket_id is not None:
        qs = qs.filter(ticket_id=ticket_id)
    if horizon is None:
        horizon = event_feed_horizon()
    return _feed_window(qs, after=after, horizon=horizon)


def event_feed_unscoped(*, after: FeedPosition | None, horizon: int) -> QuerySet[TicketEvent]:
    """The whole feed for the system (webhook fan-out), which then scopes each event per
    subscriber with :func:`ticket_event_feed`. Never hand its rows to a user."""
    return _feed_window(TicketEvent.objects.all(), after=after, horizon=horizon)
