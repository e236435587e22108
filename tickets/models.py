"""Tickets and everything that happens to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Equipment, Store
from partners.models import Competency, Partner
from servicedesk.models import TimeStampedModel
from tickets.choices import (
    Category,
    EventKind,
    OfferStatus,
    Priority,
    TicketKind,
    TicketStatus,
)
from tickets.querysets import (
    TicketChildQuerySet,
    TicketEventQuerySet,
    TicketOwnedQuerySet,
    TicketQuerySet,
)


class Ticket(TimeStampedModel):
    """An incident, request or work order at one store of one client.

    Only ``tickets.services`` change it; ``version`` increases on every change so that a
    write based on a stale read is refused instead of silently overwriting.
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="tickets")
    number = models.PositiveIntegerField(_("number"))
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="tickets")
    equipment = models.ForeignKey(
        Equipment, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=TicketKind.choices, default=TicketKind.INCIDENT
    )
    category = models.CharField(
        _("category"), max_length=16, choices=Category.choices, default=Category.HARDWARE
    )
    competency = models.ForeignKey(
        Competency, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    priority = models.CharField(
        _("priority"), max_length=2, choices=Priority.choices, default=Priority.P3
    )
    needs_visit = models.BooleanField(_("needs a field visit"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    # Where a client's answer returns the ticket to when it leaves waiting_client.
    status_before_wait = models.CharField(
        max_length=16, choices=TicketStatus.choices, blank=True, editable=False
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="engineer_tickets",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="created_tickets",
    )
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Set by dispatch when no eligible partner is left; cleared when the job is offered again.
    needs_attention = models.BooleanField(_("needs a dispatcher"), default=False)
    attention_reason = models.CharField(_("why"), max_length=500, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "number"], name="ticket_number_per_client"),
            models.UniqueConstraint(
                fields=["client", "external_id"],
                condition=Q(external_id__isnull=False),
                name="ticket_external_id_per_client",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="ticket_version_positive"),
            models.CheckConstraint(condition=Q(number__gte=1), name="ticket_number_positive"),
            models.CheckConstraint(
                condition=Q(status__in=TicketStatus.values), name="ticket_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="ticket_priority_valid"
            ),
            models.CheckConstraint(
                condition=Q(category__in=Category.values), name="ticket_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=TicketKind.values), name="ticket_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status_before_wait="") | Q(status_before_wait__in=TicketStatus.values),
                name="ticket_status_before_wait_valid",
            ),
            models.CheckConstraint(
                condition=Q(engineer__isnull=True) | Q(partner__isnull=False),
                name="ticket_engineer_needs_partner",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "status"], name="ticket_client_status"),
            models.Index(fields=["store", "-created_at"], name="ticket_store_created"),
            models.Index(
                fields=["partner", "status"],
                name="ticket_partner_status",
                condition=Q(partner__isnull=False),
            ),
            models.Index(fields=["-created_at", "-id"], name="ticket_created_id"),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated_id"),
            models.Index(
                fields=["-updated_at"],
                condition=Q(needs_attention=True),
                name="ticket_needs_attention",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} · {self.subject}"

    @property
    def reference(self) -> str:
        """The number people say on the phone, e.g. ``MAG-000123``."""
        return f"{self.client.code}-{self.number:06d}"


class CurrentTransactionId(models.Func):
    """The inserting transaction's 64-bit id: the key that orders the event feed by commit."""

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = models.BigIntegerField()


