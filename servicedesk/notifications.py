"""The one notification service: in-app rows always, e-mail per preference, after commit.

``notify`` is what every part of the platform calls to tell people something. For each
recipient it writes one in-app ``Notification`` (unique per recipient and ``dedupe_key``,
so a retried task writes nothing twice) and, for the recipients who want it by e-mail, an
outbox message (``servicedesk.send_notification_email``, key ``email:<notification id>``)
in the same transaction: the e-mail leaves only after the transaction commits, is never
lost (the outbox relay republishes it), and is sent once (the task skips a notification
whose ``email_sent_at`` is set).

**Preferences** (``NotificationPreference``; no row = the defaults). Kinds fall in two
groups: ``sla`` (``sla_*``: the SLA engine's warnings and breaches) and ``dispatch``
(offers, escalations, flags). Per group a user wants e-mail for none, urgent only (the
default) or all of them. In-app notifications are always written.

**Quiet hours** are wall-clock times in the recipient's own zone (``User.time_zone``); a
start after the end spans midnight. A *non-urgent* e-mail for a recipient inside them is
held: ``Notification.deliver_after`` = the end of the quiet hours, and the outbox message
becomes available then (the beat's relay tick publishes it). Urgent e-mails are never held.

**On duty.** An urgent notification must reach someone awake at the provider. When none of
its provider-staff recipients (members of the provider organisation: dispatchers, provider
admins) is *available* — available means outside their quiet hours, or marked on duty —
it also goes to every active provider-staff user marked ``on_duty`` who is not a
recipient already, in-app and by e-mail whatever their e-mail preference (that is what
being on duty means). This includes the case of a list with no provider staff at all and
of a provider with no dispatcher. Partner and client recipients never count as cover.

**E-mail text** is rendered by the task in the recipient's language
(``templates/emails/notification.<language>.txt`` under ``translation.override``), with
the notification's time written in the recipient's zone and its UTC offset (``12:00
(UTC+3)``). Title and body are stored as the caller wrote them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from servicedesk.actors import resolve_actor
from servicedesk.choices import OrganisationKind
from servicedesk.exceptions import ValidationFailed
from servicedesk.models import (
    EmailChoice,
    Membership,
    Notification,
    NotificationPreference,
    OutboxMessage,
    User,
)
from servicedesk.outbox import outbox_put_many
from servicedesk.timezones import utc_offset_label

logger = logging.getLogger(__name__)

EMAIL_TOPIC = "servicedesk.send_notification_email"
DEFAULT_PREFERENCE = NotificationPreference(
    email_sla=EmailChoice.URGENT, email_dispatch=EmailChoice.URGENT, on_duty=False
)


def kind_group(kind: str) -> str:
    """The preference group of a notification kind: ``sla`` or ``dispatch``."""
    return "sla" if kind.startswith("sla_") else "dispatch"


def preference_of(user: User) -> NotificationPreference:
    """The user's preferences, or the defaults when they never set any."""
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return DEFAULT_PREFERENCE


def wants_email(preference: NotificationPreference, *, kind: str, urgent: bool) -> bool:
    """Whether ``preference`` asks for an e-mail of this kind and urgency."""
    choice = preference.email_sla if kind_group(kind) == "sla" else preference.email_dispatch
    return choice == EmailChoice.ALL or (choice == EmailChoice.URGENT and urgent)


def quiet_until(preference: NotificationPreference, *, zone: str, now: datetime) -> datetime | None:
    """The end of the quiet hours ``now`` falls in (an aware instant), None outside them."""
    start, end = preference.quiet_start, preference.quiet_end
    if start is None or end is None or start == end:
        return None
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:  # e.g. 13:00–14:00 on one day
        inside, day = start <= clock < end, local.date()
    else:  # e.g. 22:00–07:00 across midnight
        inside = clock >= start or clock < end
        day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return _local_instant(day, end, tz)


