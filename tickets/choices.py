from django.db import models
from django.utils.translation import gettext_lazy as _

from sla.choices import Category, Priority  # noqa: F401 - re-exported: tickets speak them too


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    ACCEPTED = "accepted", _("Accepted")
    EN_ROUTE = "en_route", _("En route")
    ON_SITE = "on_site", _("On site")
    WAITING_CLIENT = "waiting_client", _("Waiting for client")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class TicketKind(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    REQUEST = "request", _("Service request")
    WORK_ORDER = "work_order", _("Project work order")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS_CHANGED = "status_changed", _("Status changed")
    REOPENED = "reopened", _("Reopened")
    ASSIGNED = "assigned", _("Assigned")
    UNASSIGNED = "unassigned", _("Unassigned")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    CATEGORY_CHANGED = "category_changed", _("Category changed")
    EDITED = "edited", _("Details edited")
    COMMENTED = "commented", _("Comment added")
    ATTACHED = "attached", _("File attached")
    OFFER_MADE = "offer_made", _("Offer made")
    OFFER_ACCEPTED = "offer_accepted", _("Offer accepted")
    OFFER_DECLINED = "offer_declined", _("Offer declined")
    OFFER_EXPIRED = "offer_expired", _("Offer expired")
    OFFER_WITHDRAWN = "offer_withdrawn", _("Offer withdrawn")
    VISIT_UPDATED = "visit_updated", _("Visit updated")
    SLA = "sla", _("SLA clock")
    ESCALATED = "escalated", _("Escalated")


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("Awaiting answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")
