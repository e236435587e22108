"""API tokens: issued against a password, stored as a hash, refused once revoked."""

from __future__ import annotations

import hashlib

import pytest
from django.test import RequestFactory
from rest_framework import exceptions
from rest_framework.request import Request

from servicedesk.actors import resolve_actor
from servicedesk.api.authentication import BearerTokenAuthentication
from servicedesk.exceptions import NotFound, ValidationFailed
from servicedesk.models import ApiToken
from servicedesk.services import api_token_obtain, api_token_revoke
from tests.factories import (
    ClientFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
PASSWORD = "secret-pass-123"  # the factories' password


@pytest.fixture
def manager():
    client = ClientFactory(organisation__name="Magnit")
    return MembershipFactory(organisation=client.organisation, role="client_manager")


def _actor_of(membership):
    return resolve_actor(membership.user, membership.pk)


def _authenticate(header: str | None):
    """Run the authentication class on a request carrying ``header``."""
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    request = Request(RequestFactory().get("/api/v1/", **extra))
    return BearerTokenAuthentication().authenticate(request), request


def test_obtain_stores_only_the_hash(manager):
    # When a user exchanges its password for a token
    token, raw = api_token_obtain(username=manager.user.username, password=PASSWORD, name="ERP")
    # Then the row holds the SHA-256 of the key and its first 8 characters, never the key
    row = ApiToken.objects.get()
    assert row.pk == token.pk
    assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert row.prefix == raw[:8]
    assert len(raw) >= 32
    stored = [str(value) for value in ApiToken.objects.values().get().values()]
    assert not any(raw in value for value in stored)
    # And it acts as the user's membership
    assert row.membership_id == manager.pk
    assert row.name == "ERP"
    assert row.revoked_at is None


def test_two_obtains_give_two_different_keys(manager):
    _, raw1 = api_token_obtain(username=manager.user.username, password=PASSWORD)
    _, raw2 = api_token_obtain(username=manager.user.username, password=PASSWORD)
    assert raw1 != raw2
    assert ApiToken.objects.count() == 2


def test_token_acts_as_the_widest_membership():
    user = UserFactory()
    client = ClientFactory()
    MembershipFactory(user=user, organisation=client.organisation, role="store_staff")
    dispatcher = MembershipFactory(
        user=user, organisation=OrganisationFactory(kind="provider"), role="dispatcher"
    )
    token, _ = api_token_obtain(username=user.username, password=PASSWORD)
    assert token.membership_id == dispatcher.pk


@pytest.mark.parametrize(
    ("username", "password"),
    [("right", "wrong-password"), ("nobody-by-this-name", PASSWORD), ("right", "")],
)
def test_wrong_credentials_are_refused_and_nothing_is_stored(manager, username, password):
    username = manager.user.username if username == "right" else username
    with pytest.raises(ValidationFailed) as exc:
        api_token_obtain(username=username, password=password)
    assert exc.value.code == "invalid_credentials"
    assert "non_field_errors" in exc.value.fields
    assert ApiToken.objects.count() == 0


def test_inactive_user_gets_no_token(manager):
    manager.user.is_active = False
    manager.user.save(update_fields=["is_active"])
    with pytest.raises(ValidationFailed) as exc:
        api_token_obtain(username=manager.user.username, password=PASSWORD)
    assert exc.value.code == "invalid_credentials"
    assert ApiToken.objects.count() == 0


def test_user_without_membership_gets_no_token():
    user = UserFactory()
    with pytest.raises(ValidationFailed) as exc:
        api_token_obtain(username=user.username, password=PASSWORD)
    assert exc.value.code == "no_membership"
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "token"])
def test_valid_token_authenticates_as_its_membership(manager, keyword):
    # Given an issued token
    token, raw = api_token_obtain(username=manager.user.username, password=PASSWORD)
    # When a request carries it
    (user, auth_token), request = _authenticate(f"{keyword} {raw}")
    # Then the request is the token's user, acting as the token's membership
    assert user == manager.user
    assert auth_token.pk == token.pk
    actor = request._request.actor
    assert actor.membership_id == manager.pk
    assert actor.role == "client_manager"
    # And its use is noted
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_token_is_refused(manager):
    # Given a token its owner revoked
    token, raw = api_token_obtain(username=manager.user.username, password=PASSWORD)
    actor = _actor_of(manager)
    revoked = api_token_revoke(actor=actor, token_id=token.pk)
    assert revoked.revoked_at is not None
    # When a request carries it, then it is refused
    with pytest.raises(exceptions.AuthenticationFailed):
        _authenticate(f"Token {raw}")


def test_unknown_token_is_refused(manager):
    api_token_obtain(username=manager.user.username, password=PASSWORD)
    with pytest.raises(exceptions.AuthenticationFailed):
        _authenticate("Token not-a-real-token")


def test_the_stored_hash_itself_is_not_a_key(manager):
    token, _ = api_token_obtain(username=manager.user.username, password=PASSWORD)
    with pytest.raises(exceptions.AuthenticationFailed):
        _authenticate(f"Token {token.key_hash}")


def test_token_of_a_deactivated_membership_is_refused(manager):
    _, raw = api_token_obtain(username=manager.user.username, password=PASSWORD)
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    with pytest.raises(exceptions.AuthenticationFailed):
        _authenticate(f"Token {raw}")


def test_token_of_a_deactivated_user_is_refused(manager):
    _, raw = api_token_obtain(username=manager.user.username, password=PASSWORD)
    manager.user.is_active = False
    manager.user.save(update_fields=["is_active"])
    with pytest.raises(exceptions.AuthenticationFailed):
        _authenticate(f"Token {raw}")


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Session abc"])
def test_other_schemes_are_left_to_other_authenticators(header):
    result, _ = _authenticate(header)
    assert result is None


@pytest.mark.parametrize("header", ["Token", "Token a b"])
def test_malformed_token_header_is_refused(header):
    with pytest.raises(exceptions.AuthenticationFailed):
        _authenticate(header)


def test_a_user_cannot_revoke_someone_elses_token(manager):
    # Given a token of the manager, and another client user
    token, raw = api_token_obtain(username=manager.user.username, password=PASSWORD)
    other = MembershipFactory(organisation=manager.organisation, role="store_staff")
    # When the other user tries to revoke it, then it is not found
    with pytest.raises(NotFound):
        api_token_revoke(actor=_actor_of(other), token_id=token.pk)
    # And the token still works
    token.refresh_from_db()
    assert token.revoked_at is None
    (user, _), _ = _authenticate(f"Token {raw}")
    assert user == manager.user


def test_provider_admin_can_revoke_any_token(manager):
    token, raw = api_token_obtain(username=manager.user.username, password=PASSWORD)
    admin = MembershipFactory(
        organisation=OrganisationFactory(kind="provider"), role="provider_admin"
    )
    api_token_revoke(actor=_actor_of(admin), token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(exceptions.AuthenticationFailed):
        _authenticate(f"Token {raw}")


def test_revoking_twice_keeps_the_first_revocation_time(manager):
    token, _ = api_token_obtain(username=manager.user.username, password=PASSWORD)
    actor = _actor_of(manager)
    first = api_token_revoke(actor=actor, token_id=token.pk).revoked_at
    second = api_token_revoke(actor=actor, token_id=token.pk).revoked_at
    assert second == first
