"""Reads of accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from servicedesk.models import Membership, User


def membership_list(*, user: User) -> QuerySet[Membership]:
    """The user's own active roles: the rows the actor resolver chooses from."""
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("organisation")
        .order_by("organisation__name", "role")
    )
