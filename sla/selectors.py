"""Reads of SLA policies and deadline previews, scoped by the actor.

Policies are the provider's commercial terms with a client: provider staff read all of
them, a client manager those of its own contracts, nobody else any (store staff and
partners work to deadlines on tickets, not to the contract).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from calendars.selectors import calendar_get
from clients.models import Store
from clients.selectors import store_get
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import NotFound, PermissionDenied, ValidationFailed
from sla import services
from sla.choices import Agreement
from sla.models import SlaClock, SlaPolicy


def policy_list(*, actor: Actor | None) -> QuerySet[SlaPolicy]:
    """SLA policies ``actor`` may read, with contract, client and calendar joined."""
    qs = SlaPolicy.objects.select_related("contract", "contract__client", "calendar")
    if actor is None:
        return qs.none()
    if actor.is_provider:
        return qs
    if actor.role == Role.CLIENT_MANAGER:
        return qs.filter(contract__client_id=actor.organisation_id)
    return qs.none()


def policy_get(*, actor: Actor | None, policy_id: int) -> SlaPolicy:
    try:
        return policy_list(actor=actor).get(pk=policy_id)
    except (SlaPolicy.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("SLA policy not found.")) from None


def preview_for_store(
    *, actor: Actor | None, store_id: int, priority: str, category: str, start: datetime
) -> services.StorePreview:
    """ "When will you be there?" for a store the actor may see.

    The answer reveals the client's SLA, so partners (who work to their own OLA) may not
    ask; a store the actor cannot see is a field error, the same as one that does not exist.
    """
    if actor is None or actor.is_partner:
        raise PermissionDenied(_("Partners work to their own OLA; the client SLA is not theirs."))
    store = _store(actor, store_id)
    return services.sla_preview_for_store(
        store=store, priority=priority, category=category, start=start
    )


def preview_calculator(
    *,
    actor: Actor | None,
    calendar_id: int,
    start: datetime,
    target_seconds: int,
    pauses: list[tuple[datetime, datetime | None]],
    time_zone: str = "",
    store_id: int | None = None,
    threshold: Decimal = Decimal("0.75"),
) -> services.CalculatorPreview:
    """The business-time calculator on a calendar (reference data: any actor)."""
    try:
        calendar = calendar_get(actor=actor, calendar_id=calendar_id)
    except NotFound:
        message = _("Unknown calendar: %(id)s.") % {"id": calendar_id}
        raise ValidationFailed(message, fields={"calendar": [message]}) from None
    store = _store(actor, store_id) if store_id is not None else None
    return services.sla_preview_calculator(
        calendar=calendar,
        start=start,
        target_seconds=target_seconds,
        pauses=pauses,
        time_zone=time_zone,
        store=store,
        threshold=threshold,
    )


def _store(actor: Actor | None, store_id: int) -> Store:
    """A store the actor may see; a field error otherwise, the same as for a missing one."""
    try:
        store = store_get(actor=actor, store_id=store_id)
    except NotFound:
        message = _("Unknown store: %(id)s.") % {"id": store_id}
        raise ValidationFailed(message, fields={"store": [message]}) from None
    return store


def clock_list(*, actor: Actor | None) -> QuerySet[SlaClock]:
    """SLA clocks of the tickets ``actor`` may see, as ``tickets.selectors.ticket_clocks``
    shows them: the client SLA for everyone who sees the ticket; a partner's OLA clocks only
    for the provider and that partner.

    The ticket scope mirrors ``tickets.querysets.ticket_scope`` through the clock's
    ``ticket`` relation (a string foreign key: this floor imports nothing of tickets).
    """
    qs = SlaClock.objects.select_related(
        "ticket", "ticket__client", "ticket__store", "partner", "calendar", "access_calendar"
    )
    if actor is None:
        return qs.none()
    if actor.is_provider:
        return qs
    org = actor.organisation_id
    if actor.role == Role.CLIENT_MANAGER:
        return qs.filter(ticket__client_id=org, agreement=Agreement.SLA)
    if actor.role == Role.STORE_STAFF:
        return qs.filter(
            ticket__client_id=org, ticket__store_id__in=actor.store_ids, agreement=Agreement.SLA
        )
    own = Q(agreement=Agreement.SLA) | Q(agreement=Agreement.OLA, partner_id=org)
    if actor.role == Role.PARTNER_MANAGER:
        # Jobs it holds, plus jobs it is being offered right now; the offers join can repeat
        # a clock, so the offered tickets come in as a subquery.
        offered = SlaClock.objects.filter(
            ticket__offers__partner_id=org, ticket__offers__status="offered"
        ).values("ticket_id")
        return qs.filter(own).filter(Q(ticket__partner_id=org) | Q(ticket_id__in=offered))
    if actor.role == Role.PARTNER_ENGINEER:
        return qs.filter(own, ticket__partner_id=org, ticket__engineer_id=actor.user_id)
    return qs.none()
