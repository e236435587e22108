"""Reads for the partner portal: offers to answer, jobs, history; always scoped to the actor.

The rules (on top of ``tickets.querysets``, which already limit a partner to the jobs it
holds or is being offered, and hide internal entries):

- **Offers awaiting an answer**: the partner's live offers, for its managers only.
- **Jobs**: open tickets the partner holds past acceptance; an engineer sees only its own.
- **History**: every ticket on which the partner *took* the job at some point (an accepted
  offer or a visit of its own) or which it holds now. Such a ticket is shown only through a
  projection (``PartnerJobRecord``): the partner's own visits and outcome, the store and the
  subject; never who holds the job now, another partner's offers, visits or engineers, nor
  any internal entry. An engineer's history is limited to its own visits.
- **Timeline** of a history ticket: public entries only; entries naming another partner are
  never shown; on a ticket the partner no longer holds, only the entries about itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import NotFound
from tickets.choices import OfferStatus, TicketStatus
from tickets.constants import OPEN_STATUSES
from tickets.models import Offer, Ticket, TicketEvent, Visit

S = TicketStatus
# Jobs past acceptance that are still the partner's to work on.
WORKING_STATUSES = frozenset({S.ACCEPTED, S.EN_ROUTE, S.ON_SITE, S.WAITING_CLIENT})


def partner_offers_awaiting(*, actor: Actor | None) -> QuerySet[Offer]:
    """The partner's live offers, soonest deadline first (managers only: they answer)."""
    if actor is None or actor.role != Role.PARTNER_MANAGER:
        return Offer.objects.none()
    return (
        Offer.objects.visible_to(actor)
        .filter(status=OfferStatus.OFFERED, partner_id=actor.organisation_id)
        .select_related("ticket", "ticket__store", "ticket__client")
        .order_by("deadline", "pk")
    )


def partner_jobs(*, actor: Actor | None, engineer_id: int | None = None) -> QuerySet[Ticket]:
    """Open jobs the partner holds past acceptance; ``engineer_id`` narrows a manager's list
    to one engineer's (an engineer always sees only its own)."""
    if actor is None or not actor.is_partner:
        return Ticket.objects.none()
    qs = (
        Ticket.objects.visible_to(actor)
        .filter(partner_id=actor.organisation_id, status__in=WORKING_STATUSES)
        .with_list_related()
    )
    if engineer_id is not None:
        qs = qs.filter(engineer_id=engineer_id)
    return qs.order_by("created_at", "pk")


@dataclass(frozen=True)
class PartnerVisitRecord:
    visit_id: int
    engineer: str
    eta: datetime | None
    en_route_at: datetime | None
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    cancelled_at: datetime | None
    reported: bool
    signed_off: bool


@dataclass(frozen=True)
class PartnerJobRecord:
    """A ticket as its (former) partner may see it, and nothing more."""

    ticket_id: int
    reference: str
    subject: str
    priority: str
    store_code: str
    store_name: str
    store_city: str
    created_at: datetime
    held_now: bool
    status: str | None  # the ticket's status while the partner holds it, else None
    outcome: str  # in_progress | completed | withdrawn | handed_back
    visits: list[PartnerVisitRecord] = field(default_factory=list)


def _history_scope(actor: Actor) -> Q:
    partner = actor.organisation_id
    took = Exists(Visit.objects.filter(ticket=OuterRef("pk"), partner_id=partner))
    accepted = Exists(
        Offer.objects.filter(
            ticket=OuterRef("pk"), partner_id=partner, responded_at__isnull=False
        ).exclude(status=OfferStatus.DECLINED)
    )
    if actor.role == Role.PARTNER_ENGINEER:
        own = Exists(
            Visit.objects.filter(
                ticket=OuterRef("pk"), partner_id=partner, engineer_id=actor.user_id
            )
        )
        return own | Q(partner_id=partner, engineer_id=actor.user_id)
    return took | accepted | Q(partner_id=partner)


def _history_tickets(actor: Actor) -> QuerySet[Ticket]:
    if actor is None or not actor.is_partner:
        return Ticket.objects.none()
    return Ticket.objects.filter(_history_scope(actor))


def _outcome(held: bool, ticket: Ticket, visits: list[Visit]) -> str:
    if held and ticket.status in OPEN_STATUSES:
        return "in_progress"
    last = visits[-1] if visits else None
    if last is not None and last.checked_out_at is not None:
        return "completed"
    if held:
        return "completed" if ticket.status in (S.RESOLVED, S.CLOSED) else "handed_back"
    if last is not None and last.cancelled_at is not None:
        return "withdrawn"
    return "handed_back"


