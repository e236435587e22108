"""Reads of the field screens: the dispatcher's board, the engineer's jobs and visits.

Every read is scoped by the actor (``visible_to``) and flat in the number of jobs: a board
is one query for the jobs (the live offer, the open visit and the clock states come in as
subqueries of the same SELECT), one for the alerts and a few for the filter choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import pgettext_lazy

from clients.models import Client, Region
from partners.models import Partner
from servicedesk.actors import Actor
from servicedesk.models import Notification
from sla.models import ACTIVE_STATES, SlaClock
from tickets.choices import OfferStatus, TicketStatus
from tickets.constants import OPEN_STATUSES
from tickets.models import Offer, Ticket, Visit
from tickets.partner_selectors import partner_jobs

S = TicketStatus
BOARD_LIMIT = 500
ALERT_LIMIT = 8

# The board's lanes, in the order they are shown. A job sits in exactly one lane: the
# first that applies of "needs attention", "breached", "at risk", then its stage.
LANES: list[tuple[str, object]] = [
    ("attention", pgettext_lazy("board lane", "Needs attention")),
    ("breached", pgettext_lazy("board lane", "Breached")),
    ("at_risk", pgettext_lazy("board lane", "At risk")),
    ("unassigned", pgettext_lazy("board lane", "Unassigned")),
    ("offered", pgettext_lazy("board lane", "Offered")),
    ("accepted", pgettext_lazy("board lane", "Accepted")),
    ("en_route", pgettext_lazy("board lane", "En route")),
    ("on_site", pgettext_lazy("board lane", "On site")),
]
# The first lanes are the exceptions a dispatcher acts on; the rest, the job's stage.
EXCEPTION_LANES = frozenset({"attention", "breached", "at_risk"})


@dataclass
class Lane:
    key: str
    label: str
    jobs: list[Ticket]

    @property
    def is_exception(self) -> bool:
        return self.key in EXCEPTION_LANES


def _stage(ticket: Ticket) -> str:
    if ticket.status == S.ON_SITE:
        return "on_site"
    if ticket.status == S.EN_ROUTE:
        return "en_route"
    if ticket.status == S.ACCEPTED:
        return "accepted"
    if ticket.offer_id is not None:
        return "offered"
    if ticket.status == S.WAITING_CLIENT:
        # Paused: shown where the visit stands.
        if ticket.visit_checked_in_at:
            return "on_site"
        if ticket.visit_en_route_at:
            return "en_route"
        return "accepted" if ticket.partner_id else "unassigned"
    return "unassigned"


def board_lane(ticket: Ticket) -> str:
    """The lane of one annotated board job (see ``LANES``)."""
    if ticket.needs_attention:
        return "attention"
    if ticket.live_breached:
        return "breached"
    if ticket.live_warned:
        return "at_risk"
    return _stage(ticket)


def _board_queryset(actor: Actor) -> QuerySet[Ticket]:
    live_offer = Offer.objects.filter(ticket=OuterRef("pk"), status=OfferStatus.OFFERED).order_by(
        "-offered_at"
    )
    open_visit = Visit.objects.filter(
        ticket=OuterRef("pk"), cancelled_at__isnull=True, checked_out_at__isnull=True
    ).order_by("-created_at", "-pk")
    live_clocks = SlaClock.objects.filter(ticket=OuterRef("pk"), state__in=ACTIVE_STATES)
    return (
        Ticket.objects.visible_to(actor)
        .filter(needs_visit=True, status__in=OPEN_STATUSES)
        .with_list_related()
        .annotate(
            offer_id=Subquery(live_offer.values("pk")[:1]),
            offer_deadline=Subquery(live_offer.values("deadline")[:1]),
            offer_partner=Subquery(live_offer.values("partner__name")[:1]),
            visit_id=Subquery(open_visit.values("pk")[:1]),
            visit_eta=Subquery(open_visit.values("eta")[:1]),
            visit_en_route_at=Subquery(open_visit.values("en_route_at")[:1]),
            visit_checked_in_at=Subquery(open_visit.values("checked_in_at")[:1]),
            visit_flagged=Subquery(open_visit.values("check_in_flagged")[:1]),
            visit_distance=Subquery(open_visit.values("check_in_distance_m")[:1]),
            live_breached=Exists(live_clocks.filter(breached_at__isnull=False)),
            live_warned=Exists(live_clocks.filter(warned_at__isnull=False)),
            next_due=Subquery(
                live_clocks.filter(due_at__isnull=False).order_by("due_at").values("due_at")[:1]
            ),
        )
    )


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def board_filters(params) -> dict[str, object]:
    """The board's filters from the URL, cleaned: client id, region code, partner id."""
    region = (params.get("region") or "").strip().upper()[:8]
    return {
        "client": _int(params.get("client")),
        "region": region,
        "partner": _int(params.get("partner")),
    }


