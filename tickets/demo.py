"""Demo data: three retail chains, their stores and equipment, a partner network, demo logins
and about three months of ticket history (``python manage.py seed_demo``).

The data are deterministic: every part draws from its own ``random.Random`` seeded from
``SEED`` and the part's name, so a part that is skipped on a second run does not shift the
others. The seed is idempotent: rows are looked up by natural keys (client codes, store
codes, organisation names, usernames) and only what is missing is created; a client that
already has tickets gets no more history.

Writes go straight to the models in bulk rather than through ``tickets.services``: the
history happened in the past (timestamps are set, not ``now()``), and going row by row
through the services would take minutes. The rows follow the same rules the services keep:
allowed transitions, one event per change, numbers in sequence per client. The SLA side
(``tickets.demo_sla``) is the exception that proves the rule: client policies and partner
OLAs are set up first, and each ticket's clocks come from replaying its timeline through the
real SLA engine, so every due time, warning, breach and outcome is the engine's own.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TextIO

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from clients.models import Client, ClientContract, Equipment, Region, Store, StoreStaffAssignment
from clients.regions import regions_load
from clients.regions_data import REGIONS
from partners.choices import PartnerKind
from partners.models import Certification, Competency, Coverage, Partner, PartnerContract
from servicedesk.choices import OrganisationKind, Role
from servicedesk.models import Membership, Organisation, User
from tickets import demo_data as data
from tickets import demo_sla
from tickets.demo_history import HistoryCast, history_build, history_write
from tickets.models import Ticket

SEED = 2026
DEMO_PASSWORD = "demo"
PROVIDER_NAME = "ООО «СервисДеск»"
BATCH = 2000
ZONES = {row.code: row.time_zone for row in REGIONS}
COUNTRIES = {row.code: row.country for row in REGIONS}


def rng_for(*parts: object) -> random.Random:
    """A generator seeded from ``SEED`` and ``parts``: the same parts give the same numbers."""
    return random.Random(":".join(str(p) for p in (SEED, *parts)))


@dataclass
class SeedReport:
    """What one run created, by table, and how long it took."""

    created: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    now: datetime | None = None  # the instant the data were made for

    def add(self, label: str, count: int) -> None:
        if count:
            self.created[label] = self.created.get(label, 0) + count

    def lines(self) -> list[str]:
        if not self.created:
            rows = ["Demo data already present: nothing created."]
        else:
            rows = [f"  {label}: {count}" for label, count in self.created.items()]
            rows.insert(0, "Created:")
        return [*rows, *self.notes, f"Done in {self.seconds:.1f} s."]


@dataclass
class _Context:
    now: datetime
    report: SeedReport
    out: TextIO | None
    regions: dict[str, Region] = field(default_factory=dict)
    competencies: dict[str, Competency] = field(default_factory=dict)
    partners: dict[str, Partner] = field(default_factory=dict)  # slug -> partner
    clients: dict[str, Client] = field(default_factory=dict)  # code -> client
    provider: Organisation | None = None

    @property
    def today(self) -> date:
        return self.now.date()

    def say(self, message: str) -> None:
        if self.out is not None:
            self.out.write(message + "\n")


def seed_demo(*, stdout: TextIO | None = None, now: datetime | None = None) -> SeedReport:
    """Create whatever part of the demo data is missing and report what was created."""
    started = time.monotonic()
    ctx = _Context(now=now or timezone.now(), report=SeedReport(), out=stdout)
    ctx.report.now = ctx.now
    with transaction.atomic():
        _seed_reference(ctx)
        _seed_partners(ctx)
    for spec in data.CHAINS:
        with transaction.atomic():
            _seed_chain(ctx, spec)
    gaps = coverage_gaps()
    if gaps:
        raise RuntimeError(f"Regions with fewer than two operational partners: {gaps}")
    with transaction.atomic():
        _seed_sla_terms(ctx)
    with transaction.atomic():
        _seed_users(ctx)
    cast = _history_cast(ctx)
    replayed = False
    for spec in data.CHAINS:
        with transaction.atomic():
            _seed_history(ctx, spec, cast)
            replayed |= _seed_clocks(ctx, spec)
    if replayed:
        _sweep_open_clocks(ctx)
    ctx.report.seconds = time.monotonic() - started
    return ctx.report


# --- reference data -----------------------------------------------------------------------


def _seed_reference(ctx: _Context) -> None:
    """The provider, all regions and the competency catalogue."""
    ctx.provider, created = Organisation.objects.get_or_create(
        kind=OrganisationKind.PROVIDER, defaults={"name": PROVIDER_NAME}
    )
    ctx.report.add("provider", int(created))
    before = Region.objects.count()
    regions_load()
    ctx.report.add("regions", Region.objects.count() - before)
    ctx.regions = {region.code: region for region in Region.objects.all()}
    for spec in data.COMPETENCIES:
        competency, created = Competency.objects.get_or_create(
            code=spec.code, defaults={"name": spec.name, "equipment_kind": spec.equipment_kind}
        )
        ctx.competencies[spec.code] = competency
        ctx.report.add("competencies", int(created))


def _inn(rng: random.Random, region_prefix: str) -> str:
    """A 10-digit INN of a legal entity with a valid check digit."""
    body = region_prefix + "".join(str(rng.randint(0, 9)) for _ in range(7))
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11 % 10
    return body + str(check)


def _phone(rng: random.Random, country: str) -> str:
    prefix = data.PHONE_PREFIXES.get(country, "+7 9")
    digits = f"{rng.randint(0, 99):02d}" if prefix.endswith("9") else ""
    return f"{prefix}{digits} {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"


# --- partner network ----------------------------------------------------------------------


def _seed_partners(ctx: _Context) -> None:
    """Each partner with its coverage, certifications and contract, created together once."""
    existing = {
        p.organisation.name: p
        for p in Partner.objects.select_related("organisation").filter(
            organisation__kind=OrganisationKind.PARTNER
        )
    }
    for spec in data.PARTNERS:
        legal_name = f"ООО «{spec.name}»"
        partner = existing.get(legal_name)
        if partner is None:
            partner = _create_partner(ctx, spec, legal_name)
        ctx.partners[spec.slug] = partner


def _create_partner(ctx: _Context, spec: data.PartnerSpec, legal_name: str) -> Partner:
    rng = rng_for("partner", spec.slug)
    org = Organisation.objects.create(kind=OrganisationKind.PARTNER, name=legal_name)
    partner = Partner.objects.create(
        organisation=org,
        name=spec.name,
        kind=spec.kind,
        tax_id=_inn(rng, f"{rng.randint(10, 89):02d}"),
        email=f"dispatch@{spec.slug}.example",
        phone=_phone(rng, COUNTRIES[spec.home]),
    )
    Coverage.objects.bulk_create(
        Coverage(
            partner=partner,
            region=ctx.regions[code],
            capacity=rng.randint(10, 20) if code == spec.home else rng.randint(3, 12),
        )
        for code in spec.region_codes
    )
    certifications = _certifications(ctx, spec, partner, rng)
    Certification.objects.bulk_create(certifications)
    PartnerContract.objects.create(**_contract_terms(spec, partner, rng))
    report = ctx.report
    report.add("partners", 1)
    report.add("coverage", len(spec.region_codes))
    report.add("certifications", len(certifications))
    report.add("partner contracts", 1)
    return partner


def _certifications(
    ctx: _Context, spec: data.PartnerSpec, partner: Partner, rng: random.Random
) -> list[Certification]:
    """Valid certificates, and for operational partners (not the demo one) a few that
    expired weeks ago, so dispatch ranking has someone to leave out."""
    prefixes = {c.code: c.cert_prefix for c in data.COMPETENCIES}
    rows = []
    for code in spec.competencies:
        expired = (
            spec.kind == PartnerKind.OPERATIONAL
            and spec.slug != data.DEMO_PARTNER_SLUG
            and rng.random() < 0.12
        )
        if expired:
            expires_on = ctx.today - timedelta(days=rng.randint(5, 120))
            issued_on = expires_on - timedelta(days=730)
        else:
            issued_on = ctx.today - timedelta(days=rng.randint(150, 700))
            expires_on = issued_on + timedelta(days=rng.choice((730, 1095)))
        rows.append(
            Certification(
                partner=partner,
                competency=ctx.competencies[code],
                number=f"{prefixes[code]}-{rng.randint(10000, 99999)}",
                issued_on=issued_on,
                expires_on=expires_on,
            )
        )
    return rows


def _contract_terms(spec: data.PartnerSpec, partner: Partner, rng: random.Random) -> dict:
    """Rates in RUB and OLA targets: accept in 15–30 min, arrive in 2–4 h, fix in 4–8 h."""
    fee = {"operational": (2500, 6000), "specialist": (15000, 40000), "strategic": (30000, 90000)}
    low, high = fee[spec.kind]
    return {
        "partner": partner,
        "number": f"ПД-2025/{rng.randint(100, 999)}",
        "starts_on": date(2025, 1, 1) + timedelta(days=rng.randint(0, 180)),
        "currency": "RUB",
        "visit_fee": Decimal(rng.randrange(low, high + 1, 100)),
        "hourly_rate": Decimal(rng.randrange(1200, 3001, 100)),
        "accept_within_seconds": rng.choice(data.OLA_ACCEPT_MINUTES) * 60,
        "arrive_within_seconds": rng.choice(data.OLA_ARRIVE_HOURS) * 3600,
        "resolve_within_seconds": rng.choice(data.OLA_RESOLVE_HOURS) * 3600,
        "penalty_percent_per_hour": Decimal(rng.choice((5, 10, 15))),
        "penalty_cap_percent": Decimal(rng.choice((50, 100))),
    }


def coverage_gaps(min_partners: int = 2) -> dict[str, int]:
    """Regions with an active store but fewer than ``min_partners`` active operational
    partners covering them: region code -> number of partners."""
    store_regions = set(
        Store.objects.filter(is_active=True).values_list("region__code", flat=True).distinct()
    )
    covered = dict(
        Coverage.objects.filter(partner__kind=PartnerKind.OPERATIONAL, partner__is_active=True)
        .values_list("region__code")
        .annotate(n=Count("partner", distinct=True))
    )
    return {
        code: covered.get(code, 0)
        for code in sorted(store_regions)
        if covered.get(code, 0) < min_partners
    }


# --- chains, stores, equipment ------------------------------------------------------------


def _seed_chain(ctx: _Context, spec: data.ChainSpec) -> None:
    """The client with its organisation and contract, then any store it is missing."""
    client = Client.objects.filter(code=spec.code).first()
    if client is None:
        org = Organisation.objects.create(kind=OrganisationKind.CLIENT, name=spec.legal_name)
        client = Client.objects.create(
            organisation=org,
            code=spec.code,
            name=spec.name,
            # The grocery chain lets the platform offer field jobs on its own; the others
            # keep a dispatcher in the loop.
            auto_dispatch=spec.code == "GMT",
        )
        ctx.report.add("clients", 1)
    ctx.clients[spec.code] = client
    _, created = ClientContract.objects.get_or_create(
        client=client,
        number=spec.contract_number,
        defaults={"starts_on": date(2025, 1, 1), "ends_on": date(2027, 12, 31)},
    )
    ctx.report.add("client contracts", int(created))
    existing = set(Store.objects.filter(client=client).values_list("code", flat=True))
    stores = [s for s in _plan_stores(ctx, spec, client) if s.code not in existing]
    Store.objects.bulk_create(stores, batch_size=BATCH)
    equipment = [item for store in stores for item in _plan_equipment(ctx, spec, store)]
    Equipment.objects.bulk_create(equipment, batch_size=BATCH)
    ctx.report.add("stores", len(stores))
    ctx.report.add("equipment", len(equipment))


def _plan_stores(ctx: _Context, spec: data.ChainSpec, client: Client) -> list[Store]:
    """Every store of the chain, numbered in the order of ``spec.stores``."""
    rng = rng_for("stores", spec.code)
    stores: list[Store] = []
    addresses: set[tuple[str, str]] = set()
    per_city: dict[str, int] = {}
    for region_code, count in spec.stores.items():
        cities = data.CITIES[region_code]
        for _ in range(count):
            city = cities[0] if len(cities) == 1 or rng.random() < 0.55 else rng.choice(cities)
            per_city[city.name] = per_city.get(city.name, 0) + 1
            address = _address(rng, region_code, city.name, addresses)
            lat, lon = _jitter(rng, city)
            stores.append(
                Store(
                    client=client,
                    code=f"{spec.code}-{len(stores) + 1:04d}",
                    name=f"{spec.name} {city.name} №{per_city[city.name]}",
                    region=ctx.regions[region_code],
                    city=city.name,
                    address=address,
                    time_zone=ZONES[region_code],
                    latitude=lat,
                    longitude=lon,
                    phone=_phone(rng, COUNTRIES[region_code]),
                )
            )
    return stores


def _address(rng: random.Random, region_code: str, city: str, taken: set) -> str:
    streets = data.LOCAL_STREETS.get(region_code, data.STREETS)
    while True:
        address = f"{rng.choice(streets)}, {rng.randint(1, 160)}"
        if (city, address) not in taken:
            taken.add((city, address))
            return address


def _jitter(rng: random.Random, city: data.City) -> tuple[Decimal, Decimal]:
    """A point within the city's radius (uniform over the disc)."""
    distance_km = city.radius_km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    lat = city.lat + distance_km * math.cos(bearing) / 111.32
    lon = city.lon + distance_km * math.sin(bearing) / (111.32 * math.cos(math.radians(city.lat)))
    return Decimal(f"{lat:.6f}"), Decimal(f"{lon:.6f}")


