"""Actor scoping for client-side data: the only place these rules are written."""

from __future__ import annotations

from django.db import models

from servicedesk.actors import Actor
from servicedesk.choices import Role


class ClientQuerySet(models.QuerySet):
    def visible_to(self, actor: Actor | None) -> ClientQuerySet:
        if actor is None:
            return self.none()
        if actor.is_provider:
            return self
        if actor.is_client:
            return self.filter(pk=actor.organisation_id)
        if actor.role == Role.PARTNER_MANAGER:
            # A partner knows the clients whose stores it works in or is being offered work in.
            jobs = models.Q(tickets__partner_id=actor.organisation_id) | models.Q(
                tickets__offers__partner_id=actor.organisation_id,
                tickets__offers__status="offered",
            )
            return self.filter(pk__in=self.model.objects.filter(jobs).values("pk"))
        if actor.role == Role.PARTNER_ENGINEER:
            return self.filter(
                pk__in=self.model.objects.filter(
                    tickets__partner_id=actor.organisation_id, tickets__engineer_id=actor.user_id
                ).values("pk")
            )
        return self.none()


class StoreQuerySet(models.QuerySet):
    def visible_to(self, actor: Actor | None) -> StoreQuerySet:
        if actor is None:
            return self.none()
        if actor.is_provider:
            return self
        if actor.role == Role.CLIENT_MANAGER:
            return self.filter(client_id=actor.organisation_id)
        if actor.role == Role.STORE_STAFF:
            return self.filter(client_id=actor.organisation_id, pk__in=actor.store_ids)
        if actor.role == Role.PARTNER_MANAGER:
            return self.filter(pk__in=_partner_ticket_store_ids(actor, engineer_only=False))
        if actor.role == Role.PARTNER_ENGINEER:
            return self.filter(pk__in=_partner_ticket_store_ids(actor, engineer_only=True))
        return self.none()


class EquipmentQuerySet(models.QuerySet):
    def visible_to(self, actor: Actor | None) -> EquipmentQuerySet:
        from clients.models import Store

        return self.filter(store__in=Store.objects.visible_to(actor))


def _partner_ticket_store_ids(actor: Actor, *, engineer_only: bool) -> models.QuerySet:
    """Stores of the jobs a partner (or one of its engineers) holds or is being offered.

    Tickets live on a higher floor; this reaches them through the reverse relation only.
    """
    from clients.models import Store

    jobs = models.Q(tickets__partner_id=actor.organisation_id)
    if engineer_only:
        jobs &= models.Q(tickets__engineer_id=actor.user_id)
    else:
        jobs |= models.Q(
            tickets__offers__partner_id=actor.organisation_id, tickets__offers__status="offered"
        )
    return Store.objects.filter(jobs).values("pk")
