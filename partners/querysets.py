"""Actor scoping for the partner network."""

from __future__ import annotations

from django.db import models

from servicedesk.actors import Actor
from servicedesk.choices import Role


class PartnerQuerySet(models.QuerySet):
    def visible_to(self, actor: Actor | None) -> PartnerQuerySet:
        if actor is None:
            return self.none()
        if actor.is_provider:
            return self
        if actor.is_partner:
            return self.filter(pk=actor.organisation_id)
        if actor.role == Role.CLIENT_MANAGER:
            # A client sees the partners working on its tickets, not the whole network.
            return self.filter(
                pk__in=models.Subquery(
                    self.model.objects.filter(tickets__client_id=actor.organisation_id).values("pk")
                )
            )
        if actor.role == Role.STORE_STAFF:
            return self.filter(
                pk__in=models.Subquery(
                    self.model.objects.filter(
                        tickets__client_id=actor.organisation_id,
                        tickets__store_id__in=actor.store_ids,
                    ).values("pk")
                )
            )
        return self.none()

    def operational(self) -> PartnerQuerySet:
        return self.filter(kind="operational", is_active=True)


class PartnerOwnedQuerySet(models.QuerySet):
    """Certifications, coverage and contracts: the provider and the partner itself."""

    def visible_to(self, actor: Actor | None) -> PartnerOwnedQuerySet:
        if actor is None:
            return self.none()
        if actor.is_provider:
            return self
        if actor.role == Role.PARTNER_MANAGER:
            return self.filter(partner_id=actor.organisation_id)
        return self.none()
