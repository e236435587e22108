"""resolve_actor: who a user acts as, and who it never acts as."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from servicedesk.actors import resolve_actor
from tests.factories import (
    ClientFactory,
    MembershipFactory,
    OrganisationFactory,
    PartnerFactory,
    StoreFactory,
    StoreStaffAssignmentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def orgs():
    client = ClientFactory(organisation__name="Magnit")
    partner = PartnerFactory(organisation__name="Fixit")
    provider = OrganisationFactory(kind="provider", name="Provider")
    return {"client": client.organisation, "partner": partner.organisation, "provider": provider}


def test_no_user_and_anonymous_user_have_no_actor():
    assert resolve_actor(None) is None
    assert resolve_actor(AnonymousUser()) is None


def test_inactive_user_has_no_actor_even_with_a_membership(orgs):
    # Given a deactivated user who still holds a membership
    membership = MembershipFactory(organisation=orgs["client"], role="client_manager")
    membership.user.is_active = False
    membership.user.save(update_fields=["is_active"])
    # Then it acts as nobody
    assert resolve_actor(membership.user) is None
    assert resolve_actor(membership.user, membership.pk) is None


def test_user_without_membership_has_no_actor():
    assert resolve_actor(UserFactory()) is None


def test_user_whose_only_membership_is_inactive_has_no_actor(orgs):
    membership = MembershipFactory(
        organisation=orgs["client"], role="client_manager", is_active=False
    )
    assert resolve_actor(membership.user) is None
    assert resolve_actor(membership.user, membership.pk) is None


def test_single_membership_gives_its_organisation_and_role(orgs):
    # Given a client manager
    membership = MembershipFactory(organisation=orgs["client"], role="client_manager")
    # When the actor is resolved
    actor = resolve_actor(membership.user)
    # Then it is that membership, for that client
    assert actor is not None
    assert (actor.user_id, actor.membership_id, actor.organisation_id) == (
        membership.user_id,
        membership.pk,
        orgs["client"].pk,
    )
    assert actor.organisation_name == "Magnit"
    assert actor.role == "client_manager"
    assert actor.is_client and not actor.is_provider and not actor.is_partner
    assert actor.client_id == orgs["client"].pk
    assert actor.partner_id is None
    assert actor.sees_internal is False


def test_partner_and_provider_actor_properties(orgs):
    engineer = MembershipFactory(organisation=orgs["partner"], role="partner_engineer")
    dispatcher = MembershipFactory(organisation=orgs["provider"], role="dispatcher")

    partner_actor = resolve_actor(engineer.user)
    provider_actor = resolve_actor(dispatcher.user)

    assert partner_actor.partner_id == orgs["partner"].pk
    assert partner_actor.client_id is None
    assert partner_actor.sees_internal is False
    assert provider_actor.is_provider and provider_actor.sees_internal
    assert provider_actor.client_id is None and provider_actor.partner_id is None


@pytest.mark.parametrize(
    ("roles", "widest"),
    [
        ([("client", "store_staff"), ("provider", "dispatcher")], "dispatcher"),
        ([("client", "client_manager"), ("provider", "provider_admin")], "provider_admin"),
        ([("client", "store_staff"), ("partner", "partner_engineer")], "partner_engineer"),
        ([("partner", "partner_engineer"), ("client", "client_manager")], "client_manager"),
        ([("partner", "partner_engineer"), ("partner", "partner_manager")], "partner_manager"),
    ],
)
def test_several_memberships_widest_role_wins(orgs, roles, widest):
    # Given a user with several memberships, created in the listed order
    user = UserFactory()
    for org, role in roles:
        MembershipFactory(user=user, organisation=orgs[org], role=role)
    # When no membership is chosen, then the widest role wins
    assert resolve_actor(user).role == widest


def test_chosen_membership_wins_over_the_widest(orgs):
    # Given a dispatcher who is also store staff of a client
    user = UserFactory()
    MembershipFactory(user=user, organisation=orgs["provider"], role="dispatcher")
    staff = MembershipFactory(user=user, organisation=orgs["client"], role="store_staff")
    # When the store staff membership is chosen
    actor = resolve_actor(user, staff.pk)
    # Then the actor is the store staff one, with its limits
    assert actor.membership_id == staff.pk
    assert actor.role == "store_staff"
    assert actor.sees_internal is False


def test_another_users_membership_cannot_be_chosen(orgs):
    # Given a store staff user and someone else's provider-admin membership
    user = UserFactory()
    own = MembershipFactory(user=user, organisation=orgs["client"], role="store_staff")
    foreign = MembershipFactory(organisation=orgs["provider"], role="provider_admin")
    # When the user asks to act as the foreign membership
    actor = resolve_actor(user, foreign.pk)
    # Then it falls back to its own membership
    assert actor.membership_id == own.pk
    assert actor.user_id == user.pk
    assert actor.role == "store_staff"
    assert not actor.is_provider


def test_an_inactive_membership_cannot_be_chosen(orgs):
    user = UserFactory()
    active = MembershipFactory(user=user, organisation=orgs["client"], role="store_staff")
    dormant = MembershipFactory(
        user=user, organisation=orgs["provider"], role="provider_admin", is_active=False
    )
    actor = resolve_actor(user, dormant.pk)
    assert actor.membership_id == active.pk
    assert actor.role == "store_staff"


def test_unknown_membership_id_falls_back_to_widest(orgs):
    user = UserFactory()
    MembershipFactory(user=user, organisation=orgs["client"], role="store_staff")
    manager = MembershipFactory(user=user, organisation=orgs["client"], role="client_manager")
    assert resolve_actor(user, 987654321).membership_id == manager.pk


def test_store_ids_are_the_listed_stores_of_store_staff(orgs):
    # Given store staff listed at two of three stores
    client = orgs["client"].client
    s1, s2, _s3 = (StoreFactory(client=client) for _ in range(3))
    staff = MembershipFactory(organisation=orgs["client"], role="store_staff")
    StoreStaffAssignmentFactory(membership=staff, store=s1)
    StoreStaffAssignmentFactory(membership=staff, store=s2)
    # Then its actor carries exactly those stores
    assert resolve_actor(staff.user).store_ids == frozenset({s1.pk, s2.pk})


def test_store_staff_without_listed_stores_has_none(orgs):
    staff = MembershipFactory(organisation=orgs["client"], role="store_staff")
    assert resolve_actor(staff.user).store_ids == frozenset()


@pytest.mark.parametrize(
    ("org", "role"),
    [("client", "client_manager"), ("partner", "partner_manager"), ("provider", "dispatcher")],
)
def test_store_ids_are_only_for_store_staff(orgs, org, role):
    # Given another role with (stray) store assignment rows
    membership = MembershipFactory(organisation=orgs[org], role=role)
    StoreStaffAssignmentFactory(membership=membership, store=StoreFactory())
    # Then the actor carries no store list
    assert resolve_actor(membership.user).store_ids == frozenset()


def test_store_ids_follow_the_chosen_membership(orgs):
    # Given a user who is store staff at one client's store and client manager elsewhere
    user = UserFactory()
    store = StoreFactory(client=orgs["client"].client)
    staff = MembershipFactory(user=user, organisation=orgs["client"], role="store_staff")
    StoreStaffAssignmentFactory(membership=staff, store=store)
    other_client = ClientFactory()
    MembershipFactory(user=user, organisation=other_client.organisation, role="client_manager")
    # Then the widest actor has no store list and the chosen store staff one has the store
    widest = resolve_actor(user)
    assert widest.role == "client_manager"
    assert widest.organisation_id == other_client.pk
    assert widest.store_ids == frozenset()
    assert resolve_actor(user, staff.pk).store_ids == frozenset({store.pk})