class TicketEvent(models.Model):
    """One entry of a ticket's append-only timeline. Written only by ``tickets.events``.

    ``txid`` is set by the database on insert (also by the sweep's bulk statements, which
    leave the column out): the event feed walks ``(txid, id)`` up to the oldest running
    transaction, so an event committed late can never appear behind a reader's cursor.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=32, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_role = models.CharField(max_length=32, blank=True)
    is_internal = models.BooleanField(_("internal"), default=False)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), db_index=True)
    txid = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="event_ticket_time"),
            models.Index(fields=["txid", "id"], name="event_feed"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} @ {self.created_at:%Y-%m-%d %H:%M:%S}"


class Comment(models.Model):
    """A message on a ticket. Internal ones are for the provider's eyes only."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    author_role = models.CharField(max_length=32, blank=True)
    body = models.TextField(_("text"))
    is_internal = models.BooleanField(_("internal"), default=False)
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author} on {self.ticket_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Never the user's file name on disk: the name stays in ``original_name``.
    return f"attachments/{instance.ticket.client_id}/{instance.ticket_id}/{instance.sha256}"


class Attachment(models.Model):
    """A file on a ticket, validated by size and content type, identified by SHA-256."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        Comment, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    # A photo taken on a visit (the work report's evidence).
    visit = models.ForeignKey(
        "tickets.Visit", on_delete=models.SET_NULL, null=True, blank=True, related_name="photos"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    is_internal = models.BooleanField(_("internal"), default=False)
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(size__gt=0), name="attachment_size")]

    def __str__(self) -> str:
        return self.original_name


class Offer(models.Model):
    """A field job offered to a partner, to accept before ``deadline``.

    ``decline_reason`` holds the reason of whoever ended the offer: the partner's decline or
    the dispatcher's (or the escalation ladder's) withdrawal.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="offers")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="offers")
    status = models.CharField(
        _("status"), max_length=16, choices=OfferStatus.choices, default=OfferStatus.OFFERED
    )
    offered_at = models.DateTimeField(_("offered at"))
    deadline = models.DateTimeField(_("accept by"))
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decline_reason = models.TextField(_("reason"), blank=True)
    # When it stopped being live for any reason but acceptance: declined, expired, withdrawn
    # (an accepted offer withdrawn later keeps its ``responded_at`` and gets this too).
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    objects = TicketOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-offered_at", "-id"]
        constraints = [
            # One job has at most one live offer.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="offered"), name="offer_one_live_per_ticket"
            ),
            models.CheckConstraint(
                condition=Q(deadline__gt=F("offered_at")), name="offer_deadline_after_offer"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OfferStatus.values), name="offer_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["deadline"], condition=Q(status="offered"), name="offer_live_deadline"
            ),
            models.Index(fields=["partner", "status"], name="offer_partner_status"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.partner} ({self.status})"


class Visit(models.Model):
    """An engineer's trip to the store: ETA, check-in/out, position, report and sign-off."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="visits")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="visits")
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    eta = models.DateTimeField(_("ETA"), null=True, blank=True)
    en_route_at = models.DateTimeField(_("en route at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    check_in_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_in_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_in_distance_m = models.PositiveIntegerField(null=True, blank=True)
    # Far from the store's coordinates (tickets.constants.CHECK_IN_FAR_METRES): for a look.
    check_in_flagged = models.BooleanField(_("check-in far from the store"), default=False)
    # The phone's own clock at check-in, kept for audit; ``checked_in_at`` is the server's.
    check_in_device_at = models.DateTimeField(null=True, blank=True)
    checklist_kind = models.CharField(_("checklist"), max_length=32, blank=True)
    checklist = models.JSONField(_("checklist answers"), default=dict, blank=True)
    work_report = models.TextField(_("work report"), blank=True)
    parts_used = models.JSONField(_("parts used"), default=list, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    signed_off_on_device = models.BooleanField(_("signed on the engineer's device"), default=False)
    # The job was taken from the partner (withdrawn, arrival breached) before the visit ended.
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TicketOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True)
                | Q(checked_in_at__isnull=False, checked_out_at__gte=F("checked_in_at")),
                name="visit_checkout_after_checkin",
            ),
            # One visit under way per job: a new one only after the last ended or was called off.
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(checked_out_at__isnull=True, cancelled_at__isnull=True),
                name="visit_one_open_per_ticket",
            ),
        ]

    def __str__(self) -> str:
        return f"Visit {self.pk} for {self.ticket_id}"

    @property
    def is_open(self) -> bool:
        """Under way: neither checked out nor called off."""
        return self.checked_out_at is None and self.cancelled_at is None


class EscalationPolicy(models.Model):
    """Which steps of the field escalation ladder a client contract wants.

    A contract without a row gets every step (the defaults). Lives here rather than on
    ``clients.ClientContract`` because the ladder is the ticket floor's business.
    """

    contract = models.OneToOneField(
        "clients.ClientContract", on_delete=models.CASCADE, related_name="escalation_policy"
    )
    reoffer_on_decline = models.BooleanField(
        _("offer a declined job to the next partner"), default=True
    )
    reoffer_on_accept_timeout = models.BooleanField(
        _("offer an expired job to the next partner"), default=True
    )
    alert_on_arrival_warning = models.BooleanField(
        _("alert when arrival is at risk and nobody is en route"), default=True
    )
    reassign_on_arrival_breach = models.BooleanField(
        _("take the job from a partner that does not arrive in time"), default=True
    )

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")

    def __str__(self) -> str:
        return f"{self.contract} · escalation"


class EscalationStep(models.Model):
    """The effect key of one escalation step: inserted (ON CONFLICT DO NOTHING) in the
    transaction that carries the step out, so a retried or concurrent task finds it and
    skips. ``threshold`` is the clock threshold that triggered the step, when there is one."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalation_steps")
    threshold = models.ForeignKey(
        "sla.ClockThreshold", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    step = models.CharField(max_length=64)
    outcome = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "threshold", "step"],
                nulls_distinct=False,
                name="escalation_step_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.step} ({self.outcome})"
