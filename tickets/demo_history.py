"""Ticket history for the demo: believable timelines, written in bulk.

Each ticket is told as a *story*: a clock that only moves forward and records, step by step,
what the services would have recorded (a status change with its event, a comment with its
``commented`` event, an offer, a visit). A story stops when its next step would lie in the
future, or when it reaches the status a live demo ticket should be left in. Status changes
are checked against ``tickets.constants.ALLOWED_TRANSITIONS``.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import models

from clients.models import Client, Equipment, Store
from partners.choices import PartnerKind
from partners.models import Certification, Competency, Coverage, Partner, PartnerContract
from servicedesk.choices import CLIENT_ROLES, Role
from servicedesk.models import User
from tickets import demo_data as data
from tickets.choices import EventKind, OfferStatus, Priority, TicketKind, TicketStatus
from tickets.constants import ALLOWED_TRANSITIONS, ROLE_MOVES
from tickets.models import Comment, Offer, Ticket, TicketEvent, Visit

S = TicketStatus
HISTORY_DAYS = 90
BATCH = 1000
VISIT_SHARE = 0.3
CANCEL_SHARE = 0.02
# What makes SLAs slip: a slow first response, a remote fix that needs the second line or
# the vendor, an engineer stuck in traffic.
SLOW_RESPONSE_SHARE = 0.15
SECOND_LINE_SHARE = 0.25
LATE_ARRIVAL_SHARE = 0.2
# Open tickets left for the live demo: status -> how long ago they were opened (minutes).
LIVE_WINDOWS: dict[str, tuple[int, int]] = {
    S.NEW: (5, 180),
    S.WAITING_CLIENT: (90, 1800),
    S.ASSIGNED: (8, 45),
    S.ACCEPTED: (40, 180),
    S.EN_ROUTE: (90, 300),
    S.ON_SITE: (150, 420),
}
VISIT_STATUSES = frozenset({S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})
KIND_WEIGHTS = {
    "cash_register": 6,
    "fiscal_printer": 5,
    "network": 4,
    "cctv": 3,
    "pos_terminal": 3,
    "self_checkout": 3,
    "scales": 1,
    "": 1,
}


class Who(NamedTuple):
    """An actor in a story: a user in a role, or the system (``user`` is ``None``)."""

    user: User | None
    role: str


SYSTEM = Who(None, "system")


@dataclass
class HistoryCast:
    """The people who appear in the stories."""

    now: datetime
    dispatchers: list[User]
    client_managers: dict[str, User]  # chain code -> client manager
    store_user: User
    store_id: int  # the store the ``store`` login works in
    partner_staff: dict[int, tuple[User | None, list[User]]]  # partner id -> manager, engineers
    demo_partner_id: int
    demo_engineer: User


@dataclass
class _Site:
    store: Store
    equipment: dict[str, list[int]]  # kind -> equipment ids, in creation order
    weight: int


@dataclass
class _Network:
    """Operational partners per region, their certificates and contracts."""

    coverage: dict[int, list[tuple[Partner, int]]]  # region id -> (partner, capacity)
    certificates: dict[tuple[int, int], list[tuple[date, date]]]
    accept_seconds: dict[int, int]
    competency_by_kind: dict[str, Competency]

    def candidates(
        self, rng: random.Random, store: Store, competency: Competency | None, day: date
    ) -> list[Partner]:
        """Covering partners certified for the job on ``day`` (any covering partner when
        none is), in a random order weighted by their capacity in the region."""
        covering = self.coverage.get(store.region_id, [])
        certified = [
            (p, cap)
            for p, cap in covering
            if competency is None
            or any(
                issued <= day < expires
                for issued, expires in self.certificates.get((p.pk, competency.pk), [])
            )
        ]
        pool = certified or covering
        ranked = sorted(pool, key=lambda pc: -(rng.random() ** (1 / pc[1])))
        return [partner for partner, _capacity in ranked]


@dataclass
class Plan:
    """One ticket and everything recorded about it, not yet saved."""

    ticket: Ticket
    events: list[tuple[TicketEvent, models.Model | None, str]] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)


class _Stop(Exception):
    """The story ends here: the next step is in the future or the target status is reached."""


class _Story:
    """A forward-only clock that records each step of one ticket's life."""

    def __init__(self, plan: Plan, now: datetime, rng: random.Random, target: str | None) -> None:
        self.plan = plan
        self.ticket = plan.ticket
        self.now = now
        self.rng = rng
        self.target = target
        self.t = plan.ticket.created_at

    def wait(self, low_minutes: float, high_minutes: float) -> None:
        seconds = self.rng.randint(int(low_minutes * 60), int(high_minutes * 60))
        self.until(self.t + timedelta(seconds=max(seconds, 60)))

    def until(self, moment: datetime) -> None:
        self.t = max(moment, self.t + timedelta(seconds=30))
        if self.t > self.now:
            raise _Stop

    def event(
        self,
        kind: str,
        who: Who,
        payload: dict,
        *,
        internal: bool = False,
        ref: models.Model | None = None,
        ref_key: str = "",
    ) -> None:
        row = TicketEvent(
            ticket=self.ticket,
            kind=kind,
            actor=who.user,
            actor_role=who.role,
            is_internal=internal,
            data=payload,
            created_at=self.t,
        )
        self.plan.events.append((row, ref, ref_key))
        self.ticket.updated_at = self.t

    def comment(self, who: Who, body: str, *, internal: bool = False) -> None:
        comment = Comment(
            ticket=self.ticket,
            author=who.user,
            author_role=who.role,
            body=body,
            is_internal=internal,
            created_at=self.t,
        )
        self.plan.comments.append(comment)
        staff_reply = not internal and who.role not in CLIENT_ROLES
        if staff_reply and self.ticket.first_response_at is None:
            self.ticket.first_response_at = self.t
        self.event(
            EventKind.COMMENTED, who, {}, internal=internal, ref=comment, ref_key="comment_id"
        )

    def status(self, to: str, who: Who) -> None:
        current = self.ticket.status
        if not _may_move(who, current, to, self.ticket.status_before_wait):
            raise ValueError(f"Demo story breaks the state machine: {who.role} {current}->{to}")
        if to == S.WAITING_CLIENT:
            self.ticket.status_before_wait = current
        if to == S.RESOLVED:
            self.ticket.resolved_at = self.t
        if to == S.CLOSED:
            self.ticket.closed_at = self.t
        self.ticket.status = to
        self.event(EventKind.STATUS_CHANGED, who, {"from": current, "to": to})
        if to == self.target:
            raise _Stop


