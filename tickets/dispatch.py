"""Field dispatch: rank the operational partners for a job and offer it to them.

**Ranking.** ``partners_rank`` lists every operational partner for a ticket that needs a
visit, eligible or not, with the reasons why. A partner is eligible when it is active, has a
contract in force, covers the store's region, holds a certification for the ticket's
competency valid on the store's local date, is under its capacity of concurrent jobs in that
region, and has not already declined, let expire or been withdrawn from this job.

Eligible partners are ordered by a score between 0 and 1 (highest first, then by name)::

    score = 0.5 × compliance + 0.3 × load + 0.2 × price

    compliance = (met + 7) / (met + breached + 10)
        met / breached: the partner's OLA clocks stopped in the last 90 days as met or
        breached (cancelled ones do not count). The +7/+10 is a prior of 70 % worth ten
        clocks, so a newcomer starts at 0.7 and a few clocks move it only a little.
    load = 1 − open jobs / capacity      (in the store's region; open = assigned, accepted,
                                          en route or on site, or with a live offer)
    price = (dearest fee − fee) / (dearest fee − cheapest fee)   among the eligible partners;
            1 for everyone when all eligible fees are equal.

The weights and the prior are named constants in ``tickets.constants``.

**Offers.** Offering a job assigns it to the partner (``ticket_assign``, status ``assigned``)
so the partner's OLA clocks start; the offer's deadline is the OLA acceptance clock's due
instant, or ``now + accept_within_seconds`` when no OLA clock could start (no calendar to
count in). An offer's deadline is fixed when it is made; like a clock's due instant it is
still in time (an answer *at* the deadline counts), and the sweep in ``tickets.escalation``
expires every live offer whose deadline has passed, with or without a clock. A partner
needs a contract in force to be offered a job: the fee, the accept time and the OLA come
from it.

Re-dispatch (after a decline, an expiry or a withdrawal by the ladder) offers the job to the
next-ranked eligible partner when the client auto-dispatches and its contract's
``EscalationPolicy`` allows that step; otherwise, or when nobody is left, the ticket is
flagged ``needs_attention`` for the dispatchers with the reason.

Offer events (made, declined, expired, withdrawn) are internal: which partners were asked
and why they refused is the provider's business, kept from the client and from the next
partner. The acceptance is public (the client sees who comes, and when). The status changes
these services cause carry generic notes that name no partner.

The platform acting on its own (auto-dispatch, the ladder) is ``SYSTEM``: a provider-side
actor with no user, recorded on the timeline with the role ``system``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients.models import ClientContract
from partners.choices import PartnerKind
from partners.models import Certification, Coverage, Partner, PartnerContract
from servicedesk import notifications
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import (
    ApplicationError,
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from servicedesk.models import Membership
from sla.choices import Agreement, ClockState, Metric
from sla.models import SlaClock
from tickets import services
from tickets.choices import EventKind, OfferStatus, TicketStatus
from tickets.constants import (
    ACTIVE_JOB_STATUSES,
    COMPLIANCE_PRIOR_MET,
    COMPLIANCE_PRIOR_TOTAL,
    COMPLIANCE_WINDOW_DAYS,
    DISPATCHABLE_STATUSES,
    RANK_WEIGHT_COMPLIANCE,
    RANK_WEIGHT_LOAD,
    RANK_WEIGHT_PRICE,
    VISIT_CHECKLISTS,
    WITHDRAWABLE_STATUSES,
)
from tickets.events import event_record
from tickets.lock_objects import ticket_lock
from tickets.models import EscalationPolicy, Offer, Ticket, Visit

S = TicketStatus
ENDED_OFFER_STATUSES = (OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.WITHDRAWN)


@dataclass(frozen=True)
class SystemActor(Actor):
    """The platform itself: acts with the provider's reach, has no user, sees everything."""

    @property
    def is_provider(self) -> bool:
        return True


SYSTEM: Actor = SystemActor(
    user_id=None,  # type: ignore[arg-type]  # the timeline records no user for the system
    membership_id=0,
    organisation_id=0,
    organisation_name="system",
    role="system",
)


def _acting(actor: Actor | None) -> Actor:
    return SYSTEM if actor is None else actor


# =========================================================================================
# Ranking
# =========================================================================================


@dataclass(frozen=True)
class RankedPartner:
    """One operational partner's place for a job, with the reasons it is in or out."""

    partner_id: int
    name: str
    eligible: bool
    reasons: list[str]
    score: float | None = None
    compliance: float | None = None
    load: float | None = None
    price: float | None = None
    met: int = 0
    breached: int = 0
    open_jobs: int = 0
    capacity: int | None = None
    visit_fee: Decimal | None = None
    currency: str = ""
    accept_within_seconds: int | None = None


