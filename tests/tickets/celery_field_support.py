"""A small field-dispatch desk for the real-Celery tests (tests run against committed rows).

One dispatcher (with an e-mail address, default preferences: urgent e-mail on), a client
that auto-dispatches, a Moscow store, a P1 policy on the 24×7 calendar whose SLA targets are
far away (an hour), and operational partners covering Moscow with the cash-register
certification, each with a contract whose OLA counts on the 24×7 calendar in seconds.
Partners are ranked by fee (cheapest first), so the order of offers is the order given.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from calendars.services import calendar_presets_ensure
from partners.models import Partner
from servicedesk.actors import Actor, resolve_actor
from servicedesk.models import User
from sla.models import SlaPolicy
from tests.factories import (
    CertificationFactory,
    ClientContractFactory,
    ClientFactory,
    CompetencyFactory,
    CoverageFactory,
    MembershipFactory,
    OrganisationFactory,
    PartnerContractFactory,
    PartnerFactory,
    RegionFactory,
    StoreFactory,
    UserFactory,
)
from tickets import services
from tickets.models import Ticket


@dataclass
class FieldDesk:
    dispatcher: User
    store: object
    competency: object
    partners: list[Partner] = field(default_factory=list)
    managers: dict[int, User] = field(default_factory=dict)
    engineers: dict[int, User] = field(default_factory=dict)

    def actor(self, user: User) -> Actor:
        actor = resolve_actor(user)
        assert actor is not None
        return actor

    def open_ticket(self) -> Ticket:
        """A P1 cash-register ticket needing a visit: auto-offered to the best partner."""
        return services.ticket_create(
            actor=self.actor(self.dispatcher),
            store_id=self.store.pk,
            subject="Касса не печатает чеки",
            priority="p1",
            needs_visit=True,
            competency_id=self.competency.pk,
        )


def field_desk(*, partners: list[tuple[str, int, int]]) -> FieldDesk:
    """``partners``: (name, accept within s, arrive within s) in ranking order."""
    calendar = calendar_presets_ensure()["24x7"]
    provider = OrganisationFactory(kind="provider", name="Provider")
    dispatcher = UserFactory(username="dispatcher", email="dispatcher@example.test")
    MembershipFactory(user=dispatcher, organisation=provider, role="dispatcher")
    region = RegionFactory()
    client = ClientFactory(code="CEL", auto_dispatch=True)
    store = StoreFactory(client=client, code="C1", region=region)
    contract = ClientContractFactory(client=client, starts_on=date(2025, 1, 1))
    SlaPolicy.objects.create(
        contract=contract,
        priority="p1",
        response_seconds=3600,
        arrival_seconds=3600,
        resolution_seconds=7200,
        calendar=calendar,
    )
    competency = CompetencyFactory()
    desk = FieldDesk(dispatcher=dispatcher, store=store, competency=competency)
    for rank, (name, accept_s, arrive_s) in enumerate(partners):
        partner = PartnerFactory(organisation__name=name)
        CoverageFactory(partner=partner, region=region)
        CertificationFactory(partner=partner, competency=competency)
        PartnerContractFactory(
            partner=partner,
            visit_fee=Decimal(3000 + 500 * rank),
            accept_within_seconds=accept_s,
            arrive_within_seconds=arrive_s,
            resolve_within_seconds=7200,
            ola_calendar=calendar,
        )
        manager = UserFactory(username=f"manager_{rank}")
        MembershipFactory(user=manager, organisation=partner.organisation, role="partner_manager")
        engineer = UserFactory(username=f"engineer_{rank}")
        MembershipFactory(user=engineer, organisation=partner.organisation, role="partner_engineer")
        desk.partners.append(partner)
        desk.managers[partner.pk] = manager
        desk.engineers[partner.pk] = engineer
    return desk


def wait_until(predicate: Callable[[], object], *, limit: float, what: str) -> float:
    """Poll ``predicate`` every 0.1 s; return the monotonic instant it first held."""
    deadline = time.monotonic() + limit
    while True:
        if predicate():
            return time.monotonic()
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not seen within {limit:.0f}s (the Celery logs follow)")
        time.sleep(0.1)


def log_problems(processes) -> list[str]:
    """Error lines and tracebacks in the given Celery children's logs."""
    return [
        f"{p.name}: {line}"
        for p in processes
        for line in p.log().splitlines()
        if "ERROR/" in line or "CRITICAL/" in line or line.startswith("Traceback")
    ]


def task_ids(log: str, task: str, state: str) -> list[str]:
    """Ids of ``task`` that reached ``state`` (``received``, ``succeeded``) in ``log``."""
    pattern = re.compile(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] {state}")
    return pattern.findall(log)