def _may_move(who: Who, current: str, to: str, before_wait: str) -> bool:
    """The same rule ``tickets.services`` applies: an allowed transition that the role may
    make (a client answering a question returns the ticket to where it was)."""
    if to not in ALLOWED_TRANSITIONS[current]:
        return False
    if who.role not in ROLE_MOVES:  # provider staff and the system
        return True
    answers = who.role in CLIENT_ROLES and current == S.WAITING_CLIENT and to == before_wait
    return answers or (current, to) in ROLE_MOVES[who.role]


@dataclass
class _Job:
    """What a story needs to know about its ticket beyond the ticket row."""

    site: _Site
    problem: data.Problem
    dispatcher: Who
    client: Who
    urgent: bool
    partners: list[Partner]  # candidates for the offer, best first
    accept_seconds: dict[int, int]  # partner id -> contract's time to accept an offer
    signer: User | None  # who signs the visit off at the store, if anyone
    engineer: User | None = None  # forced engineer (the demo login's live jobs)


# --- loading what the stories need --------------------------------------------------------


def _load_sites(client: Client) -> list[_Site]:
    """Active stores with their equipment; a store with more registers has more tickets."""
    equipment: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    rows = Equipment.objects.filter(store__client=client).order_by("id")
    for pk, store_id, kind in rows.values_list("pk", "store_id", "kind"):
        equipment[store_id][kind].append(pk)
    stores = Store.objects.filter(client=client, is_active=True).select_related("region")
    return [
        _Site(s, dict(equipment[s.pk]), 1 + len(equipment[s.pk].get("cash_register", [])))
        for s in stores.order_by("code")
    ]


