"""Actor scoping for tickets and what hangs off them: the only place these rules live."""

from __future__ import annotations

from django.db import models

from servicedesk.actors import Actor
from servicedesk.choices import Role


def ticket_scope(actor: Actor | None, prefix: str = "") -> models.Q | None:
    """The filter selecting the tickets ``actor`` may see; ``None`` means everything.

    ``prefix`` lets related models (events, comments, …) reuse it as ``ticket__…``.
    """
    p = prefix
    if actor is None:
        return models.Q(pk__in=[])
    if actor.is_provider:
        return None
    if actor.role == Role.CLIENT_MANAGER:
        return models.Q(**{f"{p}client_id": actor.organisation_id})
    if actor.role == Role.STORE_STAFF:
        return models.Q(
            **{f"{p}client_id": actor.organisation_id, f"{p}store_id__in": actor.store_ids}
        )
    if actor.role == Role.PARTNER_MANAGER:
        # Jobs it holds, plus jobs it is being offered right now (to decide on them).
        return models.Q(**{f"{p}partner_id": actor.organisation_id}) | models.Q(
            **{
                f"{p}offers__partner_id": actor.organisation_id,
                f"{p}offers__status": "offered",
            }
        )
    if actor.role == Role.PARTNER_ENGINEER:
        return models.Q(
            **{f"{p}partner_id": actor.organisation_id, f"{p}engineer_id": actor.user_id}
        )
    return models.Q(pk__in=[])


class TicketQuerySet(models.QuerySet):
    def visible_to(self, actor: Actor | None) -> TicketQuerySet:
        scope = ticket_scope(actor)
        if scope is None:
            return self
        if actor is not None and actor.role == Role.PARTNER_MANAGER:
            # The offers join can repeat a ticket; keep rows unique without DISTINCT.
            return self.filter(pk__in=self.model.objects.filter(scope).values("pk"))
        return self.filter(scope)

    def open(self) -> TicketQuerySet:
        from tickets.constants import OPEN_STATUSES

        return self.filter(status__in=OPEN_STATUSES)

    def with_list_related(self) -> TicketQuerySet:
        return self.select_related(
            "client", "store", "store__region", "partner", "engineer", "equipment"
        )


class TicketChildQuerySet(models.QuerySet):
    """Events, comments, attachments: visible with their ticket, internal ones to staff only."""

    def visible_to(self, actor: Actor | None) -> TicketChildQuerySet:
        from tickets.models import Ticket

        qs = self.filter(ticket__in=Ticket.objects.visible_to(actor).values("pk"))
        if actor is None or not actor.sees_internal:
            qs = qs.filter(is_internal=False)
        return qs


class TicketEventQuerySet(TicketChildQuerySet):
    """Timeline entries: as their ticket, and a partner never reads entries about another
    partner (who held the job before it, what they were offered)."""

    def visible_to(self, actor: Actor | None) -> TicketEventQuerySet:
        qs = super().visible_to(actor)
        if actor is not None and actor.is_partner:
            about_another = models.Q(data__has_key="partner_id") & ~models.Q(
                data__partner_id=actor.organisation_id
            )
            qs = qs.exclude(about_another)
        return qs


class TicketOwnedQuerySet(models.QuerySet):
    """Offers and visits: the provider sees all; a partner its own; a client its tickets'."""

    def visible_to(self, actor: Actor | None) -> TicketOwnedQuerySet:
        from tickets.models import Ticket

        if actor is None:
            return self.none()
        if actor.is_provider:
            return self
        qs = self.filter(ticket__in=Ticket.objects.visible_to(actor).values("pk"))
        if actor.is_partner:
            qs = qs.filter(partner_id=actor.organisation_id)
        return qs