def _plan_equipment(ctx: _Context, spec: data.ChainSpec, store: Store) -> list[Equipment]:
    """Registers with a fiscal printer and a card terminal each, CCTV, network gear,
    self-checkouts in the larger grocery stores and scales in grocery ones."""
    rng = rng_for("equipment", store.code)
    registers = rng.randint(*spec.registers)
    counts = {
        "register": registers,
        "printer": registers,
        "terminal": registers,
        "cctv": rng.randint(*spec.cctv),
        "router": 1,
        "switch": 1,
        "self_checkout": rng.randint(2, 6) if spec.has_scales and registers >= 5 else 0,
        "scales": rng.randint(1, 3) if spec.has_scales else 0,
    }
    serials: set[str] = set()
    items = []
    for key, count in counts.items():
        kind, models, prefix = data.EQUIPMENT[key]
        model = rng.choice(models)  # one model per kind and store, as chains buy in batches
        for _ in range(count):
            serial = f"{prefix}{rng.randint(10**7, 10**8 - 1)}"
            while serial in serials:
                serial = f"{prefix}{rng.randint(10**7, 10**8 - 1)}"
            serials.add(serial)
            installed = ctx.today - timedelta(days=rng.randint(30, 2200))
            items.append(
                Equipment(
                    store=store,
                    kind=kind,
                    model=model,
                    serial_number=serial,
                    installed_on=installed,
                    warranty_until=installed + timedelta(days=365 * rng.randint(1, 3)),
                )
            )
    return items