def _load_network(staffed: set[int]) -> _Network:
    """Active operational partners with a manager and engineers, by region they cover."""
    coverage: dict[int, list[tuple[Partner, int]]] = defaultdict(list)
    rows = Coverage.objects.filter(
        partner__kind=PartnerKind.OPERATIONAL, partner__is_active=True, partner__in=staffed
    ).select_related("partner")
    for row in rows.order_by("region_id", "partner_id"):
        coverage[row.region_id].append((row.partner, row.capacity))
    certificates: dict[tuple[int, int], list[tuple[date, date]]] = defaultdict(list)
    for pid, cid, issued, expires in Certification.objects.values_list(
        "partner_id", "competency_id", "issued_on", "expires_on"
    ):
        certificates[(pid, cid)].append((issued, expires))
    accept = dict(
        PartnerContract.objects.filter(is_active=True).values_list(
            "partner_id", "accept_within_seconds"
        )
    )
    field_competencies = Competency.objects.filter(code__in=data.FIELD_COMPETENCIES)
    by_kind = {c.equipment_kind: c for c in field_competencies}
    return _Network(dict(coverage), dict(certificates), accept, by_kind)


# --- building -----------------------------------------------------------------------------


def history_build(
    *, client: Client, spec: data.ChainSpec, cast: HistoryCast, rng: random.Random
) -> list[Plan]:
    """About three months of finished tickets plus a few open ones in each live status,
    numbered 1..N in order of creation."""
    sites = _load_sites(client)
    staffed = {
        pid for pid, (manager, engineers) in cast.partner_staff.items() if manager and engineers
    }
    network = _load_network(staffed)
    total = round(len(sites) * spec.monthly_tickets_per_store * HISTORY_DAYS / 30)
    weights = [s.weight for s in sites]
    plans = [
        _history_ticket(client, cast, network, rng, rng.choices(sites, weights)[0])
        for _ in range(total)
    ]
    demo_site = next((s for s in sites if s.store.pk == cast.store_id), None)
    if demo_site is not None:
        plans += [_history_ticket(client, cast, network, rng, demo_site) for _ in range(6)]
    plans += _live_tickets(client, spec, cast, network, rng, sites)
    plans.sort(key=lambda p: (p.ticket.created_at, p.ticket.subject))
    for number, plan in enumerate(plans, start=1):
        plan.ticket.number = number
    return plans


def _history_moment(rng: random.Random, store: Store, now: datetime) -> datetime:
    """A moment in the last three months, in the store's opening hours. Stories of the
    last days are still running, so the history ends in today's open tickets."""
    instant = now - timedelta(days=rng.uniform(0.1, HISTORY_DAYS))
    local = instant.astimezone(ZoneInfo(store.time_zone))
    hour = rng.choices(range(7, 23), weights=[2, 5, 8, 9, 9, 8, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1])[0]
    local = local.replace(hour=hour, minute=rng.randint(0, 59), second=rng.randint(0, 59))
    moment = local.astimezone(UTC)
    return moment if moment < now - timedelta(minutes=30) else moment - timedelta(days=1)


def _history_ticket(
    client: Client, cast: HistoryCast, network: _Network, rng: random.Random, site: _Site
) -> Plan:
    """A ticket from the last three months: 30 % with a field visit, a few cancelled."""
    created_at = _history_moment(rng, site.store, cast.now)
    roll = rng.random()
    needs_visit = roll < VISIT_SHARE
    cancelled = not needs_visit and roll > 1 - CANCEL_SHARE
    plan, job = _start(client, cast, network, rng, site, created_at, needs_visit)
    target = S.CANCELLED if cancelled else None
    _tell(plan, job, cast, rng, target)
    return plan


def _live_tickets(
    client: Client,
    spec: data.ChainSpec,
    cast: HistoryCast,
    network: _Network,
    rng: random.Random,
    sites: list[_Site],
) -> list[Plan]:
    """Open tickets for the live demo; for the grocery chain the field jobs sit in Moscow
    with the demo partner and the ``engineer`` login, and the ``store`` login has two."""
    grocery = spec.code == data.GROCERY.code
    moscow = [s for s in sites if s.store.region.code == "RU-MOW"] if grocery else []
    demo_site = next((s for s in sites if s.store.pk == cast.store_id), None)
    plans = []
    for status in LIVE_WINDOWS:
        for n in range(3 if grocery else 1):
            site = rng.choice(sites)
            if moscow and status in VISIT_STATUSES:
                site = rng.choice(moscow)
            if demo_site and n == 0 and status in (S.NEW, S.WAITING_CLIENT):
                site = demo_site
            demo_job = bool(moscow) and status in VISIT_STATUSES and n < 2
            live = _Live(status, demo_job, by_store_user=site is demo_site)
            plans.append(_live_ticket(client, cast, network, rng, site, live))
    return plans


