"""The SLA side of the demo: client policies, partner OLA calendars, and the clocks of the
ticket history, computed by the real SLA engine.

**Policies.** Each client contract gets P1–P4 (``POLICIES``): urgent work counts in the
store's opening hours, planned work on the Russian production calendar; the pharmacy chain
treats fiscal equipment as P1 (a pharmacy that cannot print receipts cannot sell). Every
policy pauses in ``waiting_client``. Partner contracts carry OLA targets
(``demo_data.OLA_*``), some on the partner's own working hours (``demo_data.OLA_HOURS``); the
seed refuses to go on if any OLA is looser than the SLA it underpins.

**Clocks.** The history is written in bulk (``demo_history``), so no ticket service drove the
engine while it was made. ``history_clocks`` replays each ticket's timeline, event by event
in time order, through the engine's own functions with the event's instant (``at=``), as
``tickets.clocks`` does when the services run:

====================================  =================================================
event                                 engine call
====================================  =================================================
created                               ``sla_clocks_start``
first public reply of staff/partner   stop the SLA response clock
assigned to a new partner             ``ola_clocks_start`` (with acceptance unless the
                                      ticket waits for the client)
unassigned (declined, expired offer)  cancel that partner's OLA clocks
status → accepted / on_site          stop response + acceptance / + arrival
status → resolved                    stop everything still running
status → cancelled                   cancel everything
into / out of a pause status         ``clocks_pause`` / ``clocks_resume``
resolved → new (reopened)             ``sla_clocks_restart``
====================================  =================================================

and each ticket's ``ClockChange`` list becomes its SLA timeline entries through
``tickets.clocks.clock_events_record``.

**Warnings and breaches.** In production the sweep runs every 30 s, so a threshold is
recorded when it is reached, also for a clock that is stopped late. The replay does the same:
before it stops, pauses or cancels clocks at an instant, it runs the engine's sweep
(``sla.services.sweep_batch``) at that instant, so every warning and breach reached by then
is recorded once, with ``reached_at`` (and the timeline entry's time) = the engine's own
warn/due instant; a clock stopped after its due is marked breached first and then "missed".
A stop sweeps up to just before its instant (stopped exactly at the due is met, the engine's
contract); a pause or a cancel sweeps up to and including it (a due reached at that instant
counts against whoever held the clock). The sweep is global, yet it can only record what
really happened: only running clocks are in its index, and a running clock's warn/due lies
after the instant it last started running, so it is reached whatever ticket is being
replayed. These sweeps write timeline entries but no escalation messages: nobody is paged
about last month's breach. When every client is done, ``tickets.escalation.sla_sweep`` at
the seed's instant records what the open tickets have reached, with escalations, as the beat
would have — only on a run that replayed something, so a second run adds nothing.

Tickets are replayed when they have no clock at all: a fresh history, or a database seeded
before the demo had SLA data (its clocks are then back-filled).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import NamedTuple

from django.db.models import Count, Q

from calendars.models import BusinessCalendar, WorkingInterval
from calendars.services import calendar_presets_ensure
from clients.models import Client, ClientContract
from clients.regions_data import REGIONS
from partners.models import Partner, PartnerContract
from servicedesk.choices import CLIENT_ROLES
from servicedesk.exceptions import ValidationFailed
from sla import services as sla
from sla.choices import Agreement, Category, Metric, Priority
from sla.models import ClockThreshold, SlaClock, SlaPause, SlaPolicy
from tickets import demo_data as data
from tickets.choices import EventKind, TicketStatus
from tickets.clocks import clock_events_record, ticket_terms
from tickets.escalation import SweepResult, sla_sweep
from tickets.models import Ticket, TicketEvent

S = TicketStatus
MINUTE = 60
HOUR = 3600
WORKING_DAY = 9 * HOUR  # a production-calendar day, 09:00–18:00
STORE_HOURS = "store-hours"  # calendars.services.PRESETS: daily 08–22, the store's zone
PRODUCTION = "ru-production"  # Mon–Fri 09–18 with Russian holidays, the store's zone


class PolicySpec(NamedTuple):
    priority: str
    response: int  # seconds
    arrival: int | None  # seconds; None: no arrival target (planned work)
    resolution: int  # seconds
    calendar: str  # a preset code
    category: str = ""  # empty: every category without its own policy


_P1, _P2, _P3, _P4 = Priority.P1, Priority.P2, Priority.P3, Priority.P4

# Client contract targets, by chain code. The tightest arrival (4 h) and resolution (8 h)
# bound every partner's OLA (``demo_data.OLA_*``).
POLICIES: dict[str, tuple[PolicySpec, ...]] = {
    data.GROCERY.code: (
        PolicySpec(_P1, 15 * MINUTE, 4 * HOUR, 8 * HOUR, STORE_HOURS),
        PolicySpec(_P2, 30 * MINUTE, 8 * HOUR, 24 * HOUR, STORE_HOURS),
        PolicySpec(_P3, 2 * HOUR, None, 3 * WORKING_DAY, PRODUCTION),
        PolicySpec(_P4, 8 * HOUR, None, 10 * WORKING_DAY, PRODUCTION),
    ),
    data.FASHION.code: (
        PolicySpec(_P1, 30 * MINUTE, 6 * HOUR, 12 * HOUR, STORE_HOURS),
        PolicySpec(_P2, 1 * HOUR, 12 * HOUR, 36 * HOUR, STORE_HOURS),
        PolicySpec(_P3, 4 * HOUR, None, 5 * WORKING_DAY, PRODUCTION),
        PolicySpec(_P4, 1 * WORKING_DAY, None, 15 * WORKING_DAY, PRODUCTION),
    ),
    data.PHARMACY.code: (
        PolicySpec(_P1, 20 * MINUTE, 5 * HOUR, 10 * HOUR, STORE_HOURS),
        PolicySpec(_P2, 45 * MINUTE, 10 * HOUR, 30 * HOUR, STORE_HOURS),
        PolicySpec(_P3, 3 * HOUR, None, 4 * WORKING_DAY, PRODUCTION),
        PolicySpec(_P4, 8 * HOUR, None, 10 * WORKING_DAY, PRODUCTION),
        # A pharmacy whose fiscal printer is down cannot sell: P1 targets for P2/P3 too.
        PolicySpec(_P2, 15 * MINUTE, 4 * HOUR, 8 * HOUR, STORE_HOURS, Category.FISCAL),
        PolicySpec(_P3, 15 * MINUTE, 4 * HOUR, 8 * HOUR, STORE_HOURS, Category.FISCAL),
    ),
}


# --- policies and OLA ---------------------------------------------------------------------


def sla_terms_ensure(*, clients: dict[str, Client], partners: dict[str, Partner]) -> dict:
    """Presets, the chains' policies and the partners' OLA calendars that are missing; then
    check every partner contract's OLA against the client SLAs. Returns counts by label."""
    before = BusinessCalendar.objects.count()
    presets = calendar_presets_ensure()
    counts = {"calendars": BusinessCalendar.objects.count() - before}
    counts["SLA policies"] = _policies_ensure(clients, presets)
    calendars, contracts = _ola_calendars_ensure(partners)
    counts["calendars"] += calendars
    counts["partner contracts on own hours"] = contracts
    ola_validate()
    return counts


