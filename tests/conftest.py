"""Shared test world: a provider, two clients, two partners and a user in every role.

``world`` is the matrix every isolation test walks: for each role there is an *own* object
and a *foreign* one (the other client's or the other partner's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from rest_framework.test import APIClient

from servicedesk.actors import Actor, resolve_actor
from servicedesk.models import ApiToken, Membership, Organisation, User
from tests.factories import (
    ClientFactory,
    CompetencyFactory,
    CoverageFactory,
    EquipmentFactory,
    MembershipFactory,
    OrganisationFactory,
    PartnerContractFactory,
    PartnerFactory,
    RegionFactory,
    StoreFactory,
    StoreStaffAssignmentFactory,
    UserFactory,
)
from tickets import services as ticket_services


@dataclass
class World:
    provider: Organisation
    client_a: object
    client_b: object
    partner_p: object
    partner_q: object
    store_a1: object
    store_a2: object
    store_b1: object
    users: dict[str, User] = field(default_factory=dict)
    tickets: dict[str, object] = field(default_factory=dict)

    def actor(self, name: str) -> Actor:
        actor = resolve_actor(self.users[name])
        assert actor is not None, name
        return actor


def _member(username: str, organisation, role: str) -> Membership:
    user = UserFactory(username=username)
    return MembershipFactory(user=user, organisation=organisation, role=role)


@pytest.fixture
def world(db) -> World:
    return build_world()


def build_world() -> World:
    """The world's rows, in the current database transaction (fixtures of wider scope build
    it once and roll back around each case)."""
    moscow = RegionFactory()
    kamchatka = RegionFactory(
        code="RU-KAM", name_ru="Камчатский край", name_en="Kamchatka", time_zone="Asia/Kamchatka"
    )
    provider = OrganisationFactory(kind="provider", name="Provider")
    client_a = ClientFactory(organisation__name="Client A", code="AAA")
    client_b = ClientFactory(organisation__name="Client B", code="BBB")
    store_a1 = StoreFactory(client=client_a, code="A1", region=moscow)
    store_a2 = StoreFactory(client=client_a, code="A2", region=kamchatka)
    store_b1 = StoreFactory(client=client_b, code="B1", region=moscow)
    for store in (store_a1, store_a2, store_b1):
        EquipmentFactory(store=store)
    partner_p = PartnerFactory(organisation__name="Partner P")
    partner_q = PartnerFactory(organisation__name="Partner Q")
    competency = CompetencyFactory()
    for partner in (partner_p, partner_q):
        CoverageFactory(partner=partner, region=moscow)
        PartnerContractFactory(partner=partner)
        partner.certifications.create(
            competency=competency, issued_on="2026-01-01", expires_on="2027-12-31"
        )

    w = World(provider, client_a, client_b, partner_p, partner_q, store_a1, store_a2, store_b1)
    p_org, q_org = partner_p.organisation, partner_q.organisation
    memberships = {
        "provider_admin": _member("provider_admin", provider, "provider_admin"),
        "dispatcher": _member("dispatcher", provider, "dispatcher"),
        "client_manager_a": _member("client_manager_a", client_a.organisation, "client_manager"),
        "store_staff_a1": _member("store_staff_a1", client_a.organisation, "store_staff"),
        "client_manager_b": _member("client_manager_b", client_b.organisation, "client_manager"),
        "store_staff_b1": _member("store_staff_b1", client_b.organisation, "store_staff"),
        "partner_manager_p": _member("partner_manager_p", p_org, "partner_manager"),
        "engineer_p": _member("engineer_p", partner_p.organisation, "partner_engineer"),
        "engineer_p2": _member("engineer_p2", partner_p.organisation, "partner_engineer"),
        "partner_manager_q": _member("partner_manager_q", q_org, "partner_manager"),
        "engineer_q": _member("engineer_q", partner_q.organisation, "partner_engineer"),
    }
    StoreStaffAssignmentFactory(membership=memberships["store_staff_a1"], store=store_a1)
    StoreStaffAssignmentFactory(membership=memberships["store_staff_b1"], store=store_b1)
    w.users = {name: m.user for name, m in memberships.items()}
    w.users["nobody"] = UserFactory(username="nobody")

    dispatcher = w.actor("dispatcher")
    # A1: at store A1, assigned to partner P with engineer P; it has a public and an internal
    # comment. A2: client A's other store, unassigned. B1: client B, assigned to partner Q.
    a1 = ticket_services.ticket_create(actor=dispatcher, store_id=store_a1.pk, subject="A1 till")
    ticket_services.ticket_assign(
        actor=dispatcher,
        ticket_id=a1.pk,
        partner_id=partner_p.pk,
        engineer_id=w.users["engineer_p"].pk,
    )
    ticket_services.ticket_comment(actor=dispatcher, ticket_id=a1.pk, body="Public note A1")
    ticket_services.ticket_comment(
        actor=dispatcher, ticket_id=a1.pk, body="Internal note A1", is_internal=True
    )
    a2 = ticket_services.ticket_create(actor=dispatcher, store_id=store_a2.pk, subject="A2 cctv")
    b1 = ticket_services.ticket_create(actor=dispatcher, store_id=store_b1.pk, subject="B1 net")
    ticket_services.ticket_assign(
        actor=dispatcher,
        ticket_id=b1.pk,
        partner_id=partner_q.pk,
        engineer_id=w.users["engineer_q"].pk,
    )
    for key, ticket in {"a1": a1, "a2": a2, "b1": b1}.items():
        ticket.refresh_from_db()
        w.tickets[key] = ticket
    return w


def api_client_for(user: User) -> APIClient:
    """An API client authenticated the way integrations are: a real token in the header."""
    actor = resolve_actor(user)
    client = APIClient()
    if actor is not None:
        raw, key_hash = ApiToken.generate()
        ApiToken.objects.create(
            membership_id=actor.membership_id, name="test", key_hash=key_hash, prefix=raw[:8]
        )
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


@pytest.fixture
def api_for():
    return api_client_for


@pytest.fixture
def redis_broker():
    """A real Redis broker URL for tests that run Celery processes (``tests.celery_support``):
    a database of ``REDIS_URL``'s server (default ``redis://127.0.0.1:6379/0``) claimed for
    this test alone and emptied before and after it, so parallel test runs on one machine do
    not take each other's tasks. Redis not answering is a failure, never a skip: CI always
    starts it, so a skip could only hide a broken set-up."""
    from tests.celery_support import redis_check, redis_test_broker

    try:
        redis_check()
        problem = None
    except RuntimeError as exc:
        problem = str(exc)
    if problem:
        pytest.fail(problem, pytrace=False)
    with redis_test_broker() as url:
        yield url
