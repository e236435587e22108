"""Outbound webhooks: endpoints, one delivery per (endpoint, event), the fan-out cursor."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.choices import DeliveryStatus, WebhookEventType
from servicedesk.models import Membership, Organisation
from tickets.models import TicketEvent


class WebhookEndpoint(models.Model):
    """A URL of one organisation that receives the events its creator's role may see.

    The secret is shown once, at creation (and on rotation); it is stored sealed with a key
    derived from ``SECRET_KEY`` (``integrations.crypto``) and never returned again.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    created_by = models.ForeignKey(
        Membership,
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
        help_text=_("Whose view of the tickets the endpoint receives."),
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = ArrayField(
        models.CharField(max_length=40, choices=WebhookEventType.choices),
        verbose_name=_("event types"),
    )
    secret_sealed = models.TextField(editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="webhook_org")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: the payload frozen at fan-out, and how sending it went.

    ``next_attempt_at`` is set while the delivery is pending; a sender claims a row by moving
    it forward by a lease, so a worker that dies mid-send leaves it to be retried.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=40, choices=WebhookEventType.choices)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_response_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    response_body = models.TextField(blank=True, help_text=_("The first 1 KB of the answer."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_list"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint_id}:{self.event_id} {self.status}"

    @property
    def webhook_id(self) -> str:
        """The ``Webhook-Id`` header: the same on every attempt, so receivers can dedupe."""
        return f"whd_{self.pk}"


class WebhookFanoutCursor(models.Model):
    """Where the fan-out stands in the event feed: one row, locked while it moves."""

    name = models.CharField(max_length=32, primary_key=True)
    txid = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} @ ({self.txid}, {self.event_id})"