def _policies_ensure(clients: dict[str, Client], presets: dict[str, BusinessCalendar]) -> int:
    new = []
    for spec in data.CHAINS:
        contract = ClientContract.objects.get(
            client=clients[spec.code], number=spec.contract_number
        )
        have = set(contract.sla_policies.values_list("priority", "category"))
        new += [
            SlaPolicy(
                contract=contract,
                priority=p.priority,
                category=p.category,
                response_seconds=p.response,
                arrival_seconds=p.arrival,
                resolution_seconds=p.resolution,
                calendar=presets[p.calendar],
                pause_statuses=[S.WAITING_CLIENT],
            )
            for p in POLICIES[spec.code]
            if (p.priority, p.category) not in have
        ]
    SlaPolicy.objects.bulk_create(new)
    return len(new)


def _ola_calendars_ensure(partners: dict[str, Partner]) -> tuple[int, int]:
    """Each listed partner's own hours as a calendar, set on its contracts that have none."""
    zones = {row.code: row.time_zone for row in REGIONS}
    specs = {spec.slug: spec for spec in data.PARTNERS}
    created_calendars = updated_contracts = 0
    for slug, (weekdays, opens, closes) in data.OLA_HOURS.items():
        spec = specs[slug]
        calendar, created = BusinessCalendar.objects.get_or_create(
            code=f"ola-{slug}",
            defaults={
                "name": f"{spec.name}: {_days(weekdays)} {opens:02d}:00–{closes:02d}:00",
                "time_zone": zones[spec.home],
            },
        )
        if created:
            WorkingInterval.objects.bulk_create(
                WorkingInterval(
                    calendar=calendar, weekday=d, opens=time(opens), closes=time(closes)
                )
                for d in weekdays
            )
            created_calendars += 1
        updated_contracts += PartnerContract.objects.filter(
            partner=partners[slug], ola_calendar__isnull=True
        ).update(ola_calendar=calendar)
    return created_calendars, updated_contracts


