"""Reads of clients, regions, stores and equipment, scoped by the actor."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from clients.models import Client, ClientContract, Equipment, Region, Store
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import NotFound


def region_list() -> QuerySet[Region]:
    """Regions are public reference data."""
    return Region.objects.all()


def client_list(*, actor: Actor | None) -> QuerySet[Client]:
    return Client.objects.visible_to(actor)


def store_list(*, actor: Actor | None) -> QuerySet[Store]:
    return Store.objects.visible_to(actor).select_related("client", "region", "access_calendar")


def store_get(*, actor: Actor | None, store_id: int) -> Store:
    try:
        return store_list(actor=actor).get(pk=store_id)
    except (Store.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Store not found.")) from None


def equipment_list(*, actor: Actor | None) -> QuerySet[Equipment]:
    return Equipment.objects.visible_to(actor).select_related("store")


def client_contract_list(*, actor: Actor | None) -> QuerySet[ClientContract]:
    """Service contracts ``actor`` may read: all for provider staff, its own client's for a
    client manager. They are commercial terms, so store staff and partners read none (the
    same rule as the SLA policies hanging off them)."""
    qs = ClientContract.objects.select_related("client")
    if actor is None:
        return qs.none()
    if actor.is_provider:
        return qs
    if actor.role == Role.CLIENT_MANAGER:
        return qs.filter(client_id=actor.organisation_id)
    return qs.none()