# --- people -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    username: str
    first_name: str
    last_name: str
    role: str
    organisation_id: int
    time_zone: str


def _seed_users(ctx: _Context) -> None:
    """Named demo logins and each partner's staff, all with password ``demo``."""
    people = _provider_and_client_people(ctx) + _partner_people(ctx)
    existing = set(
        User.objects.filter(username__in=[p.username for p in people]).values_list(
            "username", flat=True
        )
    )
    new = [p for p in people if p.username not in existing]
    if new:
        password = make_password(DEMO_PASSWORD)  # hash once: hashing is slow on purpose
        User.objects.bulk_create(
            User(
                username=p.username,
                first_name=p.first_name,
                last_name=p.last_name,
                email=f"{p.username}@demo.example",
                password=password,
                time_zone=p.time_zone,
                language="ru",
                # Provider admins run the Django admin too.
                is_staff=p.role == Role.PROVIDER_ADMIN,
                is_superuser=p.role == Role.PROVIDER_ADMIN,
            )
            for p in new
        )
    ctx.report.add("users", len(new))
    _seed_memberships(ctx, people)


def _provider_and_client_people(ctx: _Context) -> list[_Person]:
    orgs = {"provider": ctx.provider.pk} | {code: c.pk for code, c in ctx.clients.items()}
    orgs |= {slug: p.pk for slug, p in ctx.partners.items()}
    return [
        _Person(u.username, u.first_name, u.last_name, u.role, orgs[u.org], u.time_zone)
        for u in data.DEMO_USERS
    ]


