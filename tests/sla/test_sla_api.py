"""/api/v1/sla-policies/: provider admins write; provider staff read all; a client manager
reads its own client's; nobody else sees any. Validation errors are 400s with field
messages, and a refused write leaves nothing behind."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.models import SlaPolicy
from tests.factories import ClientContractFactory, PartnerContractFactory
from tests.sla.conftest import H

URL = "/api/v1/sla-policies/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(world):
    return ClientContractFactory(client=world.client_a, number="A-2026")


@pytest.fixture
def body(contract, presets) -> dict:
    return {
        "contract": contract.pk,
        "priority": "p1",
        "response_seconds": H,
        "arrival_seconds": 4 * H,
        "resolution_seconds": 8 * H,
        "calendar": presets["24x7"].pk,
        "warning_threshold": "0.80",
        "pause_statuses": ["waiting_client"],
    }


@pytest.fixture
def two_policies(world, presets, make_policy) -> tuple[SlaPolicy, SlaPolicy]:
    return (
        make_policy(presets["office"], client=world.client_a),
        make_policy(presets["office"], client=world.client_b),
    )


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --------------------------------------------------------------------- writes


def test_provider_admin_creates_a_policy(world, api_for, body, contract):
    response = api_for(world.users["provider_admin"]).post(URL, body)

    assert response.status_code == 201, response.content
    policy = SlaPolicy.objects.get()
    assert (policy.contract, policy.priority, policy.category) == (contract, "p1", "")
    assert policy.warning_threshold == Decimal("0.80")
    assert response.json()["contract"]["client"]["code"] == "AAA"
    assert response.json()["calendar"]["code"] == "24x7"
    assert response["Location"].endswith(f"{URL}{policy.pk}/")


@pytest.mark.parametrize(
    "role", ["dispatcher", "client_manager_a", "store_staff_a1", "partner_manager_p"]
)
def test_only_provider_admins_write_and_a_refusal_writes_nothing(world, api_for, body, role):
    response = api_for(world.users[role]).post(URL, body)

    assert response.status_code == 403
    assert SlaPolicy.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"response_seconds": 0}, "response_seconds", "positive"),
        ({"resolution_seconds": -60}, "resolution_seconds", "positive"),
        ({"arrival_seconds": 0}, "arrival_seconds", "positive"),
        ({"warning_threshold": "1.00"}, "warning_threshold", "between 0 and 1"),
        ({"warning_threshold": "0.00"}, "warning_threshold", "between 0 and 1"),
        ({"pause_statuses": ["on_site"]}, "pause_statuses", "waiting for the client"),
        ({"pause_statuses": ["waiting_client", "sleeping"]}, "pause_statuses", "valid choice"),
        ({"calendar": 999_999}, "calendar", "Unknown calendar"),
        ({"contract": 999_999}, "contract", "Unknown client contract"),
        ({"priority": "p9"}, "priority", "valid choice"),
    ],
)
def test_invalid_policies_are_400s_with_field_messages(
    world, api_for, body, change, field, fragment
):
    response = api_for(world.users["provider_admin"]).post(URL, {**body, **change})

    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    # A list item's message is keyed by its position, e.g. ``pause_statuses.1``.
    messages = [m for key, ms in fields.items() if key.split(".")[0] == field for m in ms]
    assert fragment in " ".join(messages)
    assert SlaPolicy.objects.count() == 0


def test_a_second_policy_for_the_same_contract_priority_and_category_is_a_400(world, api_for, body):
    api = api_for(world.users["provider_admin"])
    assert api.post(URL, body).status_code == 201

    response = api.post(URL, {**body, "response_seconds": 2 * H})

    assert response.status_code == 400
    assert "already has a policy for P1" in response.json()["error"]["fields"]["category"][0]
    assert SlaPolicy.objects.count() == 1


def test_a_target_tighter_than_a_partners_ola_is_refused(world, api_for, body):
    # Given a partner contract that allows 6 hours to arrive
    PartnerContractFactory(partner=world.partner_p, number="OLA-6H", arrive_within_seconds=6 * H)

    # When a client policy promises arrival within 4 hours
    response = api_for(world.users["provider_admin"]).post(URL, body)

    # Then the OLA underpinning it would be looser: refused, naming the partner
    assert response.status_code == 400
    message = response.json()["error"]["fields"]["arrival_seconds"][0]
    assert "Partner P" in message and "OLA-6H" in message and "21600" in message
    assert SlaPolicy.objects.count() == 0


def test_provider_admin_changes_and_deletes_a_policy(world, api_for, two_policies):
    policy, _ = two_policies
    api = api_for(world.users["provider_admin"])

    changed = api.patch(f"{URL}{policy.pk}/", {"response_seconds": 3 * H})
    refused = api.patch(f"{URL}{policy.pk}/", {"warning_threshold": "1.50"})

    assert changed.status_code == 200
    assert changed.json()["response_seconds"] == 3 * H
    assert refused.status_code == 400
    policy.refresh_from_db()
    assert (policy.response_seconds, policy.warning_threshold) == (3 * H, Decimal("0.75"))
    assert api.delete(f"{URL}{policy.pk}/").status_code == 204
    assert not SlaPolicy.objects.filter(pk=policy.pk).exists()


def test_a_client_manager_cannot_change_even_its_own_policy(world, api_for, two_policies):
    own, _ = two_policies

    response = api_for(world.users["client_manager_a"]).patch(
        f"{URL}{own.pk}/", {"response_seconds": 1}
    )

    assert response.status_code == 403
    own.refresh_from_db()
    assert own.response_seconds == 2 * H


# --------------------------------------------------------------------- reads


def test_provider_staff_read_every_policy(world, api_for, two_policies):
    expected = {p.pk for p in two_policies}
    for role in ("provider_admin", "dispatcher"):
        assert _ids(api_for(world.users[role]).get(URL)) == expected


def test_a_client_manager_reads_only_its_own_clients_policies(world, api_for, two_policies):
    own, foreign = two_policies
    api = api_for(world.users["client_manager_a"])

    assert _ids(api.get(URL)) == {own.pk}
    assert api.get(f"{URL}{own.pk}/").status_code == 200
    assert api.get(f"{URL}{foreign.pk}/").status_code == 404


@pytest.mark.parametrize("role", ["store_staff_a1", "partner_manager_p", "engineer_p"])
def test_store_staff_and_partners_see_no_policy(world, api_for, two_policies, role):
    own, _ = two_policies
    api = api_for(world.users[role])

    assert _ids(api.get(URL)) == set()
    assert api.get(f"{URL}{own.pk}/").status_code == 404


def test_policy_list_filters_by_client(world, api_for, two_policies):
    _, foreign = two_policies
    api = api_for(world.users["dispatcher"])

    assert _ids(api.get(URL, {"client": world.client_b.pk})) == {foreign.pk}


# --------------------------------------------------------------------- recompute endpoint


def test_recompute_is_for_provider_admins_only(world, api_for):
    ticket = world.tickets["a1"]
    for role in ("dispatcher", "client_manager_a", "partner_manager_p"):
        response = api_for(world.users[role]).post(
            "/api/v1/sla/recompute/", {"tickets": [ticket.pk]}
        )
        assert response.status_code == 403, role


def test_recompute_of_unknown_tickets_is_a_400(world, api_for):
    response = api_for(world.users["provider_admin"]).post(
        "/api/v1/sla/recompute/", {"tickets": [999_999]}
    )

    assert response.status_code == 400
    assert "999999" in response.json()["error"]["fields"]["tickets"][0]


def test_policy_list_queries_do_not_grow_with_policies(world, api_for, presets, make_policy):
    api = api_for(world.users["dispatcher"])
    make_policy(presets["office"])
    with CaptureQueriesContext(connection) as one:
        assert api.get(URL).status_code == 200

    for priority in ("p1", "p3", "p4"):
        make_policy(presets["24x7"], client=world.client_b, priority=priority)
    with CaptureQueriesContext(connection) as four:
        assert len(api.get(URL).json()["results"]) == 4

    assert len(four) <= len(one)
