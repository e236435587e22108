"""Webhook event types (the names subscribers see) and delivery states."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEventType(models.TextChoices):
    TICKET_CREATED = "ticket.created", _("Ticket created")
    TICKET_STATUS_CHANGED = "ticket.status_changed", _("Ticket status changed (and reopened)")
    TICKET_ASSIGNED = "ticket.assigned", _("Ticket assigned")
    TICKET_UNASSIGNED = "ticket.unassigned", _("Ticket unassigned")
    TICKET_PRIORITY_CHANGED = "ticket.priority_changed", _("Ticket priority changed")
    TICKET_COMMENT_ADDED = "ticket.comment_added", _("Comment added")
    TICKET_ATTACHMENT_ADDED = "ticket.attachment_added", _("File attached")
    TICKET_ESCALATED = "ticket.escalated", _("Ticket escalated")
    SLA_WARNING = "sla.warning", _("SLA warning")
    SLA_BREACHED = "sla.breached", _("SLA breached")
    VISIT_CHECKED_IN = "visit.checked_in", _("Engineer checked in")
    VISIT_UPDATED = "visit.updated", _("Visit updated")
    OFFER_MADE = "offer.made", _("Offer made")
    OFFER_ACCEPTED = "offer.accepted", _("Offer accepted")
    OFFER_DECLINED = "offer.declined", _("Offer declined")
    OFFER_EXPIRED = "offer.expired", _("Offer expired")
    OFFER_WITHDRAWN = "offer.withdrawn", _("Offer withdrawn")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    GIVEN_UP = "given_up", _("Given up")