def _partner_people(ctx: _Context) -> list[_Person]:
    """A manager and a few engineers per partner; the demo partner's first two are the
    ``partner`` and ``engineer`` logins."""
    people = []
    for spec in data.PARTNERS:
        rng = rng_for("people", spec.slug)
        org_id = ctx.partners[spec.slug].pk
        zone = ZONES[spec.home]
        demo = spec.slug == data.DEMO_PARTNER_SLUG
        staff = [] if demo else [(f"{spec.slug}.manager", Role.PARTNER_MANAGER)]
        first_engineer = 2 if demo else 1
        staff += [
            (f"{spec.slug}.eng{n}", Role.PARTNER_ENGINEER)
            for n in range(first_engineer, spec.engineers + 1)
        ]
        for username, role in staff:
            first, last = _russian_name(rng)
            people.append(_Person(username, first, last, role, org_id, zone))
    return people


def _russian_name(rng: random.Random) -> tuple[str, str]:
    surname = rng.choice(data.SURNAMES)
    if rng.random() < 0.3:
        return rng.choice(data.FEMALE_FIRST), surname + "а"
    return rng.choice(data.MALE_FIRST), surname


def _seed_memberships(ctx: _Context, people: list[_Person]) -> None:
    users = dict(
        User.objects.filter(username__in=[p.username for p in people]).values_list("username", "pk")
    )
    existing = set(
        Membership.objects.filter(user_id__in=users.values()).values_list(
            "user_id", "organisation_id", "role"
        )
    )
    wanted = [(users[p.username], p.organisation_id, p.role) for p in people]
    new = [Membership(user_id=u, organisation_id=o, role=r) for u, o, r in wanted]
    new = [m for m in new if (m.user_id, m.organisation_id, m.role) not in existing]
    Membership.objects.bulk_create(new)
    ctx.report.add("memberships", len(new))
    store = demo_store(ctx.clients[data.GROCERY.code])
    membership = Membership.objects.get(user_id=users["store"], role=Role.STORE_STAFF)
    _, created = StoreStaffAssignment.objects.get_or_create(membership=membership, store=store)
    ctx.report.add("store staff assignments", int(created))


