"""Reads of accounts."""

from __future__ import annotations

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import QuerySet

from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.models import ApiToken, Membership, Notification, Organisation, User


def membership_list(*, user: User) -> QuerySet[Membership]:
    """The user's own active roles: the rows the actor resolver chooses from."""
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("organisation")
        .order_by("organisation__name", "role")
    )


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's own notifications, newest first; nobody reads another's."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def integration_token_list(*, actor: Actor | None) -> QuerySet[ApiToken]:
    """Integration tokens ``actor`` manages (``servicedesk.services`` states who issues
    them): every one for a provider administrator, its own organisation's for a client or
    partner manager. Anyone else is refused with ``PermissionDenied``."""
    from servicedesk.services import INTEGRATION_USERNAME_PREFIX, integration_issuer_check

    actor = integration_issuer_check(actor)
    qs = ApiToken.objects.filter(
        membership__user__username__startswith=INTEGRATION_USERNAME_PREFIX,
        # Django stores an unusable password with this prefix: nobody signs in as these.
        membership__user__password__startswith=UNUSABLE_PASSWORD_PREFIX,
    ).select_related("membership__organisation", "membership__user")
    if actor.role != Role.PROVIDER_ADMIN:
        qs = qs.filter(membership__organisation_id=actor.organisation_id)
    return qs.order_by("-created_at", "-id")


def integration_organisations(*, actor: Actor | None) -> QuerySet[Organisation]:
    """Organisations ``actor`` may issue integration tokens for: every one for a provider
    administrator, its own for a client or partner manager, none for anyone else."""
    qs = Organisation.objects.order_by("kind", "name")
    if actor is None:
        return qs.none()
    if actor.role == Role.PROVIDER_ADMIN:
        return qs
    if actor.role in (Role.CLIENT_MANAGER, Role.PARTNER_MANAGER):
        return qs.filter(pk=actor.organisation_id)
    return qs.none()