def _local_instant(day, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``at`` in ``tz``, as UTC (a time skipped by DST moves on)."""
    naive = datetime.combine(day, at)
    return naive.replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))


@dataclass(frozen=True)
class _Delivery:
    """One recipient's share: whether and when their e-mail goes."""

    user: User
    email: bool
    deliver_after: datetime | None


def _provider_staff_ids(user_ids: Iterable[int]) -> set[int]:
    return set(
        Membership.objects.filter(
            user_id__in=list(user_ids),
            organisation__kind=OrganisationKind.PROVIDER,
            is_active=True,
        ).values_list("user_id", flat=True)
    )


def on_duty_users() -> list[User]:
    """Active provider staff marked on duty (with active provider memberships)."""
    return list(
        User.objects.filter(
            is_active=True,
            notification_preference__on_duty=True,
            memberships__organisation__kind=OrganisationKind.PROVIDER,
            memberships__is_active=True,
        )
        .select_related("notification_preference")
        .distinct()
        .order_by("pk")
    )


def _users(recipients: Iterable[User | int]) -> list[User]:
    ids = sorted({r.pk if isinstance(r, User) else int(r) for r in recipients})
    return list(
        User.objects.filter(pk__in=ids, is_active=True)
        .select_related("notification_preference")
        .order_by("pk")
    )


def deliveries_plan(
    users: Sequence[User], *, kind: str, urgent: bool, now: datetime
) -> list[_Delivery]:
    """Who gets the notification and whether/when by e-mail (see the module docstring)."""
    plan: list[_Delivery] = []
    provider_ids = _provider_staff_ids(u.pk for u in users)
    provider_available = False
    for user in users:
        preference = preference_of(user)
        until = quiet_until(preference, zone=user.time_zone, now=now)
        if user.pk in provider_ids and (until is None or preference.on_duty):
            provider_available = True
        email = bool(user.email) and wants_email(preference, kind=kind, urgent=urgent)
        held = until if (email and not urgent) else None
        plan.append(_Delivery(user, email, held))
    if urgent and not provider_available:
        present = {u.pk for u in users}
        for user in on_duty_users():
            if user.pk not in present:
                plan.append(_Delivery(user, bool(user.email), None))
    return plan


def notify(
    *,
    recipients: Iterable[User | int],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    ticket_id: int | None = None,
    urgent: bool = False,
    dedupe_key: str,
    now: datetime | None = None,
) -> int:
    """Tell ``recipients`` (users or user ids) something; return how many in-app
    notifications are new. Idempotent per recipient and ``dedupe_key``: a repeat writes
    nothing and schedules no e-mail. Must run inside the caller's transaction (or
    autocommit); the e-mails leave after it commits."""
    now = now or timezone.now()
    plan = deliveries_plan(_users(recipients), kind=kind, urgent=urgent, now=now)
    if not plan:
        return 0
    created = _insert(
        plan,
        kind=kind,
        title=title,
        body=body,
        link=link,
        ticket_id=ticket_id,
        urgent=urgent,
        dedupe_key=dedupe_key,
        now=now,
    )
    by_user = {d.user.pk: d for d in plan}
    messages = [
        OutboxMessage(
            topic=EMAIL_TOPIC,
            key=f"email:{notification_id}",
            payload={"notification_id": notification_id},
            available_at=by_user[user_id].deliver_after or timezone.now(),
        )
        for notification_id, user_id in created
        if by_user[user_id].email
    ]
    outbox_put_many(messages)
    return len(created)


def _insert(
    plan: list[_Delivery],
    *,
    kind: str,
    title: str,
    body: str,
    link: str,
    ticket_id: int | None,
    urgent: bool,
    dedupe_key: str,
    now: datetime,
) -> list[tuple[int, int]]:
    """Insert the rows in one statement, skipping those a recipient already has; the new
    rows' (id, recipient id)."""
    table = Notification._meta.db_table
    params: list[object] = []
    for d in plan:
        params += [d.user.pk, kind[:32], title[:200], body, link[:300], ticket_id, urgent]
        params += [dedupe_key[:200], now, d.deliver_after]
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(plan))
    sql = (
        f"INSERT INTO {table} (recipient_id, kind, title, body, link, ticket_id, urgent, "
        f"dedupe_key, created_at, deliver_after) VALUES {values} "
        "ON CONFLICT (recipient_id, dedupe_key) DO NOTHING RETURNING id, recipient_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], row[1]) for row in cursor.fetchall()]


# --- e-mail ---------------------------------------------------------------------------------


def format_local(at: datetime, zone: str) -> str:
    """``2026-12-07 12:00 (UTC+3)``: ``at`` on the wall clock of ``zone``."""
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} ({utc_offset_label(at, zone)})"