class _Live(NamedTuple):
    status: str  # the open status to leave the ticket in
    demo_job: bool  # a field job for the demo partner and the ``engineer`` login
    by_store_user: bool  # opened by the ``store`` login


def _live_ticket(
    client: Client,
    cast: HistoryCast,
    network: _Network,
    rng: random.Random,
    site: _Site,
    live: _Live,
) -> Plan:
    """A ticket opened recently and left in its live status; retried until it gets there."""
    low, high = LIVE_WINDOWS[live.status]
    creator = Who(cast.store_user, Role.STORE_STAFF) if live.by_store_user else None
    for _ in range(50):
        created_at = cast.now - timedelta(minutes=rng.uniform(low, high))
        visit = live.status in VISIT_STATUSES
        plan, job = _start(client, cast, network, rng, site, created_at, visit, creator)
        if live.demo_job:
            demo = [p for p in job.partners if p.pk == cast.demo_partner_id]
            job.partners = demo or job.partners
            job.engineer = cast.demo_engineer
        if live.status != S.NEW:
            _tell(plan, job, cast, rng, live.status)
        if plan.ticket.status == live.status and _looks_live(plan, cast.now):
            return plan
    raise RuntimeError(f"Could not build a live {live.status} ticket")


def _looks_live(plan: Plan, now: datetime) -> bool:
    """An open offer still within its deadline and an engineer not yet overdue, so the
    demo starts calm and escalations happen while somebody watches."""
    offers_live = all(o.deadline > now for o in plan.offers if o.status == OfferStatus.OFFERED)
    visits_due = all(v.eta > now for v in plan.visits if v.checked_in_at is None)
    return offers_live and visits_due


def _start(
    client: Client,
    cast: HistoryCast,
    network: _Network,
    rng: random.Random,
    site: _Site,
    created_at: datetime,
    needs_visit: bool,
    creator: Who | None = None,
) -> tuple[Plan, _Job]:
    """The ticket row and its ``created`` event, and what its story needs."""
    problem, equipment_id, number = _pick_problem(rng, site, needs_visit)
    priority = _pick_priority(rng, problem)
    creator = creator or _creator(rng, cast, client, site)
    competency = network.competency_by_kind.get(problem.equipment_kind)
    ticket = Ticket(
        client=client,
        number=0,
        store=site.store,
        equipment_id=equipment_id,
        kind=problem.kind,
        category=problem.category,
        competency=competency,
        priority=priority,
        needs_visit=needs_visit,
        status=S.NEW,
        subject=problem.subject.format(n=number),
        description=problem.description.format(n=number),
        created_by=creator.user,
        version=1,
        created_at=created_at,
        updated_at=created_at,
    )
    plan = Plan(ticket)
    story = _Story(plan, cast.now, rng, None)
    story.event(
        EventKind.CREATED,
        creator,
        {"status": S.NEW, "priority": priority, "needs_visit": needs_visit},
    )
    manager = Who(cast.client_managers[client.code], Role.CLIENT_MANAGER)
    dispatcher = rng.choices(cast.dispatchers, weights=[7, 3])[0]
    partners = []
    if needs_visit:
        partners = network.candidates(rng, site.store, competency, created_at.date())
    job = _Job(
        site=site,
        problem=problem,
        dispatcher=Who(dispatcher, Role.DISPATCHER),
        client=creator if creator.role in CLIENT_ROLES else manager,
        urgent=priority in (Priority.P1, Priority.P2),
        partners=partners,
        accept_seconds=network.accept_seconds,
        signer=cast.store_user if site.store.pk == cast.store_id else None,
    )
    return plan, job