class _SubqueryCount(Subquery):
    """``(SELECT count(*) FROM (<subquery>))``: a per-row count without GROUP BY tricks."""

    template = "(SELECT count(*) FROM (%(subquery)s) _count)"
    output_field = models.IntegerField()


def _store_day(ticket: Ticket, now: datetime) -> date:
    return now.astimezone(ZoneInfo(ticket.store.time_zone)).date()


def _partner_rows(ticket: Ticket, now: datetime) -> list[Partner]:
    """Every operational partner with what ranking needs, annotated in one query."""
    region_id = ticket.store.region_id
    day = _store_day(ticket, now)
    contract = (
        PartnerContract.objects.filter(partner=OuterRef("pk"), is_active=True, starts_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .order_by("-starts_on", "-pk")
    )
    clocks = SlaClock.objects.filter(
        partner=OuterRef("pk"),
        agreement=Agreement.OLA,
        stopped_at__gt=now - timedelta(days=COMPLIANCE_WINDOW_DAYS),
        stopped_at__lte=now,
    )
    live_offer_to_partner = Offer.objects.filter(
        ticket=OuterRef("pk"), partner=OuterRef(OuterRef("pk")), status=OfferStatus.OFFERED
    )
    jobs = (
        Ticket.objects.filter(store__region_id=region_id)
        .exclude(pk=ticket.pk)
        .filter(
            Q(partner=OuterRef("pk"), status__in=ACTIVE_JOB_STATUSES)
            | Exists(live_offer_to_partner)
        )
    )
    qs = Partner.objects.filter(kind=PartnerKind.OPERATIONAL).annotate(
        capacity=Subquery(
            Coverage.objects.filter(partner=OuterRef("pk"), region_id=region_id).values("capacity")[
                :1
            ]
        ),
        fee=Subquery(contract.values("visit_fee")[:1]),
        currency=Subquery(contract.values("currency")[:1]),
        accept_seconds=Subquery(contract.values("accept_within_seconds")[:1]),
        met=_SubqueryCount(clocks.filter(state=ClockState.MET).values("pk")),
        breached=_SubqueryCount(clocks.filter(state=ClockState.BREACHED).values("pk")),
        open_jobs=_SubqueryCount(jobs.values("pk")),
        last_offer=Subquery(
            Offer.objects.filter(ticket=ticket, partner=OuterRef("pk"))
            .order_by("-offered_at", "-pk")
            .values("status")[:1]
        ),
    )
    if ticket.competency_id is not None:
        certs = Certification.objects.filter(
            partner=OuterRef("pk"), competency_id=ticket.competency_id
        )
        qs = qs.annotate(
            cert_until=Subquery(
                certs.filter(issued_on__lte=day, expires_on__gt=day)
                .order_by("-expires_on")
                .values("expires_on")[:1]
            ),
            cert_expired_on=Subquery(
                certs.filter(expires_on__lte=day).order_by("-expires_on").values("expires_on")[:1]
            ),
        )
    return list(qs.order_by("name", "pk"))


_PREVIOUS_OFFER_REASONS = {
    OfferStatus.DECLINED: gettext_lazy("already declined this job"),
    OfferStatus.EXPIRED: gettext_lazy("let the offer of this job expire"),
    OfferStatus.WITHDRAWN: gettext_lazy("was withdrawn from this job"),
    OfferStatus.OFFERED: gettext_lazy("is being offered this job now"),
    OfferStatus.ACCEPTED: gettext_lazy("holds this job"),
}


def _out_reasons(row: Partner, ticket: Ticket) -> list[str]:
    """Why ``row`` cannot take the job (empty: it can)."""
    region = ticket.store.region
    out: list[str] = []
    if not row.is_active:
        out.append(_("inactive"))
    if row.fee is None:
        out.append(_("no contract in force"))
    if row.capacity is None:
        out.append(_("does not cover %(region)s") % {"region": region})
    if ticket.competency_id is not None and row.cert_until is None:
        if row.cert_expired_on is not None:
            out.append(
                _("no valid certification for %(competency)s (expired on %(day)s)")
                % {"competency": ticket.competency, "day": row.cert_expired_on.isoformat()}
            )
        else:
            out.append(_("no certification for %(competency)s") % {"competency": ticket.competency})
    if row.capacity is not None and row.open_jobs >= row.capacity:
        out.append(
            _("at capacity (%(open)s of %(capacity)s jobs in %(region)s)")
            % {"open": row.open_jobs, "capacity": row.capacity, "region": region.code}
        )
    holds = ticket.partner_id == row.pk
    last = row.last_offer
    if last == OfferStatus.ACCEPTED and not holds:
        last = None  # it had the job and a dispatcher took it back by hand: it may again
    if last in _PREVIOUS_OFFER_REASONS:
        out.append(str(_PREVIOUS_OFFER_REASONS[last]))
    elif holds:
        out.append(str(_PREVIOUS_OFFER_REASONS[OfferStatus.ACCEPTED]))
    return out


def _in_reasons(row: Partner, ticket: Ticket, compliance: float) -> list[str]:
    region = ticket.store.region
    reasons = [_("covers %(region)s") % {"region": region}]
    if ticket.competency_id is None:
        reasons.append(_("no certification required (the ticket names no competency)"))
    else:
        reasons.append(
            _("certified for %(competency)s until %(day)s")
            % {"competency": ticket.competency, "day": row.cert_until.isoformat()}
        )
    reasons += [
        _("%(open)s of %(capacity)s jobs in %(region)s")
        % {"open": row.open_jobs, "capacity": row.capacity, "region": region.code},
        _("OLA compliance %(share)s%% (%(met)s met, %(breached)s breached in %(days)s days)")
        % {
            "share": round(compliance * 100),
            "met": row.met,
            "breached": row.breached,
            "days": COMPLIANCE_WINDOW_DAYS,
        },
        _("visit fee %(fee)s %(currency)s") % {"fee": row.fee, "currency": row.currency},
    ]
    return reasons


def partners_rank(*, ticket: Ticket, now: datetime) -> list[RankedPartner]:
    """Every operational partner for ``ticket``: the eligible ones by score (then name),
    then the others by name, each with its reasons. See the module docstring for the
    formula. A fixed number of queries, however many partners there are."""
    ticket = Ticket.objects.select_related("store__region", "competency").get(pk=ticket.pk)
    rows = _partner_rows(ticket, now)
    if ticket.competency_id is None:
        for row in rows:
            row.cert_until = row.cert_expired_on = None
    outs = {row.pk: _out_reasons(row, ticket) for row in rows}
    eligible = [row for row in rows if not outs[row.pk]]
    fees = [row.fee for row in eligible]
    cheapest, dearest = (min(fees), max(fees)) if fees else (Decimal(0), Decimal(0))
    ranked: list[RankedPartner] = []
    for row in rows:
        if outs[row.pk]:
            ranked.append(_ranked(row, eligible=False, reasons=outs[row.pk]))
            continue
        compliance = (row.met + COMPLIANCE_PRIOR_MET) / (
            row.met + row.breached + COMPLIANCE_PRIOR_TOTAL
        )
        load = 1 - row.open_jobs / row.capacity
        price = 1.0 if dearest == cheapest else float((dearest - row.fee) / (dearest - cheapest))
        score = (
            RANK_WEIGHT_COMPLIANCE * compliance
            + RANK_WEIGHT_LOAD * load
            + RANK_WEIGHT_PRICE * price
        )
        ranked.append(
            _ranked(
                row,
                eligible=True,
                reasons=_in_reasons(row, ticket, compliance),
                score=round(score, 4),
                compliance=round(compliance, 4),
                load=round(load, 4),
                price=round(price, 4),
            )
        )
    ranked.sort(key=lambda r: (not r.eligible, -(r.score or 0), r.name.casefold(), r.partner_id))
    return ranked


def _ranked(row: Partner, *, eligible: bool, reasons: list[str], **scores: Any) -> RankedPartner:
    return RankedPartner(
        partner_id=row.pk,
        name=row.name,
        eligible=eligible,
        reasons=[str(r) for r in reasons],
        met=row.met,
        breached=row.breached,
        open_jobs=row.open_jobs,
        capacity=row.capacity,
        visit_fee=row.fee,
        currency=row.currency or "",
        accept_within_seconds=row.accept_seconds,
        **scores,
    )


def dispatch_ranking(
    *, actor: Actor, ticket_id: int, now: datetime | None = None
) -> list[RankedPartner]:
    """The ranking as a dispatcher sees it (provider staff only; NotFound for others)."""
    if not actor.is_provider:
        raise NotFound(_("Ticket not found."))
    ticket = Ticket.objects.visible_to(actor).filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    return partners_rank(ticket=ticket, now=now or timezone.now())


# =========================================================================================
# Helpers shared by the offer services
# =========================================================================================


def escalation_policy_for(ticket: Ticket, now: datetime) -> EscalationPolicy:
    """The ladder settings of the client contract in force; every step on without one."""
    day = now.date()
    contract = (
        ClientContract.objects.filter(client_id=ticket.client_id, is_active=True)
        .filter(starts_on__lte=day)
        .exclude(ends_on__lt=day)
        .order_by("-starts_on")
        .first()
    )
    if contract is not None:
        policy = EscalationPolicy.objects.filter(contract=contract).first()
        if policy is not None:
            return policy
    return EscalationPolicy()


def format_instant(at: datetime, *, zone: str, now: datetime | None = None) -> str:
    """``14:05 (UTC+3)`` in ``zone``; with the date when it is not today there."""
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    label = "UTC" if minutes == 0 else f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    today = (now or timezone.now()).astimezone(tz).date()
    stamp = local.strftime("%H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")
    return f"{stamp} ({label})"


def _zone_of(actor: Actor, ticket: Ticket) -> str:
    user = actor.user
    return getattr(user, "time_zone", "") or ticket.store.time_zone


def dispatcher_ids() -> list[int]:
    """Users on dispatch duty: active dispatcher memberships of active users."""
    return list(
        Membership.objects.filter(role=Role.DISPATCHER, is_active=True, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )


def partner_manager_ids(partner_id: int) -> list[int]:
    """The partner's active managers: who answers offers and hears about its late jobs."""
    return list(
        Membership.objects.filter(
            organisation_id=partner_id,
            role=Role.PARTNER_MANAGER,
            is_active=True,
            user__is_active=True,
        )
        .values_list("user_id", flat=True)
        .distinct()
    )


def notify(
    *,
    recipients: list[int],
    ticket: Ticket,
    kind: str,
    title: str,
    body: str,
    dedupe_key: str,
    urgent: bool = False,
) -> int:
    """Tell ``recipients`` about ``ticket`` through the notification service (in-app once
    per recipient and ``dedupe_key``, e-mail per preference after commit); new ones."""
    return notifications.notify(
        recipients=recipients,
        kind=kind,
        title=title,
        body=body,
        link=f"/tickets/{ticket.pk}/",
        ticket_id=ticket.pk,
        urgent=urgent,
        dedupe_key=dedupe_key,
    )


def ticket_flag(*, ticket: Ticket, reason: str, step: str, urgent: bool = False) -> bool:
    """Flag ``ticket`` (locked by the caller) for the dispatchers with ``reason``: an internal
    ``escalated`` event and a notification to each dispatcher. False if already so flagged."""
    reason = reason[:500]
    if ticket.needs_attention and ticket.attention_reason == reason:
        return False
    ticket.needs_attention = True
    ticket.attention_reason = reason
    ticket.version += 1
    ticket.save(update_fields=["needs_attention", "attention_reason", "version", "updated_at"])
    event = event_record(
        ticket=ticket,
        kind=EventKind.ESCALATED,
        actor=None,
        data={"step": step, "reason": reason},
        is_internal=True,
    )
    notify(
        recipients=dispatcher_ids(),
        ticket=ticket,
        kind="dispatch_attention",
        title=f"{ticket.reference}: {_('needs a dispatcher')}",
        body=reason,
        dedupe_key=f"ticket-event:{event.pk}",
        urgent=urgent,
    )
    return True


def _acceptance_due(ticket: Ticket, partner_id: int) -> datetime | None:
    """When the partner's running OLA acceptance clock falls due, if it has one."""
    return (
        SlaClock.objects.filter(
            ticket=ticket,
            agreement=Agreement.OLA,
            partner_id=partner_id,
            metric=Metric.ACCEPTANCE,
            state=ClockState.RUNNING,
            due_at__isnull=False,
        )
        .order_by("-pk")
        .values_list("due_at", flat=True)
        .first()
    )


def _live_offer(ticket: Ticket) -> Offer | None:
    return (
        Offer.objects.select_for_update(of=("self",))
        .select_related("partner")
        .filter(ticket=ticket, status=OfferStatus.OFFERED)
        .first()
    )


# =========================================================================================
# Offers
# =========================================================================================


def _check_dispatchable(ticket: Ticket) -> None:
    if not ticket.needs_visit:
        raise InvalidTransition(
            _("Ticket %(ref)s does not need a visit: there is no field job to offer.")
            % {"ref": ticket.reference}
        )
    if ticket.status not in DISPATCHABLE_STATUSES:
        raise InvalidTransition(
            _("A %(status)s ticket cannot be offered to a partner.")
            % {"status": ticket.get_status_display()}
        )


@transaction.atomic
def offer_make(*, actor: Actor | None, ticket_id: int, partner_id: int) -> Offer:
    """Offer a field job to an eligible partner (a dispatcher, or the system when ``actor``
    is None). Assigns the ticket to the partner so its OLA clocks start; the deadline is the
    OLA acceptance due (or ``accept_within_seconds`` from now without a clock). At most one
    live offer per job: a second is a Conflict. An ineligible partner is refused with the
    ranking's reasons."""
    who = _acting(actor)
    if not who.is_provider:
        raise PermissionDenied(_("Only dispatchers offer jobs to partners."))
    now = timezone.now()
    ticket = ticket_lock(actor=who, ticket_id=ticket_id)
    _check_dispatchable(ticket)
    live = _live_offer(ticket)
    if live is not None:
        raise Conflict(
            _("Ticket %(ref)s is already offered to %(partner)s, awaiting an answer until %(at)s.")
            % {
                "ref": ticket.reference,
                "partner": live.partner,
                "at": format_instant(live.deadline, zone=_zone_of(who, ticket), now=now),
            },
            code="offer_live",
        )
    entry = next(
        (r for r in partners_rank(ticket=ticket, now=now) if r.partner_id == partner_id), None
    )
    if entry is None:
        message = _("Unknown operational partner: %s.") % partner_id
        raise ValidationFailed(message, fields={"partner": [message]})
    if not entry.eligible:
        raise ValidationFailed(
            _("%(partner)s cannot take this job: %(reasons)s.")
            % {"partner": entry.name, "reasons": "; ".join(entry.reasons)},
            code="partner_not_eligible",
            fields={"partner": entry.reasons},
        )
    ticket = services.ticket_assign(actor=who, ticket_id=ticket.pk, partner_id=partner_id)
    deadline = _acceptance_due(ticket, partner_id) or now + timedelta(
        seconds=entry.accept_within_seconds or PartnerContract.accept_within_seconds.field.default
    )
    try:
        with transaction.atomic():
            offer = Offer.objects.create(
                ticket=ticket,
                partner_id=partner_id,
                offered_at=now,
                deadline=deadline,
                offered_by_id=who.user_id,
            )
    except IntegrityError:
        raise Conflict(
            _("Ticket %(ref)s already has a live offer.") % {"ref": ticket.reference},
            code="offer_live",
        ) from None
    _offer_made_record(ticket, offer, entry, who, now)
    return offer


def _offer_made_record(
    ticket: Ticket, offer: Offer, entry: RankedPartner, who: Actor, now: datetime
) -> None:
    event_record(
        ticket=ticket,
        kind=EventKind.OFFER_MADE,
        actor=who,
        is_internal=True,
        at=now,
        data={
            "offer_id": offer.pk,
            "partner_id": entry.partner_id,
            "partner": entry.name,
            "deadline": offer.deadline.isoformat(),
            "score": entry.score,
            "auto": who is SYSTEM,
        },
    )
    if ticket.needs_attention:
        ticket.needs_attention = False
        ticket.attention_reason = ""
        ticket.save(update_fields=["needs_attention", "attention_reason", "updated_at"])
    # The partner's managers answer offers: an offer expires in minutes, so it is urgent.
    notify(
        recipients=partner_manager_ids(entry.partner_id),
        ticket=ticket,
        kind="offer_made",
        title=_("%(ref)s: a new job for you") % {"ref": ticket.reference},
        body=_("%(store)s, %(address)s. Answer by %(deadline)s.")
        % {
            "store": ticket.store.name,
            "address": ticket.store.address,
            "deadline": format_instant(offer.deadline, zone=ticket.store.time_zone, now=now),
        },
        dedupe_key=f"offer:{offer.pk}",
        urgent=True,
    )


@transaction.atomic
def auto_dispatch(*, ticket_id: int, now: datetime | None = None) -> Offer | None:
    """Offer a field job nobody holds to the best-ranked eligible partner (the next one if
    an offer cannot be made to it). Nobody left: the ticket is flagged for the dispatchers
    with the reasons. Does nothing for a job that is held, offered or needs no visit."""
    now = now or timezone.now()
    ticket = ticket_lock(actor=SYSTEM, ticket_id=ticket_id)
    if not ticket.needs_visit or ticket.status != S.NEW or _live_offer(ticket) is not None:
        return None
    refused: list[str] = []
    for entry in partners_rank(ticket=ticket, now=now):
        if entry.eligible:
            try:
                return offer_make(actor=None, ticket_id=ticket.pk, partner_id=entry.partner_id)
            except ApplicationError as exc:
                refused.append(f"{entry.name} — {exc.message}")
        elif entry.capacity is not None:  # partners outside the region are not news
            refused.append(f"{entry.name} — {', '.join(entry.reasons)}")
    region = ticket.store.region
    reason = _("No eligible partner left for %(region)s: %(who)s.") % {
        "region": region.code,
        "who": "; ".join(refused) or _("no operational partner covers %s") % region,
    }
    ticket_flag(ticket=ticket, reason=reason, step="no_partner", urgent=True)
    return None


def redispatch(*, ticket_id: int, now: datetime, reoffer: bool, why: str) -> Offer | None:
    """After a partner lost the job: the next partner (``reoffer``), else the dispatchers."""
    if reoffer:
        return auto_dispatch(ticket_id=ticket_id, now=now)
    ticket = ticket_lock(actor=SYSTEM, ticket_id=ticket_id)
    ticket_flag(
        ticket=ticket,
        reason=_("%(why)s Offer the job by hand.") % {"why": why},
        step="manual_dispatch",
    )
    return None


def _own_offer(actor: Actor, offer_id: int) -> tuple[Ticket, Offer]:
    """The partner manager's own offer and its ticket, both locked (ticket first)."""
    if actor.role != Role.PARTNER_MANAGER:
        raise PermissionDenied(_("Only the partner's manager answers offers."))
    found = Offer.objects.filter(pk=offer_id, partner_id=actor.organisation_id).first()
    if found is None:
        raise NotFound(_("Offer not found."))
    ticket = ticket_lock(actor=SYSTEM, ticket_id=found.ticket_id)
    offer = Offer.objects.select_for_update(of=("self",)).select_related("partner").get(pk=offer_id)
    return ticket, offer


def _check_answerable(actor: Actor, ticket: Ticket, offer: Offer, now: datetime) -> None:
    """Conflict, with a message a person understands, unless the offer is live and in time."""
    zone = _zone_of(actor, ticket)
    if offer.status == OfferStatus.OFFERED and now <= offer.deadline:
        return
    if offer.status in (OfferStatus.OFFERED, OfferStatus.EXPIRED):
        elsewhere = ticket.partner_id not in (None, offer.partner_id)
        tail = (
            _("the job went to another partner.")
            if elsewhere
            else _("the job is back with the dispatcher.")
        )
        message = _("This offer expired at %(at)s; %(tail)s") % {
            "at": format_instant(offer.deadline, zone=zone, now=now),
            "tail": tail,
        }
        raise Conflict(message, code="offer_expired")
    ended = offer.ended_at or offer.responded_at or offer.offered_at
    at = format_instant(ended, zone=zone, now=now)
    if offer.status == OfferStatus.WITHDRAWN:
        message = _("This offer was withdrawn at %(at)s: %(reason)s") % {
            "at": at,
            "reason": offer.decline_reason or _("no reason given"),
        }
        raise Conflict(message, code="offer_withdrawn")
    if offer.status == OfferStatus.DECLINED:
        raise Conflict(
            _("This offer was already declined at %(at)s.") % {"at": at}, code="offer_declined"
        )
    raise Conflict(
        _("This offer was already accepted at %(at)s.") % {"at": at}, code="offer_accepted"
    )


def _engineer_check(partner_id: int, engineer_id: int) -> None:
    ok = Membership.objects.filter(
        user_id=engineer_id,
        organisation_id=partner_id,
        role__in=[Role.PARTNER_ENGINEER, Role.PARTNER_MANAGER],
        is_active=True,
        user__is_active=True,
    ).exists()
    if not ok:
        message = _("This engineer does not work for your company.")
        raise ValidationFailed(message, fields={"engineer": [message]})


def _eta_check(eta: datetime | None, now: datetime) -> datetime:
    if eta is None or timezone.is_naive(eta):
        message = _("Give the ETA as a date and time with its time zone.")
        raise ValidationFailed(message, fields={"eta": [message]})
    if eta <= now:
        message = _("The ETA must be in the future.")
        raise ValidationFailed(message, fields={"eta": [message]})
    return eta


def visit_checklist_kind(ticket: Ticket) -> str:
    """The checklist a visit of ``ticket`` fills in: its equipment's kind, else its
    competency's, else the generic one."""
    kind = ""
    if ticket.equipment_id is not None:
        kind = ticket.equipment.kind
    elif ticket.competency_id is not None:
        kind = ticket.competency.equipment_kind
    return kind if kind in VISIT_CHECKLISTS else "other"


@transaction.atomic
def offer_accept(*, actor: Actor, offer_id: int, engineer_id: int, eta: datetime) -> Offer:
    """The partner manager takes the job: names one of its engineers and an ETA in the
    future. The ticket becomes ``accepted`` (the acceptance and response clocks stop) and a
    visit is opened. A withdrawn, declined, expired or overdue offer is a Conflict saying
    what happened and when."""
    ticket, offer = _own_offer(actor, offer_id)
    now = timezone.now()
    _check_answerable(actor, ticket, offer, now)
    _engineer_check(offer.partner_id, engineer_id)
    _eta_check(eta, now)
    if ticket.status != S.ASSIGNED:
        raise Conflict(
            _("Ticket %(ref)s is %(status)s: the offer cannot be accepted now.")
            % {"ref": ticket.reference, "status": ticket.get_status_display()}
        )
    offer.status = OfferStatus.ACCEPTED
    offer.responded_at = now
    offer.responded_by_id = actor.user_id
    offer.save(update_fields=["status", "responded_at", "responded_by"])
    services.ticket_transition(actor=actor, ticket_id=ticket.pk, to_status=S.ACCEPTED)
    ticket = services.ticket_assign(
        actor=actor, ticket_id=ticket.pk, partner_id=offer.partner_id, engineer_id=engineer_id
    )
    # A visit left open by a hand-made unassignment or handover is over: a new one starts.
    Visit.objects.filter(
        ticket=ticket, checked_out_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=now)
    visit = Visit.objects.create(
        ticket=ticket,
        partner_id=offer.partner_id,
        engineer_id=engineer_id,
        eta=eta,
        checklist_kind=visit_checklist_kind(ticket),
        created_at=now,
    )
    event_record(
        ticket=ticket,
        kind=EventKind.OFFER_ACCEPTED,
        actor=actor,
        at=now,
        data={
            "offer_id": offer.pk,
            "visit_id": visit.pk,
            "partner_id": offer.partner_id,
            "partner": offer.partner.name,
            "engineer_id": engineer_id,
            "engineer": str(ticket.engineer),
            "eta": eta.isoformat(),
        },
    )
    return offer


def _reason_required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why.")
        raise ValidationFailed(message, fields={"reason": [message]})
    return reason


@transaction.atomic
def offer_decline(*, actor: Actor, offer_id: int, reason: str) -> Offer:
    """The partner manager refuses the job with a reason. The job goes back (``new``, the
    partner's OLA clocks cancelled) and, if the client auto-dispatches and its ladder allows
    it, to the next-ranked partner; otherwise the dispatchers are asked to act."""
    reason = _reason_required(reason)
    ticket, offer = _own_offer(actor, offer_id)
    now = timezone.now()
    _check_answerable(actor, ticket, offer, now)
    offer.status = OfferStatus.DECLINED
    offer.responded_at = offer.ended_at = now
    offer.responded_by_id = actor.user_id
    offer.decline_reason = reason
    offer.save(
        update_fields=["status", "responded_at", "responded_by", "ended_at", "decline_reason"]
    )
    _offer_ended_record(ticket, offer, EventKind.OFFER_DECLINED, actor, now, reason=reason)
    services.ticket_transition(
        actor=actor, ticket_id=ticket.pk, to_status=S.NEW, note=_("The partner declined the job.")
    )
    policy = escalation_policy_for(ticket, now)
    redispatch(
        ticket_id=ticket.pk,
        now=now,
        reoffer=ticket.client.auto_dispatch and policy.reoffer_on_decline,
        why=_("%(partner)s declined: %(reason)s.") % {"partner": offer.partner, "reason": reason},
    )
    return offer


_ENDED_TITLES = {
    EventKind.OFFER_EXPIRED: gettext_lazy("%(ref)s: the offer expired"),
    EventKind.OFFER_WITHDRAWN: gettext_lazy("%(ref)s: the job was taken back"),
}


def _offer_ended_record(
    ticket: Ticket, offer: Offer, kind: str, actor: Actor | None, now: datetime, **data: Any
) -> None:
    event_record(
        ticket=ticket,
        kind=kind,
        actor=actor,
        is_internal=True,
        at=now,
        data={
            "offer_id": offer.pk,
            "partner_id": offer.partner_id,
            "partner": offer.partner.name,
            **data,
        },
    )
    # The partner hears when a job it was offered or held is no longer its own.
    if kind in _ENDED_TITLES:
        notify(
            recipients=partner_manager_ids(offer.partner_id),
            ticket=ticket,
            kind=str(kind),
            title=str(_ENDED_TITLES[kind]) % {"ref": ticket.reference},
            body=ticket.subject,
            dedupe_key=f"{kind}:{offer.pk}",
        )


@transaction.atomic
def offer_expire(*, offer_id: int, now: datetime | None = None) -> Offer | None:
    """The system ends an offer not answered by its deadline: expired, the job back
    (``new``, OLA clocks cancelled; a recorded acceptance breach stays against the partner),
    then the next partner per the client's settings. Idempotent: an offer no longer live,
    not yet due, or on a ticket waiting for the client is left alone (returns None)."""
    now = now or timezone.now()
    found = Offer.objects.filter(pk=offer_id).values_list("ticket_id", flat=True).first()
    if found is None:
        return None
    ticket = ticket_lock(actor=SYSTEM, ticket_id=found)
    offer = Offer.objects.select_for_update(of=("self",)).select_related("partner").get(pk=offer_id)
    if offer.status != OfferStatus.OFFERED or now <= offer.deadline:
        return None
    if ticket.status == S.WAITING_CLIENT:
        return None
    offer.status = OfferStatus.EXPIRED
    offer.ended_at = now
    offer.save(update_fields=["status", "ended_at"])
    _offer_ended_record(
        ticket, offer, EventKind.OFFER_EXPIRED, None, now, deadline=offer.deadline.isoformat()
    )
    if ticket.partner_id == offer.partner_id and ticket.status in WITHDRAWABLE_STATUSES:
        services.ticket_transition(
            actor=SYSTEM, ticket_id=ticket.pk, to_status=S.NEW, note=_("The offer expired.")
        )
    policy = escalation_policy_for(ticket, now)
    redispatch(
        ticket_id=ticket.pk,
        now=now,
        reoffer=ticket.client.auto_dispatch and policy.reoffer_on_accept_timeout,
        why=_("%(partner)s did not answer the offer in time.") % {"partner": offer.partner},
    )
    return offer


@transaction.atomic
def offer_withdraw(*, actor: Actor | None, offer_id: int, reason: str) -> Offer:
    """Take the job back from a partner: a live offer, or an accepted job whose engineer is
    not on site yet (its open visit is called off). The ticket goes back to ``new`` with the
    partner's OLA clocks cancelled (a breach already recorded stays against it). Dispatchers,
    or the system (``actor`` None: the escalation ladder, which then re-dispatches)."""
    who = _acting(actor)
    if not who.is_provider:
        raise PermissionDenied(_("Only dispatchers withdraw offers."))
    reason = _reason_required(reason)
    now = timezone.now()
    found = Offer.objects.filter(pk=offer_id).values_list("ticket_id", flat=True).first()
    if found is None:
        raise NotFound(_("Offer not found."))
    ticket = ticket_lock(actor=who, ticket_id=found)
    offer = Offer.objects.select_for_update(of=("self",)).select_related("partner").get(pk=offer_id)
    holds = ticket.partner_id == offer.partner_id and ticket.status in WITHDRAWABLE_STATUSES
    if offer.status not in (OfferStatus.OFFERED, OfferStatus.ACCEPTED) or not holds:
        raise Conflict(
            _("This offer cannot be withdrawn: it is %(status)s and the ticket is %(ticket)s.")
            % {"status": offer.get_status_display(), "ticket": ticket.get_status_display()},
            code="offer_not_withdrawable",
        )
    offer.status = OfferStatus.WITHDRAWN
    offer.ended_at = now
    offer.decline_reason = reason
    offer.save(update_fields=["status", "ended_at", "decline_reason"])
    Visit.objects.filter(ticket=ticket, partner_id=offer.partner_id).filter(
        checked_out_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=now)
    _offer_ended_record(ticket, offer, EventKind.OFFER_WITHDRAWN, actor, now, reason=reason)
    services.ticket_transition(
        actor=who,
        ticket_id=ticket.pk,
        to_status=S.NEW,
        note=_("The job was withdrawn from the partner."),
    )
    return offer


@transaction.atomic
def job_take_back(*, ticket_id: int, reason: str) -> Ticket:
    """The system takes a job held without an offer (given by hand) from its partner before
    the engineer is on site: its open visit is called off and the ticket goes back to
    ``new`` (OLA clocks cancelled; a recorded breach stays against the partner)."""
    ticket = ticket_lock(actor=SYSTEM, ticket_id=ticket_id)
    if ticket.partner_id is None or ticket.status not in WITHDRAWABLE_STATUSES:
        raise InvalidTransition(
            _("Ticket %(ref)s is not held by a partner that could be taken off it.")
            % {"ref": ticket.reference}
        )
    Visit.objects.filter(ticket=ticket, partner_id=ticket.partner_id).filter(
        checked_out_at__isnull=True, cancelled_at__isnull=True
    ).update(cancelled_at=timezone.now())
    event_record(
        ticket=ticket,
        kind=EventKind.ESCALATED,
        actor=None,
        is_internal=True,
        data={"step": "job_taken_back", "partner_id": ticket.partner_id, "reason": reason},
    )
    return services.ticket_transition(
        actor=SYSTEM, ticket_id=ticket.pk, to_status=S.NEW, note=_("The job was taken back.")
    )