def demo_store(client: Client) -> Store:
    """The grocery store the ``store`` login works in: the chain's first Moscow store."""
    return Store.objects.filter(client=client, region__code="RU-MOW").order_by("code").first()


# --- ticket history -----------------------------------------------------------------------


def _history_cast(ctx: _Context) -> HistoryCast:
    """Who does what in the stories: dispatchers, client people, partner staff."""
    named = User.objects.filter(username__in=[u.username for u in data.DEMO_USERS])
    users = {u.username: u for u in named}
    managers = {u.org: users[u.username] for u in data.DEMO_USERS if u.role == Role.CLIENT_MANAGER}
    staff: dict[int, tuple[User | None, list[User]]] = {}
    memberships = Membership.objects.filter(
        role__in=[Role.PARTNER_MANAGER, Role.PARTNER_ENGINEER],
        organisation__kind=OrganisationKind.PARTNER,
    ).select_related("user")
    for m in memberships.order_by("user__username"):
        manager, engineers = staff.get(m.organisation_id, (None, []))
        if m.role == Role.PARTNER_MANAGER:
            manager = m.user
        else:
            engineers.append(m.user)
        staff[m.organisation_id] = (manager, engineers)
    return HistoryCast(
        now=ctx.now,
        dispatchers=[users["dispatcher"], users["dispatcher2"]],
        client_managers=managers,
        store_user=users["store"],
        store_id=demo_store(ctx.clients[data.GROCERY.code]).pk,
        partner_staff=staff,
        demo_partner_id=ctx.partners[data.DEMO_PARTNER_SLUG].pk,
        demo_engineer=users["engineer"],
    )


def _seed_history(ctx: _Context, spec: data.ChainSpec, cast: HistoryCast) -> None:
    """About three months of tickets for a chain that has none yet."""
    client = ctx.clients[spec.code]
    if Ticket.objects.filter(client=client).exists():
        ctx.report.notes.append(f"{spec.code}: has tickets already, history skipped.")
        return
    plans = history_build(client=client, spec=spec, cast=cast, rng=rng_for("history", spec.code))
    counts = history_write(plans)
    Client.objects.filter(pk=client.pk).update(ticket_sequence=len(plans))
    for label, count in counts.items():
        ctx.report.add(label, count)
    ctx.say(f"{spec.code}: {len(plans)} tickets.")


# --- SLA ----------------------------------------------------------------------------------


def _seed_sla_terms(ctx: _Context) -> None:
    """Calendar presets, the chains' SLA policies, partners' own hours; OLAs checked."""
    counts = demo_sla.sla_terms_ensure(clients=ctx.clients, partners=ctx.partners)
    for label, count in counts.items():
        ctx.report.add(label, count)


def _seed_clocks(ctx: _Context, spec: data.ChainSpec) -> bool:
    """The SLA clocks of the chain's tickets that have none, replayed through the engine;
    ``True`` when some were."""
    started = time.monotonic()
    counts = demo_sla.history_clocks(client=ctx.clients[spec.code])
    for label, count in counts.items():
        ctx.report.add(label, count)
    if counts:
        ctx.say(f"{spec.code}: SLA clocks replayed in {time.monotonic() - started:.1f} s.")
    return bool(counts)


def _sweep_open_clocks(ctx: _Context) -> None:
    """Warnings and breaches the open tickets have reached by now, then the outcomes."""
    result = demo_sla.open_clocks_sweep(now=ctx.now)
    ctx.report.add("clock thresholds", result.warnings + result.breaches)
    ctx.report.add("SLA events", result.warnings + result.breaches)
    for code, outcome in sorted(demo_sla.clock_outcomes().items()):
        stopped = outcome["met"] + outcome["breached"]
        share = outcome["met"] / stopped if stopped else 0.0
        ctx.report.notes.append(
            f"{code}: SLA clocks met {outcome['met']}, missed {outcome['breached']} "
            f"({share:.0%} met), open {outcome['open']}."
        )