def board_lanes(*, actor: Actor, filters: dict[str, object], now: datetime) -> list[Lane]:
    """Open field jobs ``actor`` may see, filtered, in ``LANES`` order (one query)."""
    qs = _board_queryset(actor)
    if filters.get("client"):
        qs = qs.filter(client_id=filters["client"])
    if filters.get("region"):
        qs = qs.filter(store__region__code=filters["region"])
    if filters.get("partner"):
        partner = filters["partner"]
        qs = qs.filter(
            Q(partner_id=partner)
            | Exists(
                Offer.objects.filter(
                    ticket=OuterRef("pk"), partner_id=partner, status=OfferStatus.OFFERED
                )
            )
        )
    lanes = {key: Lane(key, str(label), []) for key, label in LANES}
    for ticket in qs.order_by("created_at", "pk")[:BOARD_LIMIT]:
        ticket.lane = board_lane(ticket)
        ticket.stage = _stage(ticket)
        ticket.offer_seconds = (
            max(int((ticket.offer_deadline - now).total_seconds()), 0)
            if ticket.offer_deadline
            else None
        )
        lanes[ticket.lane].jobs.append(ticket)
    return list(lanes.values())


def board_choices(*, actor: Actor) -> dict[str, list]:
    """What the filter bar offers (three small queries, not per job)."""
    if not actor.is_provider:
        return {"clients": [], "regions": [], "partners": []}
    field_jobs = Ticket.objects.filter(needs_visit=True, status__in=OPEN_STATUSES)
    return {
        "clients": list(Client.objects.order_by("name").values_list("pk", "name")),
        "regions": list(
            Region.objects.filter(
                Exists(field_jobs.filter(store__region_id=OuterRef("pk")))
            ).values_list("code", "name_ru" if _ru() else "name_en")
        ),
        "partners": list(
            Partner.objects.filter(kind="operational").order_by("name").values_list("pk", "name")
        ),
    }


def _ru() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("ru")


def user_alerts(*, user, limit: int = ALERT_LIMIT) -> list[Notification]:
    """The user's unread in-app notifications, newest first."""
    return list(
        Notification.objects.filter(recipient=user, read_at__isnull=True).order_by(
            "-created_at", "-pk"
        )[:limit]
    )


def user_alerts_unread(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# --- the engineer's screens ------------------------------------------------------------------


def engineer_jobs(*, actor: Actor, now: datetime) -> tuple[list[Ticket], list[Ticket]]:
    """The engineer's open jobs as (today, later): today means on site or en route, or an
    ETA on or before the end of today in the store's zone; each with its open visit."""
    visits = Visit.objects.filter(
        ticket=OuterRef("pk"),
        engineer_id=actor.user_id,
        cancelled_at__isnull=True,
        checked_out_at__isnull=True,
    ).order_by("-created_at", "-pk")
    jobs = partner_jobs(actor=actor).annotate(
        visit_id=Subquery(visits.values("pk")[:1]),
        visit_eta=Subquery(visits.values("eta")[:1]),
    )
    today: list[Ticket] = []
    later: list[Ticket] = []
    for job in jobs:
        local_now = now.astimezone(ZoneInfo(job.store.time_zone))
        end_of_day = (local_now + timedelta(days=1)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        soon = job.status in (S.EN_ROUTE, S.ON_SITE) or job.visit_eta is None
        (today if soon or job.visit_eta < end_of_day else later).append(job)
    key = lambda t: (t.visit_eta is None, t.visit_eta or now, t.pk)  # noqa: E731
    return sorted(today, key=key), sorted(later, key=key)


def engineer_visit(*, actor: Actor, ticket_id: int) -> tuple[Ticket, Visit | None]:
    """One of the engineer's (or its manager's) jobs and its latest visit; NotFound else."""
    from tickets import selectors

    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    visits = Visit.objects.visible_to(actor).filter(ticket=ticket)
    if actor.role == "partner_engineer":
        visits = visits.filter(engineer_id=actor.user_id)
    visit = visits.prefetch_related("photos").order_by("-created_at", "-pk").first()
    return ticket, visit
