"""Accounts and tenancy: users, organisations, memberships with roles, API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicedesk.choices import ROLES_BY_KIND, OrganisationKind, Role
from servicedesk.fields import TimeZoneField, valid_time_zone_check


class TimeStampedModel(models.Model):
    """Adds ``created_at`` and ``updated_at`` (UTC)."""

    # A default rather than auto_now_add, so imports and history can carry their real time.
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class User(AbstractUser):
    """A person who logs in. What they may do comes from their memberships."""

    time_zone = TimeZoneField(_("time zone"), default="Europe/Moscow")
    language = models.CharField(
        _("language"), max_length=8, choices=[("ru", "Русский"), ("en", "English")], default="ru"
    )

    class Meta:
        constraints = [valid_time_zone_check("time_zone", "user_time_zone_valid")]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Organisation(TimeStampedModel):
    """The provider, a client or a partner: the unit of tenancy.

    ``clients.Client`` and ``partners.Partner`` use their organisation as primary key, so an
    actor's organisation id *is* its client or partner id.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=OrganisationKind.choices)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [
            # There is one provider: the company running this platform.
            models.UniqueConstraint(
                fields=["kind"], condition=Q(kind="provider"), name="organisation_one_provider"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=OrganisationKind.values), name="organisation_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    """A user's role in one organisation. ``store_staff`` is limited to its listed stores."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role"
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"

    def clean(self) -> None:
        if self.organisation_id and self.role not in ROLES_BY_KIND[self.organisation.kind]:
            raise ValidationError(
                {
                    "role": _("A %(kind)s organisation has no “%(role)s” role.")
                    % {"kind": self.organisation.get_kind_display(), "role": self.role}
                }
            )


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(TimeStampedModel):
    """A bearer token acting as one membership. Only the SHA-256 of the token is stored."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text=_("First characters, to recognise it."))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> tuple[str, str]:
        """A new raw token and its hash; the raw value is shown once and never stored."""
        raw = secrets.token_urlsafe(32)
        return raw, hash_token(raw)


class Notification(models.Model):
    """An in-app message to one user (SLA warnings and breaches, later offers and more).

    ``dedupe_key`` makes sending idempotent: a retried task finds the row already there.
    ``ticket_id`` is a plain number, not a foreign key: this floor knows nothing of tickets.
    """

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=32)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    ticket_id = models.PositiveBigIntegerField(null=True, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # E-mail delivery (``servicedesk.notifications``): held until ``deliver_after`` during
    # the recipient's quiet hours; ``email_sent_at`` set once sent (a redelivery skips it).
    deliver_after = models.DateTimeField(_("e-mail held until"), null=True, blank=True)
    email_sent_at = models.DateTimeField(_("e-mail sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notification_once_per_recipient"
            )
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.title}"


class OutboxMessage(models.Model):
    """Work that must never be lost, written in the transaction that causes it.

    A relay task publishes pending rows to Celery after commit (and again on every beat
    tick, so work survives a broker outage); ``key`` is the effect key that makes writing it
    idempotent, and the receiving task is idempotent too.
    """

    topic = models.CharField(max_length=100, help_text=_("The Celery task to run."))
    key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                condition=Q(dispatched_at__isnull=True),
                name="outbox_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.key}"


class EmailChoice(models.TextChoices):
    """Which notifications of a kind group a user wants by e-mail (in-app: always all)."""

    OFF = "off", _("none")
    URGENT = "urgent", _("urgent only")
    ALL = "all", _("all")


class NotificationPreference(models.Model):
    """How one user wants to be told (``servicedesk.notifications`` reads it).

    Without a row the defaults apply: e-mail for urgent notifications only, no quiet hours,
    not on duty. Quiet hours are wall-clock times in the user's own ``time_zone``; a start
    later than the end spans midnight (22:00–07:00), equal times mean none. ``on_duty``
    marks provider staff who take urgent alerts when the dispatchers meant to get them are
    all in their quiet hours.
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_sla = models.CharField(
        _("e-mail for SLA warnings and breaches"),
        max_length=8,
        choices=EmailChoice.choices,
        default=EmailChoice.URGENT,
    )
    email_dispatch = models.CharField(
        _("e-mail for offers and escalations"),
        max_length=8,
        choices=EmailChoice.choices,
        default=EmailChoice.URGENT,
    )
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    on_duty = models.BooleanField(
        _("on duty"),
        default=False,
        help_text=_("Provider staff: takes urgent alerts when the dispatchers are off."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.CheckConstraint(
                condition=Q(email_sla__in=EmailChoice.values)
                & Q(email_dispatch__in=EmailChoice.values),
                name="notification_preference_email_valid",
            ),
            models.CheckConstraint(
                condition=Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | Q(quiet_start__isnull=False, quiet_end__isnull=False),
                name="notification_preference_quiet_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.email_sla}/{self.email_dispatch}"


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` use: the request it guarded and, once final, its response.

    The unique ``(principal, key)`` row is inserted (``ON CONFLICT DO NOTHING``) before the
    view runs, so of two concurrent duplicates exactly one runs the view; ``completed_at``
    stays null while it is in progress. ``principal`` is ``token:<id>`` or
    ``user:<id>@org:<id>``, so the same key from another caller is independent.
    """

    principal = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2048)
    body_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.BinaryField(default=b"", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_unique")
        ]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expires")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"


class LoginFailure(models.Model):
    """One failed sign-in step, counted by ``servicedesk.login_guard`` to lock out guessing.

    ``scope`` says what ``key`` is: the username as typed (lower-cased; unknown names count
    the same, so a lockout reveals nothing), the client's IP address, or a user id for
    second-factor codes. Rows older than the window are pruned as new ones arrive.
    """

    scope = models.CharField(max_length=16)
    key = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "created_at"], name="login_failure_lookup")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} {self.created_at:%Y-%m-%d %H:%M}"