def _pick_problem(
    rng: random.Random, site: _Site, needs_visit: bool
) -> tuple[data.Problem, int | None, int]:
    """A problem the store's equipment can have, solvable the way the ticket will be."""
    pool = [
        p
        for p in data.PROBLEMS
        if (p.visit_report if needs_visit else p.remote_fix)
        and (p.equipment_kind == "" or site.equipment.get(p.equipment_kind))
    ]
    problem = rng.choices(pool, weights=[KIND_WEIGHTS[p.equipment_kind] for p in pool])[0]
    if not problem.equipment_kind:
        return problem, None, 1
    devices = site.equipment[problem.equipment_kind]
    index = rng.randrange(len(devices))
    return problem, devices[index], index + 1


def _pick_priority(rng: random.Random, problem: data.Problem) -> str:
    if problem.kind == TicketKind.REQUEST:
        weights = [0, 5, 45, 50]
    elif problem.urgent:
        weights = [20, 40, 35, 5]
    else:
        weights = [3, 15, 62, 20]
    return rng.choices([Priority.P1, Priority.P2, Priority.P3, Priority.P4], weights)[0]


def _creator(rng: random.Random, cast: HistoryCast, client: Client, site: _Site) -> Who:
    """Store staff report from their store; otherwise the hotline or the client's office."""
    if site.store.pk == cast.store_id and rng.random() < 0.7:
        return Who(cast.store_user, Role.STORE_STAFF)
    if rng.random() < 0.6:
        return Who(rng.choices(cast.dispatchers, weights=[7, 3])[0], Role.DISPATCHER)
    return Who(cast.client_managers[client.code], Role.CLIENT_MANAGER)


# --- the stories --------------------------------------------------------------------------


def _tell(plan: Plan, job: _Job, cast: HistoryCast, rng: random.Random, target: str | None) -> None:
    """Play the ticket's story until it ends or reaches ``target``."""
    story = _Story(plan, cast.now, rng, target)
    try:
        if target == S.CANCELLED:
            _cancelled(story, job)
        elif plan.ticket.needs_visit:
            _field_visit(story, job, cast)
        else:
            _remote(story, job)
    except _Stop:
        pass


def _first_response(story: _Story, job: _Job, *, visit: bool) -> None:
    """Usually within minutes; in a rush hour or at a shift change the queue waits longer,
    so some responses miss their SLA."""
    rng = story.rng
    if rng.random() < SLOW_RESPONSE_SHARE:
        story.wait(10, 90) if job.urgent else story.wait(30, 480)
    else:
        story.wait(1, 10 if job.urgent else 40)
    body = rng.choice(data.FIRST_RESPONSES)
    if visit:
        body = f"{body} {rng.choice(data.VISIT_NEEDED)}"
    story.comment(job.dispatcher, body)
    if rng.random() < 0.15:
        story.wait(1, 5)
        story.comment(job.dispatcher, rng.choice(data.INTERNAL_NOTES), internal=True)


def _remote(story: _Story, job: _Job) -> None:
    """Solved by the provider's first line, sometimes after a question to the store."""
    rng = story.rng
    _first_response(story, job, visit=False)
    if story.target == S.WAITING_CLIENT or rng.random() < 0.15:
        story.wait(2, 20)
        story.comment(job.dispatcher, rng.choice(data.QUESTIONS))
        story.status(S.WAITING_CLIENT, job.dispatcher)
        story.wait(20, 360)
        story.comment(job.client, rng.choice(data.ANSWERS))
        story.status(S.NEW, job.client)
    if rng.random() < SECOND_LINE_SHARE:
        # Handed to the second line or the vendor: hours to days, the usual SLA misses.
        story.wait(2, 10)
        story.comment(job.dispatcher, rng.choice(data.SECOND_LINE_NOTES), internal=True)
        story.wait(6 * 60, 8 * 24 * 60)
    story.wait(10, 120 if job.urgent else 480)
    story.comment(job.dispatcher, job.problem.remote_fix)
    story.status(S.RESOLVED, job.dispatcher)
    _close(story, job)


def _cancelled(story: _Story, job: _Job) -> None:
    story.wait(5, 60)
    story.comment(job.dispatcher, story.rng.choice(data.CANCEL_NOTES))
    story.status(S.CANCELLED, job.dispatcher)