def _days(weekdays: tuple[int, ...]) -> str:
    names = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
    return f"{names[weekdays[0]]}–{names[weekdays[-1]]}"


def ola_validate() -> None:
    """Every active partner contract's OLA must be at least as tight as the client SLAs
    (``sla.services.validate_ola_against_sla``); the seed stops with the reasons if not."""
    problems = []
    for contract in PartnerContract.objects.filter(is_active=True).select_related("partner"):
        try:
            sla.validate_ola_against_sla(contract)
        except ValidationFailed as exc:
            reasons = "; ".join(m for messages in exc.fields.values() for m in messages)
            problems.append(f"{contract.partner} ({contract.number}): {reasons or exc.message}")
    if problems:
        raise RuntimeError(
            "Partner OLA looser than the client SLA it underpins (fix the contract in the "
            "admin, or drop a demo database seeded before the SLA data): " + " | ".join(problems)
        )


# --- clocks for the history ---------------------------------------------------------------

_REPLAYED = (
    EventKind.COMMENTED,
    EventKind.ASSIGNED,
    EventKind.UNASSIGNED,
    EventKind.STATUS_CHANGED,
    EventKind.REOPENED,
)


class _Row(NamedTuple):
    kind: str
    at: datetime
    data: dict
    internal: bool
    role: str


def history_clocks(*, client: Client) -> dict[str, int]:
    """Drive the SLA engine along the timeline of each of the client's tickets that has no
    clock yet. Run it inside the client's transaction. Returns counts by label."""
    tickets = list(
        Ticket.objects.filter(client=client)
        .annotate(n_clocks=Count("clocks"))
        .filter(n_clocks=0)
        .order_by("created_at", "pk")
    )
    if not tickets:
        return {}
    before = _table_counts()
    rows: dict[int, list[_Row]] = defaultdict(list)
    events = (
        TicketEvent.objects.filter(ticket__in=[t.pk for t in tickets], kind__in=_REPLAYED)
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "kind", "created_at", "data", "is_internal", "actor_role")
    )
    for ticket_id, *row in events:
        rows[ticket_id].append(_Row(*row))
    pausing = _pause_statuses(client)
    changes: dict[int, list[sla.ClockChange]] = defaultdict(list)
    for ticket in tickets:
        _Replay(ticket, pausing, changes).run(rows[ticket.pk])
    _record(changes, {t.pk: t for t in tickets})
    after = _table_counts()
    return {label: after[label] - before[label] for label in after if after[label] > before[label]}


def _pause_statuses(client: Client) -> frozenset[str]:
    lists = SlaPolicy.objects.filter(contract__client=client).values_list(
        "pause_statuses", flat=True
    )
    return frozenset(s for listed in lists for s in listed) or frozenset({S.WAITING_CLIENT})


