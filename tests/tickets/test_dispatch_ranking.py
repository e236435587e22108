"""Ranking operational partners for a field job: who is in, who is out and why, in what order.

The job is at a St Petersburg store on Mon 2026-12-07 (``T0``). Scores are worked out by hand
with the documented formula (``tickets.dispatch``):

    score = 0.5 × (met + 7) / (met + breached + 10) + 0.3 × (1 − open/capacity) + 0.2 × price
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendars.services import calendar_presets_ensure
from partners.models import Competency
from sla.models import SlaClock
from tests.factories import (
    CertificationFactory,
    CompetencyFactory,
    CoverageFactory,
    PartnerContractFactory,
    PartnerFactory,
    RegionFactory,
    StoreFactory,
    TicketFactory,
)
from tests.tickets.dispatch_support import T0
from tickets.dispatch import partners_rank
from tickets.models import Offer


@pytest.fixture
def spb(world):
    region = RegionFactory(
        code="RU-SPE",
        name_ru="Санкт-Петербург",
        name_en="Saint Petersburg",
        time_zone="Europe/Moscow",
    )
    store = StoreFactory(
        client=world.client_a,
        region=region,
        code="SPB1",
        latitude=Decimal("59.934300"),
        longitude=Decimal("30.335100"),
    )
    competency = CompetencyFactory()  # "cash-registers", the world's
    ticket = TicketFactory(
        store=store, number=900, needs_visit=True, competency=competency, priority="p1"
    )
    return region, store, competency, ticket


def make_partner(
    name: str,
    region,
    competency: Competency,
    *,
    capacity: int = 5,
    fee: str = "3500.00",
    cert: tuple[date, date] | None = (date(2026, 1, 1), date(2027, 12, 31)),
    contract: bool = True,
    active: bool = True,
):
    partner = PartnerFactory(organisation__name=name, is_active=active)
    if region is not None:
        CoverageFactory(partner=partner, region=region, capacity=capacity)
    if contract:
        PartnerContractFactory(partner=partner, visit_fee=Decimal(fee))
    if cert is not None:
        CertificationFactory(
            partner=partner, competency=competency, issued_on=cert[0], expires_on=cert[1]
        )
    return partner


def ola_history(partner, ticket, *, met=0, breached=0, cancelled=0, days_ago=10) -> None:
    """Stopped OLA clocks of ``partner`` (on any ticket) ``days_ago`` before T0."""
    calendar = calendar_presets_ensure()["24x7"]
    stopped = T0 - timedelta(days=days_ago)
    rows = [
        SlaClock(
            ticket=ticket,
            agreement="ola",
            partner=partner,
            metric="arrival",
            calendar=calendar,
            time_zone="Europe/Moscow",
            target_seconds=7200,
            warning_threshold=Decimal("0.75"),
            state=state,
            started_at=stopped - timedelta(hours=3),
            stopped_at=stopped,
            breached_at=stopped if state == "breached" else None,
        )
        for state, count in (("met", met), ("breached", breached), ("cancelled", cancelled))
        for _ in range(count)
    ]
    SlaClock.objects.bulk_create(rows)


@pytest.fixture
def field(world, spb):
    """Three eligible partners with known compliance, load and price, and the left-outs."""
    region, store, competency, ticket = spb
    moscow = world.store_a1.region
    alfa = make_partner("Alfa", region, competency, capacity=4, fee="3000.00")
    beta = make_partner("Beta", region, competency, capacity=2, fee="5000.00")
    gamma = make_partner("Gamma", region, competency, capacity=5, fee="4000.00")
    make_partner("Delta", region, competency, cert=(date(2025, 7, 1), date(2026, 6, 30)))
    make_partner("Echo", moscow, competency)
    foxtrot = make_partner("Foxtrot", region, competency, capacity=1)
    make_partner("Golf", region, competency, active=False)
    make_partner("Hotel", region, competency, contract=False)
    make_partner("India", region, competency, cert=None)
    PartnerFactory(organisation__name="Juliet", kind="specialist")  # never in a field ranking
    # Alfa: 18 met, 2 breached → (18+7)/(20+10) = 0.8333; one job open in SPb of 4.
    ola_history(alfa, ticket, met=18, breached=2)
    TicketFactory(store=store, number=901, partner=alfa, status="accepted")
    # Jobs that do not count: resolved, or in another region.
    TicketFactory(store=store, number=902, partner=alfa, status="resolved")
    TicketFactory(store=world.store_a1, number=903, partner=alfa, status="on_site")
    # Gamma: 2 met, 8 breached → 9/20 = 0.45; older than 90 days and cancelled do not count.
    ola_history(gamma, ticket, met=2, breached=8, cancelled=3)
    ola_history(gamma, ticket, met=5, days_ago=91)
    # Foxtrot: its one slot is taken by a live offer on a job it does not hold yet.
    waiting = TicketFactory(store=store, number=904, needs_visit=True)
    Offer.objects.create(
        ticket=waiting, partner=foxtrot, offered_at=T0, deadline=T0 + timedelta(minutes=30)
    )
    return {"alfa": alfa, "beta": beta, "gamma": gamma, "ticket": ticket}


def test_eligible_partners_are_ordered_by_the_documented_score(field):
    # When the job is ranked
    ranking = partners_rank(ticket=field["ticket"], now=T0)
    eligible = [r for r in ranking if r.eligible]
    # Then price spreads 3000 (1.0) … 4000 (0.5) … 5000 (0.0) among the eligible, and:
    # Alfa  0.5×0.8333 + 0.3×0.75 + 0.2×1.0 = 0.4167 + 0.225 + 0.2 = 0.8417
    # Beta  0.5×0.7000 + 0.3×1.00 + 0.2×0.0 = 0.35   + 0.3   + 0   = 0.65
    # Gamma 0.5×0.4500 + 0.3×1.00 + 0.2×0.5 = 0.225  + 0.3   + 0.1 = 0.625
    assert [(r.name, r.score) for r in eligible] == [
        ("Alfa", 0.8417),
        ("Beta", 0.65),
        ("Gamma", 0.625),
    ]
    alfa = eligible[0]
    assert (alfa.compliance, alfa.load, alfa.price) == (0.8333, 0.75, 1.0)
    assert (alfa.met, alfa.breached, alfa.open_jobs, alfa.capacity) == (18, 2, 1, 4)
    gamma = eligible[2]
    assert (gamma.met, gamma.breached, gamma.compliance, gamma.price) == (2, 8, 0.45, 0.5)


def test_why_each_partner_is_in(field):
    alfa = partners_rank(ticket=field["ticket"], now=T0)[0]
    assert alfa.reasons == [
        "covers Санкт-Петербург (RU-SPE)",
        "certified for Cash registers until 2027-12-31",
        "1 of 4 jobs in RU-SPE",
        "OLA compliance 83% (18 met, 2 breached in 90 days)",
        "visit fee 3000.00 RUB",
    ]


def test_why_each_partner_is_out(field):
    # Given coverage, an expired certificate, a full capacity, an inactive partner, one
    # without a contract, one without the certificate, and the world's Moscow partners
    ranking = partners_rank(ticket=field["ticket"], now=T0)
    out = {r.name: r.reasons for r in ranking if not r.eligible}
    # Then each is left out, after the eligible ones, by name, with the reason spelled out
    assert out == {
        "Delta": ["no valid certification for Cash registers (expired on 2026-06-30)"],
        "Echo": ["does not cover Санкт-Петербург (RU-SPE)"],
        "Foxtrot": ["at capacity (1 of 1 jobs in RU-SPE)"],
        "Golf": ["inactive"],
        "Hotel": ["no contract in force"],
        "India": ["no certification for Cash registers"],
        "Partner P": ["does not cover Санкт-Петербург (RU-SPE)"],
        "Partner Q": ["does not cover Санкт-Петербург (RU-SPE)"],
    }
    assert [r.name for r in ranking] == [
        "Alfa",
        "Beta",
        "Gamma",
        "Delta",
        "Echo",
        "Foxtrot",
        "Golf",
        "Hotel",
        "India",
        "Partner P",
        "Partner Q",
    ]
    # A specialist partner is not a field partner at all
    assert "Juliet" not in {r.name for r in ranking}
    assert all(r.score is None for r in ranking if not r.eligible)


def test_certificate_expiring_today_no_longer_counts(field, spb):
    # Given Beta's only certificate expires on the store's local date of the job
    _region, _store, _competency, ticket = spb
    field["beta"].certifications.update(expires_on=date(2026, 12, 7))
    # Then Beta is out, the expiry named
    beta = next(r for r in partners_rank(ticket=ticket, now=T0) if r.name == "Beta")
    assert (beta.eligible, beta.reasons) == (
        False,
        ["no valid certification for Cash registers (expired on 2026-12-07)"],
    )


def test_capacity_counts_held_jobs_and_live_offers_but_not_the_job_itself(field, spb):
    # Given Beta (capacity 2) holds one SPb job and this very job is assigned to it
    _region, store, _competency, ticket = spb
    TicketFactory(store=store, number=905, partner=field["beta"], status="en_route")
    ticket.partner = field["beta"]
    ticket.status = "assigned"
    ticket.save()
    beta = next(r for r in partners_rank(ticket=ticket, now=T0) if r.name == "Beta")
    # Then it counts 1 of 2 (the job being ranked is not a load on its holder) …
    assert beta.open_jobs == 1
    # … but it holds the job already, so it is not a candidate for it
    assert beta.reasons == ["holds this job"]
    # And with a second job it is full
    TicketFactory(store=store, number=906, partner=field["beta"], status="on_site")
    beta = next(r for r in partners_rank(ticket=ticket, now=T0) if r.name == "Beta")
    assert "at capacity (2 of 2 jobs in RU-SPE)" in beta.reasons


def test_equal_fees_price_everyone_at_one_and_ties_go_by_name(world):
    # Given the world's P and Q, alike in everything, on a Moscow job without a competency
    ticket = TicketFactory(store=world.store_a1, number=910, needs_visit=True)
    ranking = partners_rank(ticket=ticket, now=T0)
    # Then both score 0.5×0.7 + 0.3×(1 − 1/5) + 0.2×1 = 0.35 + 0.24 + 0.2 = 0.79, P first
    assert [(r.name, r.score, r.price) for r in ranking] == [
        ("Partner P", 0.79, 1.0),
        ("Partner Q", 0.79, 1.0),
    ]
    # And no certification is asked for
    assert "no certification required (the ticket names no competency)" in ranking[0].reasons


def test_query_count_does_not_grow_with_the_number_of_partners(spb):
    region, _store, competency, ticket = spb
    for i in range(3):
        make_partner(f"Few {i}", region, competency)
    with CaptureQueriesContext(connection) as few:
        assert len(partners_rank(ticket=ticket, now=T0)) == 5  # + the world's P and Q
    for i in range(12):
        make_partner(f"Many {i:02d}", region, competency)
    with CaptureQueriesContext(connection) as many:
        assert len(partners_rank(ticket=ticket, now=T0)) == 17
    assert len(few.captured_queries) == len(many.captured_queries) == 2