def _close(story: _Story, job: _Job) -> None:
    """The client confirms, or the ticket closes itself three days after the fix."""
    rng = story.rng
    if rng.random() < 0.6:
        story.wait(10, 1440)
        if rng.random() < 0.5:
            story.comment(job.client, rng.choice(data.THANKS))
        story.status(S.CLOSED, job.client)
    else:
        story.until(story.t + timedelta(hours=72))
        story.status(S.CLOSED, SYSTEM)


def _field_visit(story: _Story, job: _Job, cast: HistoryCast) -> None:
    """Offer to a covering partner (sometimes refused first), accepted, visited, fixed."""
    rng = story.rng
    partners = job.partners
    if not partners:
        raise RuntimeError(f"No staffed operational partner covers {job.site.store.region}.")
    _first_response(story, job, visit=True)
    story.wait(2, 20)
    if len(partners) > 1 and story.target is None and rng.random() < 0.15:
        _offer_refused(story, job, cast, partners[0])
        story.wait(1, 5)
        partners = partners[1:]
    offer = _offer_made(story, job, cast, partners[0])
    visit = _offer_accepted(story, job, cast, offer)
    _visit(story, job, visit)
    _close(story, job)


def _staff(cast: HistoryCast, partner: Partner) -> tuple[Who, list[User]]:
    manager, engineers = cast.partner_staff[partner.pk]
    return Who(manager, Role.PARTNER_MANAGER), engineers


def _offer_made(story: _Story, job: _Job, cast: HistoryCast, partner: Partner) -> Offer:
    seconds = job.accept_seconds.get(partner.pk, 1800)
    offer = Offer(
        ticket=story.ticket,
        partner=partner,
        status=OfferStatus.OFFERED,
        offered_at=story.t,
        deadline=story.t + timedelta(seconds=seconds),
        offered_by=job.dispatcher.user,
    )
    story.plan.offers.append(offer)
    about = {"partner_id": partner.pk, "partner": partner.name}
    story.event(EventKind.OFFER_MADE, job.dispatcher, dict(about), ref=offer, ref_key="offer_id")
    story.ticket.partner = partner
    story.event(EventKind.ASSIGNED, job.dispatcher, {**about, "engineer_id": None})
    story.status(S.ASSIGNED, job.dispatcher)
    return offer


def _offer_refused(story: _Story, job: _Job, cast: HistoryCast, partner: Partner) -> None:
    """The first partner declines (busy) or lets the offer expire; the job goes back."""
    offer = _offer_made(story, job, cast, partner)
    manager, _ = _staff(cast, partner)
    about = {"partner_id": partner.pk, "partner": partner.name}
    if story.rng.random() < 0.7:
        story.wait(3, 12)
        offer.status = OfferStatus.DECLINED
        offer.responded_at, offer.responded_by = story.t, manager.user
        offer.decline_reason = story.rng.choice(data.DECLINE_REASONS)
        who = manager
        story.event(EventKind.OFFER_DECLINED, who, dict(about), ref=offer, ref_key="offer_id")
    else:
        story.until(offer.deadline)
        offer.status = OfferStatus.EXPIRED
        who = SYSTEM
        story.event(EventKind.OFFER_EXPIRED, who, dict(about), ref=offer, ref_key="offer_id")
    story.ticket.partner = None
    story.event(EventKind.UNASSIGNED, who, about)
    story.status(S.NEW, who)


def _offer_accepted(story: _Story, job: _Job, cast: HistoryCast, offer: Offer) -> Visit:
    """The partner manager accepts, names the engineer, and the visit gets its ETA."""
    rng = story.rng
    manager, engineers = _staff(cast, offer.partner)
    story.wait(2, 14)
    offer.status = OfferStatus.ACCEPTED
    offer.responded_at, offer.responded_by = story.t, manager.user
    about = {"partner_id": offer.partner.pk, "partner": offer.partner.name}
    story.event(EventKind.OFFER_ACCEPTED, manager, dict(about), ref=offer, ref_key="offer_id")
    engineer = job.engineer or rng.choice(engineers)
    story.ticket.engineer = engineer
    story.event(EventKind.ASSIGNED, manager, {**about, "engineer_id": engineer.pk})
    eta_minutes = rng.randint(40, 120) if job.urgent else rng.randint(60, 220)
    visit = Visit(
        ticket=story.ticket,
        partner=offer.partner,
        engineer=engineer,
        eta=story.t + timedelta(minutes=eta_minutes),
        created_at=story.t,
    )
    story.plan.visits.append(visit)
    story.status(S.ACCEPTED, manager)
    return visit


