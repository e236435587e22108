"""Reads of webhook endpoints and deliveries, scoped to the caller's organisation."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from integrations.models import WebhookDelivery, WebhookEndpoint
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import NotFound

# Who may manage (and so see) an organisation's webhooks.
WEBHOOK_MANAGER_ROLES = frozenset(
    {Role.PROVIDER_ADMIN, Role.DISPATCHER, Role.CLIENT_MANAGER, Role.PARTNER_MANAGER}
)


def may_manage_webhooks(actor: Actor | None) -> bool:
    return actor is not None and actor.role in WEBHOOK_MANAGER_ROLES


def webhook_endpoint_list(*, actor: Actor | None) -> QuerySet[WebhookEndpoint]:
    """The endpoints of the actor's organisation, for the roles that manage them; nothing
    for anyone else (another organisation's endpoints do not exist for them)."""
    if not may_manage_webhooks(actor):
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(organisation_id=actor.organisation_id).order_by(
        "-created_at", "-pk"
    )


def webhook_endpoint_get(*, actor: Actor | None, endpoint_id: int) -> WebhookEndpoint:
    try:
        return webhook_endpoint_list(actor=actor).get(pk=endpoint_id)
    except (WebhookEndpoint.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Webhook not found.")) from None


def webhook_delivery_list(
    *, actor: Actor | None, endpoint_id: int | None = None
) -> QuerySet[WebhookDelivery]:
    """Deliveries of the actor's endpoints (of one, with ``endpoint_id``), newest first."""
    qs = WebhookDelivery.objects.filter(
        endpoint__in=webhook_endpoint_list(actor=actor).values("pk")
    ).select_related("endpoint")
    if endpoint_id is not None:
        qs = qs.filter(endpoint_id=endpoint_id)
    return qs.order_by("-created_at", "-pk")


def webhook_delivery_get(*, actor: Actor | None, delivery_id: int) -> WebhookDelivery:
    try:
        return webhook_delivery_list(actor=actor).get(pk=delivery_id)
    except (WebhookDelivery.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Delivery not found.")) from None