def email_render(notification: Notification) -> tuple[str, str]:
    """The subject and text of ``notification``'s e-mail, in its recipient's language and
    with its times in the recipient's zone."""
    user = notification.recipient
    language = user.language if user.language in dict(settings.LANGUAGES) else "en"
    base_url = getattr(settings, "SITE_URL", "").rstrip("/")
    context = {
        "user": user,
        "name": user.get_full_name() or user.username,
        "notification": notification,
        "when": format_local(notification.created_at, user.time_zone),
        "url": f"{base_url}{notification.link}" if notification.link else "",
    }
    with translation.override(language):
        subject = render_to_string(f"emails/notification_subject.{language}.txt", context)
        text = render_to_string(f"emails/notification.{language}.txt", context)
    return " ".join(subject.split())[:250], text


def notification_email_send(*, notification_id: int) -> str:
    """Send one notification's e-mail unless it was sent already; return the outcome
    (``sent``, ``already_sent``, ``no_address``, ``gone``). The row is locked while sending,
    so two deliveries of one message do not both send; a send that fails raises (the task
    retries) and leaves ``email_sent_at`` empty. Delivery is at least once: a worker killed
    between the SMTP hand-off and the commit sends again."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return "gone"
        if notification.email_sent_at is not None:
            return "already_sent"
        if not notification.recipient.email:
            return "no_address"
        subject, text = email_render(notification)
        EmailMessage(subject, text, to=[notification.recipient.email]).send()
        notification.email_sent_at = timezone.now()
        notification.save(update_fields=["email_sent_at"])
    logger.info("notification %s e-mailed to user %s", notification_id, notification.recipient_id)
    return "sent"


def notifications_mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's unread notifications, or all of them, as read; never another
    user's. Returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


# --- preferences ----------------------------------------------------------------------------

PREFERENCE_FIELDS = ("email_sla", "email_dispatch", "quiet_start", "quiet_end", "on_duty")


def may_be_on_duty(user: User) -> bool:
    """Whether ``user`` may mark themselves on duty: provider staff only (their widest
    active role, as ``resolve_actor`` picks it, is a provider role)."""
    actor = resolve_actor(user)
    return actor is not None and actor.is_provider


def notification_preferences_set(*, user: User, **fields: object) -> NotificationPreference:
    """Save ``user``'s notification preferences; fields not given keep their value (or the
    default). Refused with ``ValidationFailed`` (field messages, nothing saved) for an
    unknown field or e-mail choice, quiet hours with only one end, or ``on_duty`` asked by
    someone who is not provider staff."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(fields) - set(PREFERENCE_FIELDS))
    if unknown:
        message = _("Unknown preference: %(names)s.") % {"names": ", ".join(unknown)}
        raise ValidationFailed(message, fields={"non_field_errors": [message]})
    for name in ("email_sla", "email_dispatch"):
        if name in fields and fields[name] not in EmailChoice.values:
            errors[name] = [_("Choose one of the offered options.")]
    with transaction.atomic():
        preference = NotificationPreference.objects.select_for_update().filter(
            user=user
        ).first() or NotificationPreference(user=user)
        for name, value in fields.items():
            setattr(preference, name, value)
        start, end = preference.quiet_start, preference.quiet_end
        if (start is None) != (end is None):
            message = _("Give both the start and the end of the quiet hours, or neither.")
            errors["quiet_end" if start is not None else "quiet_start"] = [message]
        if fields.get("on_duty") and not may_be_on_duty(user):
            errors["on_duty"] = [_("Only provider staff can be on duty.")]
        if errors:
            raise ValidationFailed(fields=errors)
        preference.save()
    return preference