def partner_job_history(*, actor: Actor | None, limit: int = 200) -> list[PartnerJobRecord]:
    """The partner's jobs, newest first, as ``PartnerJobRecord`` projections (see the
    module docstring for what is and is not shown). Two queries."""
    if actor is None or not actor.is_partner:
        return []
    tickets = list(
        _history_tickets(actor)
        .select_related("client", "store")
        .order_by("-created_at", "-pk")[:limit]
    )
    visits_qs = Visit.objects.filter(
        ticket_id__in=[t.pk for t in tickets], partner_id=actor.organisation_id
    ).select_related("engineer")
    if actor.role == Role.PARTNER_ENGINEER:
        visits_qs = visits_qs.filter(engineer_id=actor.user_id)
    by_ticket: dict[int, list[Visit]] = {}
    for visit in visits_qs.order_by("created_at", "pk"):
        by_ticket.setdefault(visit.ticket_id, []).append(visit)
    return [_record(actor, ticket, by_ticket.get(ticket.pk, [])) for ticket in tickets]


def _record(actor: Actor, ticket: Ticket, visits: list[Visit]) -> PartnerJobRecord:
    held = ticket.partner_id == actor.organisation_id
    return PartnerJobRecord(
        ticket_id=ticket.pk,
        reference=ticket.reference,
        subject=ticket.subject,
        priority=ticket.priority,
        store_code=ticket.store.code,
        store_name=ticket.store.name,
        store_city=ticket.store.city,
        created_at=ticket.created_at,
        held_now=held,
        status=ticket.status if held else None,
        outcome=_outcome(held, ticket, visits),
        visits=[
            PartnerVisitRecord(
                visit_id=v.pk,
                engineer=str(v.engineer) if v.engineer_id else "",
                eta=v.eta,
                en_route_at=v.en_route_at,
                checked_in_at=v.checked_in_at,
                checked_out_at=v.checked_out_at,
                cancelled_at=v.cancelled_at,
                reported=v.reported_at is not None,
                signed_off=v.signed_off_at is not None,
            )
            for v in visits
        ],
    )


def partner_job_timeline(*, actor: Actor | None, ticket_id: int) -> QuerySet[TicketEvent]:
    """The timeline of one of the partner's (history) tickets: public entries only, none
    naming another partner; on a ticket it no longer holds, only the entries about itself.
    NotFound for a ticket outside the partner's history."""
    ticket = _history_tickets(actor).filter(pk=ticket_id).first() if actor else None
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    partner = actor.organisation_id
    about_me = Q(data__partner_id=partner)
    qs = TicketEvent.objects.filter(ticket=ticket, is_internal=False)
    if ticket.partner_id == partner:
        qs = qs.filter(~Q(data__has_key="partner_id") | Q(data__partner_id=None) | about_me)
    else:
        qs = qs.filter(about_me)
    return qs.select_related("actor").order_by("created_at", "pk")


# --- the API's offer and visit resources (``tickets.api.views``) ----------------------------


def offer_queue(*, actor: Actor | None) -> QuerySet[Offer]:
    """``/offers/``: a partner manager's offers awaiting its answer; provider staff every
    offer (to filter by status); nobody else any (clients read a ticket's offers on it)."""
    if actor is None:
        return Offer.objects.none()
    if actor.role == Role.PARTNER_MANAGER:
        qs = partner_offers_awaiting(actor=actor)
    elif actor.is_provider:
        qs = Offer.objects.visible_to(actor)
    else:
        return Offer.objects.none()
    return qs.select_related("partner", "ticket__store", "ticket__client").order_by(
        "-offered_at", "-pk"
    )


def offer_scope(*, actor: Actor | None) -> QuerySet[Offer]:
    """Every offer ``actor`` may see (``/offers/{id}/`` and its actions: 404 outside)."""
    return Offer.objects.visible_to(actor).select_related(
        "partner", "ticket__store", "ticket__client"
    )


def visit_scope(*, actor: Actor | None) -> QuerySet[Visit]:
    """Every visit ``actor`` may see: a partner only its own, a client its tickets'."""
    return Visit.objects.visible_to(actor).select_related("partner", "engineer", "signed_off_by")
