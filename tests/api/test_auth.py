"""Token authentication: obtain, use (Token and Bearer), revoke; who cannot get one."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from servicedesk.models import ApiToken, hash_token

TOKEN_URL = "/api/v1/auth/token/"
TICKETS_URL = "/api/v1/tickets/"
PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's password


def obtain(client: APIClient, username: str, password: str = PASSWORD, **extra):
    return client.post(TOKEN_URL, {"username": username, "password": password, **extra})


def test_obtain_token_with_right_password_returns_a_working_token(world):
    # given a dispatcher with a password
    client = APIClient()

    # when they exchange it for a token
    response = obtain(client, "dispatcher", name="ERP integration")

    # then 201 with the raw token, shown once; only its hash is stored
    assert response.status_code == 201, response.content
    body = response.json()
    raw = body["token"]
    assert body["name"] == "ERP integration"
    assert body["prefix"] == raw[:8]
    token = ApiToken.objects.get(key_hash=hash_token(raw))
    assert token.membership.user.username == "dispatcher"
    assert not ApiToken.objects.filter(key_hash=raw).exists()
    # and the token opens the API
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert client.get(TICKETS_URL).status_code == 200


def test_wrong_password_is_400_with_the_uniform_body_and_no_token(world):
    # given
    client = APIClient()
    before = ApiToken.objects.count()

    # when
    response = obtain(client, "dispatcher", password="wrong")

    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_credentials"
    assert "username or password" in error["message"]
    assert ApiToken.objects.count() == before


def test_missing_password_names_the_field(world):
    response = APIClient().post(TOKEN_URL, {"username": "dispatcher"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert "password" in error["fields"]
    assert "password" in error["message"]


def test_user_without_membership_cannot_obtain_a_token(world):
    # given "nobody" has a valid password but no role in any organisation
    before = ApiToken.objects.count()

    # when
    response = obtain(APIClient(), "nobody")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_membership"
    assert ApiToken.objects.count() == before


def test_inactive_user_cannot_obtain_a_token(world):
    # given
    user = world.users["dispatcher"]
    user.is_active = False
    user.save(update_fields=["is_active"])

    # when
    response = obtain(APIClient(), "dispatcher")

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_obtain_needs_no_csrf_token_and_ignores_a_stale_authorization_header(world):
    # given a browser-like client that enforces CSRF and still sends a revoked token
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION="Token revoked-or-garbage")

    # when
    response = obtain(client, "client_manager_a")

    # then it still gets a fresh token
    assert response.status_code == 201, response.content


def test_revoked_token_is_401(world):
    # given a token obtained through the API
    client = APIClient()
    raw = obtain(client, "client_manager_a").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

    # when the caller revokes it
    response = client.delete(TOKEN_URL)

    # then it is revoked, and the next request with it is refused with a 401 challenge
    assert response.status_code == 204
    assert ApiToken.objects.get(key_hash=hash_token(raw)).revoked_at is not None
    response = client.get(TICKETS_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "authentication_failed"


def test_revoking_one_token_leaves_the_others_working(world):
    # given two tokens of the same user
    first, second = APIClient(), APIClient()
    first.credentials(HTTP_AUTHORIZATION=f"Token {obtain(first, 'dispatcher').json()['token']}")
    second.credentials(HTTP_AUTHORIZATION=f"Token {obtain(second, 'dispatcher').json()['token']}")

    # when the first is revoked
    assert first.delete(TOKEN_URL).status_code == 204

    # then only the first stops working
    assert first.get(TICKETS_URL).status_code == 401
    assert second.get(TICKETS_URL).status_code == 200


def test_delete_without_a_token_is_401(world):
    response = APIClient().delete(TOKEN_URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "token", "bearer"])
def test_token_and_bearer_header_forms_both_work(world, keyword):
    # given
    client = APIClient()
    raw = obtain(client, "dispatcher").json()["token"]

    # when
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {raw}")
    response = client.get(TICKETS_URL)

    # then
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token not-a-real-token", "Bearer not-a-real-token"],
)
def test_malformed_or_unknown_tokens_are_401(world, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(TICKETS_URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_no_credentials_is_401_with_a_challenge(world):
    response = APIClient().get(TICKETS_URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "not_authenticated"


def test_token_of_a_deactivated_membership_is_401(world, api_for):
    # given a working token, then the membership is switched off
    client = api_for(world.users["client_manager_a"])
    world.users["client_manager_a"].memberships.update(is_active=False)

    # when
    response = client.get(TICKETS_URL)

    # then
    assert response.status_code == 401


def test_session_user_without_membership_is_403(world):
    # given a logged-in user who acts for no organisation
    client = APIClient()
    client.force_login(world.users["nobody"])

    # when
    response = client.get(TICKETS_URL)

    # then authenticated (so not 401) but without a role
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_token_acts_as_its_membership(world, api_for):
    # given a token of client manager A
    client = api_for(world.users["client_manager_a"])

    # when listing tickets
    response = client.get(TICKETS_URL)

    # then only client A's tickets come back
    references = {row["reference"] for row in response.json()["results"]}
    assert references == {world.tickets["a1"].reference, world.tickets["a2"].reference}