def _visit(story: _Story, job: _Job, visit: Visit) -> None:
    """En route, check-in near the store (sometimes late), work, check-out with a report."""
    rng = story.rng
    engineer = Who(visit.engineer, Role.PARTNER_ENGINEER)
    story.until(visit.eta - timedelta(minutes=rng.randint(15, 75)))
    visit.en_route_at = story.t
    _visit_step(story, engineer, visit, "en_route")
    story.status(S.EN_ROUTE, engineer)
    late = rng.randint(20, 240) if rng.random() < LATE_ARRIVAL_SHARE else rng.randint(-20, 15)
    story.until(visit.eta + timedelta(minutes=late))
    visit.checked_in_at = story.t
    _check_in_position(rng, visit, job.site.store)
    _visit_step(story, engineer, visit, "checked_in")
    story.status(S.ON_SITE, engineer)
    story.wait(25, 180)
    visit.checked_out_at = story.t
    visit.work_report = job.problem.visit_report
    visit.parts_used = [{"name": part, "qty": 1} for part in job.problem.parts]
    if job.signer is not None:
        visit.signed_off_by, visit.signed_off_at = job.signer, story.t
    _visit_step(story, engineer, visit, "checked_out")
    story.comment(engineer, job.problem.visit_report)
    story.status(S.RESOLVED, engineer)


def _visit_step(story: _Story, who: Who, visit: Visit, step: str) -> None:
    story.event(EventKind.VISIT_UPDATED, who, {"step": step}, ref=visit, ref_key="visit_id")


def _check_in_position(rng: random.Random, visit: Visit, store: Store) -> None:
    """A GPS fix 10–250 m from the store, and its distance."""
    if store.latitude is None or store.longitude is None:
        return
    metres = rng.uniform(10, 250)
    bearing = rng.uniform(0, 2 * math.pi)
    lat = float(store.latitude) + metres * math.cos(bearing) / 111_320
    lon = float(store.longitude) + metres * math.sin(bearing) / (
        111_320 * math.cos(math.radians(float(store.latitude)))
    )
    visit.check_in_latitude = Decimal(f"{lat:.6f}")
    visit.check_in_longitude = Decimal(f"{lon:.6f}")
    visit.check_in_distance_m = round(
        _haversine_m(float(store.latitude), float(store.longitude), lat, lon)
    )


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


# --- writing ------------------------------------------------------------------------------


def _bulk_create_keeping(model: type[models.Model], rows: list, stamp_fields: list[str]) -> None:
    """``bulk_create``, then put back the timestamps that ``auto_now``/``auto_now_add``
    overwrote with the current time."""
    stamps = [[getattr(row, name) for name in stamp_fields] for row in rows]
    model._default_manager.bulk_create(rows, batch_size=BATCH)
    for row, values in zip(rows, stamps, strict=True):
        for name, value in zip(stamp_fields, values, strict=True):
            setattr(row, name, value)
    model._default_manager.bulk_update(rows, stamp_fields, batch_size=BATCH)


def history_write(plans: list[Plan]) -> dict[str, int]:
    """Insert the plans' rows in dependency order; returns the row count per table."""
    _bulk_create_keeping(Ticket, [p.ticket for p in plans], ["created_at", "updated_at"])
    comments = [c for p in plans for c in p.comments]
    _bulk_create_keeping(Comment, comments, ["created_at"])
    offers = [o for p in plans for o in p.offers]
    Offer.objects.bulk_create(offers, batch_size=BATCH)
    visits = [v for p in plans for v in p.visits]
    _bulk_create_keeping(Visit, visits, ["created_at"])
    events = []
    for plan in plans:
        for event, ref, key in plan.events:
            if ref is not None:
                event.data = {key: ref.pk, **event.data}
            events.append(event)
    TicketEvent.objects.bulk_create(events, batch_size=BATCH)
    return {
        "tickets": len(plans),
        "ticket events": len(events),
        "comments": len(comments),
        "offers": len(offers),
        "visits": len(visits),
    }
