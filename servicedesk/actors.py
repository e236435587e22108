"""Who is acting: one resolver for requests, tasks and commands.

An actor is a user acting for one organisation in one role. Selectors take an actor and
return only what it may see; services take an actor and check what it may do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from servicedesk.choices import CLIENT_ROLES, PARTNER_ROLES, PROVIDER_ROLES, Role
from servicedesk.models import Membership, User

# When a user has several memberships and has not picked one, the widest role wins.
_ROLE_PRECEDENCE = [
    Role.PROVIDER_ADMIN,
    Role.DISPATCHER,
    Role.CLIENT_MANAGER,
    Role.PARTNER_MANAGER,
    Role.PARTNER_ENGINEER,
    Role.STORE_STAFF,
]


@dataclass(frozen=True)
class Actor:
    """An immutable snapshot of (user, organisation, role) plus a store-staff store list."""

    user_id: int
    membership_id: int
    organisation_id: int
    organisation_name: str
    role: str
    store_ids: frozenset[int] = frozenset()
    user: User | None = field(default=None, compare=False, repr=False)

    @property
    def is_provider(self) -> bool:
        return self.role in PROVIDER_ROLES

    @property
    def is_client(self) -> bool:
        return self.role in CLIENT_ROLES

    @property
    def is_partner(self) -> bool:
        return self.role in PARTNER_ROLES

    @property
    def client_id(self) -> int | None:
        return self.organisation_id if self.is_client else None

    @property
    def partner_id(self) -> int | None:
        return self.organisation_id if self.is_partner else None

    @property
    def sees_internal(self) -> bool:
        """Internal comments and events are the provider's own notes."""
        return self.is_provider

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


def actor_from_membership(membership: Membership) -> Actor:
    store_ids: frozenset[int] = frozenset()
    if membership.role == Role.STORE_STAFF:
        store_ids = frozenset(membership.store_assignments.values_list("store_id", flat=True))
    return Actor(
        user_id=membership.user_id,
        membership_id=membership.pk,
        organisation_id=membership.organisation_id,
        organisation_name=membership.organisation.name,
        role=membership.role,
        store_ids=store_ids,
        user=membership.user,
    )


def resolve_actor(user: User | None, membership_id: int | None = None) -> Actor | None:
    """The actor ``user`` acts as: the chosen membership, else its widest active one.

    Returns ``None`` for anonymous or inactive users and users without an active membership:
    such a caller sees nothing.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    memberships = list(
        Membership.objects.filter(user=user, is_active=True).select_related("organisation", "user")
    )
    if not memberships:
        return None
    chosen = next((m for m in memberships if m.pk == membership_id), None)
    if chosen is None:
        chosen = min(memberships, key=lambda m: _ROLE_PRECEDENCE.index(m.role))
    return actor_from_membership(chosen)
