"""Reads of SLA policies and deadline previews, scoped by the actor.

Policies are the provider's commercial terms with a client: provider staff read all of
them, a client manager those of its own contracts, nobody else any (store staff and
partners work to deadlines on tickets, not to the contract).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from calendars.selectors import calendar_get
from clients.models import Store
from clients.selectors import store_get
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import NotFound, PermissionDenied, ValidationFailed
from sla import services
from sla.models import SlaPolicy


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
