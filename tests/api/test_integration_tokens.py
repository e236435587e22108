"""Integration tokens: who may issue which, the token working as its organisation and role,
revocation, and the raw key never being stored.

The rule (``servicedesk.services``): a provider administrator issues tokens for any
organisation; a client manager for its own client as client_manager or store_staff; a
partner manager for its own partner as partner_manager; a token never outranks its issuer.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from servicedesk.models import ApiToken, Membership, User, hash_token
from tests.conftest import api_client_for
from tests.factories import ClientContractFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/integration-tokens/"


def issue(world, issuer: str, **body):
    return api_client_for(world.users[issuer]).post(URL, body, format="json")


def with_token(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def integration_rows() -> tuple[int, int, int]:
    """Service users, their memberships and their tokens: what a refused issue must not add."""
    users = User.objects.filter(username__startswith="integration-")
    return (
        users.count(),
        Membership.objects.filter(user__in=users).count(),
        ApiToken.objects.filter(membership__user__in=users).count(),
    )


def test_client_manager_issues_a_token_that_acts_for_its_client(world):
    ClientContractFactory(client=world.client_a, number="A-1")
    ClientContractFactory(client=world.client_b, number="B-1")

    response = issue(
        world,
        "client_manager_a",
        name="1C sync",
        organisation=world.client_a.pk,
        role="client_manager",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    raw = body["token"]
    assert body["organisation"]["id"] == world.client_a.pk
    assert body["role"] == "client_manager"
    assert body["prefix"] == raw[:8]
    assert body["username"].startswith("integration-")
    integration = with_token(raw)
    contracts = integration.get("/api/v1/client-contracts/").json()["results"]
    assert [row["number"] for row in contracts] == ["A-1"]
    stores = integration.get("/api/v1/stores/").json()["results"]
    assert {row["code"] for row in stores} == {"A1", "A2"}


def test_the_raw_token_is_never_stored(world):
    raw = issue(
        world, "provider_admin", name="BI", organisation=world.partner_p.pk, role="partner_manager"
    ).json()["token"]

    token = ApiToken.objects.get(key_hash=hash_token(raw))
    stored = [str(value) for value in token.__dict__.values()]
    stored += [str(value) for value in token.membership.user.__dict__.values()]
    assert all(raw not in value for value in stored)
    assert token.prefix == raw[:8] and len(raw) > 30
    # And the service account cannot sign in with a password.
    assert not token.membership.user.has_usable_password()
    assert (
        APIClient()
        .post(
            "/api/v1/auth/token/",
            {"username": token.membership.user.username, "password": raw},
            format="json",
        )
        .status_code
        == 400
    )


def test_revoked_token_gets_401_and_stays_listed(world):
    created = issue(
        world, "client_manager_a", name="POS", organisation=world.client_a.pk, role="client_manager"
    ).json()
    integration = with_token(created["token"])
    assert integration.get("/api/v1/stores/").status_code == 200

    manager = api_client_for(world.users["client_manager_a"])
    revoked = manager.delete(f"{URL}{created['id']}/")
    again = manager.delete(f"{URL}{created['id']}/")

    assert (revoked.status_code, again.status_code) == (204, 204)
    answer = integration.get("/api/v1/stores/")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"]
    listed = {row["id"]: row for row in manager.get(URL).json()["results"]}
    assert listed[created["id"]]["revoked_at"] is not None
    assert not Membership.objects.get(user__username=created["username"]).is_active


def test_last_used_is_recorded(world):
    at = timezone.now().replace(microsecond=0)
    created = issue(
        world,
        "partner_manager_p",
        name="ERP",
        organisation=world.partner_p.pk,
        role="partner_manager",
    ).json()
    assert created["last_used_at"] is None

    with time_machine.travel(at + timedelta(minutes=5), tick=False):
        assert with_token(created["token"]).get("/api/v1/coverage/").status_code == 200

    token = ApiToken.objects.get(pk=created["id"])
    assert token.last_used_at == at + timedelta(minutes=5)
    listed = api_client_for(world.users["partner_manager_p"]).get(URL).json()["results"]
    assert listed[0]["last_used_at"] is not None


@pytest.mark.parametrize(
    ("issuer", "organisation", "role", "status", "field"),
    [
        # A role outside the issuer's grant: refused as forbidden, with the reason.
        ("client_manager_a", "client_a", "provider_admin", 403, "role"),
        ("client_manager_a", "client_a", "dispatcher", 403, "role"),
        ("partner_manager_p", "partner_p", "client_manager", 403, "role"),
        ("partner_manager_p", "partner_p", "partner_manager", 201, None),
        # Another organisation reads like a missing one.
        ("client_manager_a", "client_b", "client_manager", 400, "organisation"),
        ("partner_manager_p", "partner_q", "partner_manager", 400, "organisation"),
        # A role the organisation has not.
        ("provider_admin", "client_a", "partner_manager", 400, "role"),
        # Engineers see jobs given to them in person: a service user would see nothing.
        ("partner_manager_p", "partner_p", "partner_engineer", 400, "role"),
        # Store staff see listed stores only: the stores must be named.
        ("client_manager_a", "client_a", "store_staff", 400, "store_ids"),
    ],
)
def test_issue_is_refused_with_a_field_message(world, issuer, organisation, role, status, field):
    org_id = getattr(world, organisation).pk
    before = integration_rows()

    response = issue(world, issuer, name="X", organisation=org_id, role=role)

    assert response.status_code == status, response.content
    if field is not None:
        assert field in response.json()["error"]["fields"]
        assert response.json()["error"]["message"]
        assert integration_rows() == before


def test_role_escalation_is_forbidden(world):
    before = integration_rows()

    # A dispatcher issues no tokens; a client manager cannot mint a provider role.
    dispatcher = issue(
        world, "dispatcher", name="X", organisation=world.provider.pk, role="dispatcher"
    )
    escalation = issue(
        world, "client_manager_a", name="X", organisation=world.provider.pk, role="provider_admin"
    )

    assert dispatcher.status_code == 403
    assert dispatcher.json()["error"]["code"] == "token_issuer_only"
    assert escalation.status_code == 403
    assert escalation.json()["error"]["code"] == "role_too_high"
    assert "client_manager, store_staff" in escalation.json()["error"]["message"]
    assert integration_rows() == before


def test_an_integration_token_cannot_mint_more(world):
    admin_token = issue(
        world, "provider_admin", name="Ops", organisation=world.provider.pk, role="provider_admin"
    )
    assert admin_token.status_code == 201
    before = integration_rows()

    minted = with_token(admin_token.json()["token"]).post(
        URL,
        {"name": "copy", "organisation": world.provider.pk, "role": "dispatcher"},
        format="json",
    )

    # Whatever its role: a leaked token must not be able to make itself a successor.
    assert minted.status_code == 403
    assert minted.json()["error"]["code"] == "token_issuer_only"
    assert integration_rows() == before


def test_store_staff_token_sees_only_its_stores(world):
    created = issue(
        world,
        "client_manager_a",
        name="Kiosk",
        organisation=world.client_a.pk,
        role="store_staff",
        store_ids=[world.store_a2.pk],
    )
    foreign_store = issue(
        world,
        "client_manager_a",
        name="Kiosk",
        organisation=world.client_a.pk,
        role="store_staff",
        store_ids=[world.store_b1.pk],
    )

    assert created.status_code == 201
    stores = with_token(created.json()["token"]).get("/api/v1/stores/").json()["results"]
    assert [row["code"] for row in stores] == ["A2"]
    assert foreign_store.status_code == 400
    assert "store_ids" in foreign_store.json()["error"]["fields"]


def test_listing_is_per_organisation(world):
    issue(
        world,
        "client_manager_a",
        name="A",
        organisation=world.client_a.pk,
        role="store_staff",
        store_ids=[world.store_a1.pk],
    )
    issue(world, "provider_admin", name="B", organisation=world.client_b.pk, role="client_manager")
    issue(
        world,
        "partner_manager_p",
        name="P",
        organisation=world.partner_p.pk,
        role="partner_manager",
    )

    def names(user: str) -> set[str]:
        response = api_client_for(world.users[user]).get(URL)
        assert response.status_code == 200
        return {row["name"] for row in response.json()["results"]}

    assert names("client_manager_a") == {"A"}
    assert names("client_manager_b") == {"B"}
    assert names("partner_manager_p") == {"P"}
    assert names("provider_admin") == {"A", "B", "P"}
    # Personal tokens made with a password are not integration tokens.
    assert "test" not in names("provider_admin")
    for user in ("dispatcher", "store_staff_a1", "engineer_p"):
        assert api_client_for(world.users[user]).get(URL).status_code == 403


def test_foreign_token_cannot_be_revoked(world):
    theirs = issue(
        world, "client_manager_b", name="B", organisation=world.client_b.pk, role="client_manager"
    ).json()

    response = api_client_for(world.users["client_manager_a"]).delete(f"{URL}{theirs['id']}/")

    assert response.status_code == 404
    assert ApiToken.objects.get(pk=theirs["id"]).revoked_at is None
    assert with_token(theirs["token"]).get("/api/v1/stores/").status_code == 200


def test_token_list_query_count_is_flat(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = api_client_for(world.users["provider_admin"])

    def measure() -> int:
        admin.get(URL)
        with CaptureQueriesContext(connection) as queries:
            assert admin.get(URL).status_code == 200
        return len(queries)

    issue(world, "provider_admin", name="0", organisation=world.client_a.pk, role="client_manager")
    small = measure()
    for i in range(8):
        issue(
            world,
            "provider_admin",
            name=f"n{i}",
            organisation=world.partner_q.pk,
            role="partner_manager",
        )
    large = measure()

    assert len(admin.get(URL).json()["results"]) == 9
    assert large == small