class _Replay:
    """One ticket's timeline through the engine, in time order (``tickets.clocks``' rules)."""

    def __init__(
        self, ticket: Ticket, pausing: frozenset[str], changes: dict[int, list[sla.ClockChange]]
    ) -> None:
        self.ticket = ticket
        self.terms = ticket_terms(ticket)
        self.pausing = pausing
        self.changes = changes
        self.status: str = S.NEW
        self.partner_id: int | None = None
        self.responded = False

    def add(self, changes: Iterable[sla.ClockChange]) -> None:
        for change in changes:
            self.changes[change.ticket_id].append(change)

    def sweep(self, at: datetime, *, inclusive: bool) -> None:
        """Record every warning and breach reached by ``at`` (just before it if not
        ``inclusive``), with the instant it was reached, as the beat would have."""
        now = at if inclusive else at - timedelta(microseconds=1)
        while True:
            thresholds = sla.sweep_batch(now=now)
            self.add(t.as_change() for t in thresholds)
            if len(thresholds) < 5000:
                return

    def stop(self, metrics: list[str], at: datetime, agreement: str | None = None) -> None:
        self.sweep(at, inclusive=False)
        self.add(
            sla.clocks_stop(ticket_id=self.ticket.pk, metrics=metrics, at=at, agreement=agreement)
        )

    def cancel(self, at: datetime, partner_id: int | None = None) -> None:
        self.sweep(at, inclusive=True)
        agreement = Agreement.OLA if partner_id else None
        self.add(
            sla.clocks_cancel(
                ticket_id=self.ticket.pk, at=at, agreement=agreement, partner_id=partner_id
            )
        )

    def pause(self, status: str, at: datetime) -> None:
        self.sweep(at, inclusive=True)
        self.add(sla.clocks_pause(ticket_id=self.ticket.pk, status=status, at=at))

    def run(self, rows: list[_Row]) -> None:
        self.add(sla.sla_clocks_start(terms=self.terms, at=self.ticket.created_at))
        for row in rows:
            if row.kind == EventKind.COMMENTED:
                self.commented(row)
            elif row.kind == EventKind.ASSIGNED:
                self.assigned(row)
            elif row.kind == EventKind.UNASSIGNED:
                if self.partner_id is not None:
                    self.cancel(row.at, partner_id=self.partner_id)
                    self.partner_id = None
            else:
                self.status_changed(row.data["from"], row.data["to"], row.at)

    def commented(self, row: _Row) -> None:
        """The first public reply of provider staff or a partner is the response."""
        staff = row.role not in CLIENT_ROLES and row.role != "system"
        if self.responded or row.internal or not staff:
            return
        self.responded = True
        self.stop([Metric.RESPONSE], row.at, agreement=Agreement.SLA)

    def assigned(self, row: _Row) -> None:
        """A new partner holds the job: the previous one's OLA stops, the new one's starts."""
        partner_id = row.data.get("partner_id")
        if partner_id is None or partner_id == self.partner_id:
            return  # the partner naming its engineer
        if self.partner_id is not None:
            self.cancel(row.at, partner_id=self.partner_id)
        self.partner_id = partner_id
        self.add(
            sla.ola_clocks_start(
                terms=self.terms,
                partner_id=partner_id,
                at=row.at,
                with_acceptance=self.status != S.WAITING_CLIENT,
            )
        )
        if self.status in self.pausing:
            self.pause(self.status, row.at)

    def status_changed(self, from_status: str, to_status: str, at: datetime) -> None:
        self.status = to_status
        if to_status == S.CANCELLED:
            self.cancel(at)
            return
        if from_status == S.RESOLVED and to_status == S.NEW:
            self.sweep(at, inclusive=True)
            self.add(sla.sla_clocks_restart(terms=self.terms, at=at))
            return
        if from_status in self.pausing and to_status not in self.pausing:
            self.add(sla.clocks_resume(ticket_id=self.ticket.pk, at=at))
        if to_status == S.ACCEPTED:
            self.stop([Metric.RESPONSE, Metric.ACCEPTANCE], at)
        elif to_status == S.ON_SITE:
            self.stop([Metric.RESPONSE, Metric.ACCEPTANCE, Metric.ARRIVAL], at)
        elif to_status == S.RESOLVED:
            self.stop(list(Metric.values), at)
        if to_status in self.pausing and from_status not in self.pausing:
            self.pause(to_status, at)


def _record(changes: dict[int, list[sla.ClockChange]], tickets: dict[int, Ticket]) -> None:
    """Each ticket's clock changes as its SLA timeline entries, in time order. A sweep may
    have reached a still-running clock of another ticket (an open one replayed earlier)."""
    missing = [pk for pk in changes if pk not in tickets]
    tickets = {**tickets, **Ticket.objects.in_bulk(missing)}
    for ticket_id in sorted(changes):
        ordered = sorted(changes[ticket_id], key=lambda change: change.at)
        clock_events_record(ticket=tickets[ticket_id], actor=None, changes=ordered)


def _table_counts() -> dict[str, int]:
    return {
        "SLA clocks": SlaClock.objects.count(),
        "SLA pauses": SlaPause.objects.count(),
        "clock thresholds": ClockThreshold.objects.count(),
        "SLA events": TicketEvent.objects.filter(kind=EventKind.SLA).count(),
    }


def open_clocks_sweep(*, now: datetime) -> SweepResult:
    """What the open tickets' clocks have reached by ``now``, as the beat would record it
    (timeline entries and one escalation per ticket)."""
    return sla_sweep(now=now)


def clock_outcomes() -> dict[str, dict[str, int]]:
    """Stopped SLA clocks per chain: met, breached and cancelled (for the seed's report)."""
    rows = (
        SlaClock.objects.filter(agreement=Agreement.SLA)
        .values_list("ticket__client__code")
        .annotate(
            met=Count("pk", filter=Q(state="met")),
            breached=Count("pk", filter=Q(state="breached")),
            running=Count("pk", filter=Q(state__in=["running", "paused"])),
        )
    )
    return {code: {"met": m, "breached": b, "open": r} for code, m, b, r in rows}
