"""The notification service: in-app rows, e-mail per preference after commit, quiet hours,
on-duty cover, the recipient's language and zone, and retries (``servicedesk.notifications``).

Tasks run eagerly here (no broker) and e-mail goes to Django's locmem outbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from smtplib import SMTPServerDisconnected
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from servicedesk import notifications
from servicedesk.models import Notification, NotificationPreference, OutboxMessage, User
from servicedesk.outbox import outbox_relay
from servicedesk.tasks import send_notification_email_task
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

# Mon 2026-12-07 07:00Z: 10:00 in Moscow, 12:00 in Yekaterinburg, 17:00 in Vladivostok.
T0 = datetime(2026, 12, 7, 7, tzinfo=UTC)


def person(username: str, *, org=None, role: str = "dispatcher", **fields) -> User:
    """A user with an e-mail address and a membership (provider dispatcher by default)."""
    fields.setdefault("email", f"{username}@example.test")
    fields.setdefault("language", "en")
    user = UserFactory(username=username, **fields)
    MembershipFactory(user=user, organisation=org or provider(), role=role)
    return user


def provider():
    from servicedesk.models import Organisation

    return Organisation.objects.filter(kind="provider").first() or OrganisationFactory(
        kind="provider", name="Provider"
    )


def prefs(user: User, **fields) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(user=user, defaults=fields)
    user.refresh_from_db()
    return preference


def send(recipients, *, urgent: bool, kind: str = "arrival_breached", key: str = "k1", now=T0):
    return notifications.notify(
        recipients=recipients,
        kind=kind,
        title="T-1: Arrival overdue",
        body="Partner P was not on site.",
        link="/tickets/1/",
        ticket_id=1,
        urgent=urgent,
        dedupe_key=key,
        now=now,
    )


def emails() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(topic=notifications.EMAIL_TOPIC).order_by("pk"))


# --- in-app rows and the e-mail decision ----------------------------------------------------


@pytest.mark.django_db
def test_defaults_email_urgent_only_and_in_app_always():
    dispatcher = person("disp")
    assert send([dispatcher], urgent=False, key="routine") == 1
    assert send([dispatcher], urgent=True, key="urgent") == 1
    assert Notification.objects.filter(recipient=dispatcher).count() == 2
    urgent = Notification.objects.get(dedupe_key="urgent")
    assert [(m.key, m.payload) for m in emails()] == [
        (f"email:{urgent.pk}", {"notification_id": urgent.pk})
    ]


@pytest.mark.django_db
def test_a_repeat_writes_nothing_and_schedules_no_second_email():
    dispatcher = person("disp")
    assert send([dispatcher, dispatcher.pk], urgent=True) == 1
    assert send([dispatcher], urgent=True) == 0
    assert Notification.objects.count() == 1
    assert len(emails()) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sla", "dispatch", "kind", "urgent", "emailed"),
    [
        ("urgent", "off", "arrival_breached", True, False),
        ("off", "urgent", "sla_breach", True, False),
        ("off", "all", "offer_made", False, True),
        ("all", "off", "sla_warning", False, True),
        ("urgent", "urgent", "sla_warning", False, False),
    ],
)
def test_email_follows_the_preference_of_the_kind_group(sla, dispatch, kind, urgent, emailed):
    user = person("disp")
    prefs(user, email_sla=sla, email_dispatch=dispatch)
    send([user], urgent=urgent, kind=kind)
    assert Notification.objects.filter(recipient=user).count() == 1
    assert len(emails()) == int(emailed)


@pytest.mark.django_db
def test_no_address_no_email():
    user = person("disp", email="")
    send([user], urgent=True)
    assert Notification.objects.count() == 1
    assert emails() == []


# --- after commit, once, in the recipient's language and zone --------------------------------


@pytest.mark.django_db
def test_email_leaves_after_commit_in_the_recipients_language_and_zone(
    django_capture_on_commit_callbacks,
):
    ru = person("ru_disp", language="ru", time_zone="Asia/Yekaterinburg", first_name="Анна")
    en = person("en_disp", language="en", time_zone="Europe/London", first_name="Ann")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        send([ru, en], urgent=True)
    # nothing is sent before the commit
    assert mail.outbox == []
    with time_machine.travel(T0, tick=False):
        for callback in callbacks:
            callback()
    by_to = {m.to[0]: m for m in mail.outbox}
    assert set(by_to) == {ru.email, en.email}
    ru_mail, en_mail = by_to[ru.email], by_to[en.email]
    assert ru_mail.subject == "[Срочно] T-1: Arrival overdue"
    assert "Здравствуйте, Анна" in ru_mail.body
    assert "Когда: 2026-12-07 12:00 (UTC+5)" in ru_mail.body
    assert "Partner P was not on site." in ru_mail.body
    assert en_mail.subject == "[Urgent] T-1: Arrival overdue"
    assert "Hello, Ann" in en_mail.body
    assert "When: 2026-12-07 07:00 (UTC+0)" in en_mail.body
    assert "/tickets/1/" in en_mail.body
    assert Notification.objects.filter(email_sent_at__isnull=True).count() == 0
    # a redelivered task does not send again
    for notification in Notification.objects.all():
        assert notifications.notification_email_send(notification_id=notification.pk) == (
            "already_sent"
        )
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing():
    user = person("disp")
    with pytest.raises(RuntimeError), transaction.atomic():
        send([user], urgent=True)
        raise RuntimeError("the caller failed")
    assert (Notification.objects.count(), OutboxMessage.objects.count(), mail.outbox) == (0, 0, [])


@pytest.mark.django_db(transaction=True)
def test_committed_notification_is_emailed_through_the_outbox():
    user = person("disp")
    with transaction.atomic():
        send([user], urgent=True)
    # the relay ran after commit (eager here) and the e-mail task with it
    assert len(mail.outbox) == 1
    assert emails()[0].dispatched_at is not None


@pytest.mark.django_db
def test_smtp_failure_is_retried_and_sends_once():
    user = person("disp")
    send([user], urgent=True)
    notification = Notification.objects.get()
    real_send = mail.EmailMessage.send
    calls = {"n": 0}

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise SMTPServerDisconnected("connection lost")
        return real_send(self, *args, **kwargs)

    with mock.patch.object(mail.EmailMessage, "send", flaky):
        result = send_notification_email_task.apply(kwargs={"notification_id": notification.pk})
    assert result.get() == "sent"
    assert calls["n"] == 2
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.email_sent_at is not None
    task = send_notification_email_task
    assert (task.max_retries, task.retry_backoff, task.retry_jitter) == (8, 5, True)
    assert any(issubclass(SMTPServerDisconnected, e) for e in task.autoretry_for)


# --- quiet hours --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "local", "until_local"),
    [
        (time(22), time(7), datetime(2026, 12, 7, 23, 30), datetime(2026, 12, 8, 7)),
        (time(22), time(7), datetime(2026, 12, 8, 6, 59), datetime(2026, 12, 8, 7)),
        (time(22), time(7), datetime(2026, 12, 8, 7, 0), None),
        (time(22), time(7), datetime(2026, 12, 7, 21, 59), None),
        (time(13), time(14), datetime(2026, 12, 7, 13, 15), datetime(2026, 12, 7, 14)),
        (time(13), time(14), datetime(2026, 12, 7, 14, 15), None),
        (time(9), time(9), datetime(2026, 12, 7, 9, 0), None),
        (None, None, datetime(2026, 12, 7, 3, 0), None),
    ],
)
def test_quiet_until_in_the_users_zone(start, end, local, until_local):
    from zoneinfo import ZoneInfo

    zone = "Asia/Vladivostok"  # UTC+10
    preference = NotificationPreference(quiet_start=start, quiet_end=end)
    now = local.replace(tzinfo=ZoneInfo(zone))
    until = notifications.quiet_until(preference, zone=zone, now=now)
    expected = until_local.replace(tzinfo=ZoneInfo(zone)) if until_local else None
    assert until == expected


@pytest.mark.django_db
def test_non_urgent_email_is_held_until_the_quiet_hours_end_urgent_is_not():
    # 13:00Z is 23:00 in Vladivostok: inside 22:00–07:00, which ends at 21:00Z
    user = person("vlad", time_zone="Asia/Vladivostok")
    prefs(user, email_dispatch="all", quiet_start=time(22), quiet_end=time(7))
    now = datetime(2026, 12, 7, 13, tzinfo=UTC)
    ends = datetime(2026, 12, 7, 21, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        send([user], urgent=False, key="routine", now=now)
        send([user], urgent=True, key="urgent", now=now)
    routine = Notification.objects.get(dedupe_key="routine")
    urgent = Notification.objects.get(dedupe_key="urgent")
    assert (routine.deliver_after, urgent.deliver_after) == (ends, None)
    available = {m.payload["notification_id"]: m.available_at for m in emails()}
    assert available == {routine.pk: ends, urgent.pk: now}
    # the relay publishes the urgent one now and the held one only once the quiet hours end
    with time_machine.travel(now + timedelta(seconds=1), tick=False):
        assert outbox_relay() == 1
    assert [m.subject for m in mail.outbox] == ["[Urgent] T-1: Arrival overdue"]
    with time_machine.travel(ends - timedelta(seconds=1), tick=False):
        assert outbox_relay() == 0
    with time_machine.travel(ends, tick=False):
        assert outbox_relay() == 1
    assert len(mail.outbox) == 2


# --- urgent alerts reach whoever is on duty ------------------------------------------------


@pytest.fixture
def night_shift(db):
    """A dispatcher asleep in Vladivostok (quiet 22:00–07:00), a provider admin on duty in
    Moscow, and a partner manager marked on duty (who must never be cover)."""
    dispatcher = person("night_disp", time_zone="Asia/Vladivostok")
    prefs(dispatcher, quiet_start=time(22), quiet_end=time(7))
    duty = person("duty_admin", role="provider_admin")
    prefs(duty, on_duty=True, email_dispatch="off")
    partner_org = OrganisationFactory(kind="partner", name="Partner P")
    partner = person("pm", org=partner_org, role="partner_manager")
    prefs(partner, on_duty=True)
    return dispatcher, duty, partner


NIGHT = datetime(2026, 12, 7, 13, tzinfo=UTC)  # 23:00 in Vladivostok, 16:00 in Moscow


def recipients_of(key: str) -> list[str]:
    return sorted(
        Notification.objects.filter(dedupe_key=key).values_list("recipient__username", flat=True)
    )


def test_urgent_goes_to_on_duty_staff_when_every_dispatcher_is_in_quiet_hours(night_shift):
    dispatcher, duty, partner = night_shift
    assert send([dispatcher, partner], urgent=True, key="u", now=NIGHT) == 3
    assert recipients_of("u") == ["duty_admin", "night_disp", "pm"]
    # the person on duty gets the e-mail whatever their own e-mail preference says
    emailed = {m.payload["notification_id"] for m in emails()}
    assert Notification.objects.get(dedupe_key="u", recipient=duty).pk in emailed
    # and a repeat adds nobody
    assert send([dispatcher, partner], urgent=True, key="u", now=NIGHT) == 0


def test_non_urgent_never_goes_to_on_duty_staff(night_shift):
    dispatcher, _duty, _partner = night_shift
    send([dispatcher], urgent=False, key="n", now=NIGHT)
    assert recipients_of("n") == ["night_disp"]


def test_no_cover_while_a_dispatcher_is_awake(night_shift):
    dispatcher, _duty, _partner = night_shift
    awake = person("day_disp")  # Moscow, no quiet hours
    send([dispatcher, awake], urgent=True, key="u", now=NIGHT)
    assert recipients_of("u") == ["day_disp", "night_disp"]
    # and in the morning in Vladivostok the dispatcher alone is enough
    send([dispatcher], urgent=True, key="m", now=datetime(2026, 12, 7, 22, tzinfo=UTC))
    assert recipients_of("m") == ["night_disp"]


def test_a_dispatcher_on_duty_in_quiet_hours_counts_as_available(night_shift):
    dispatcher, _duty, _partner = night_shift
    prefs(dispatcher, on_duty=True)
    send([dispatcher], urgent=True, key="u", now=NIGHT)
    assert recipients_of("u") == ["night_disp"]


def test_with_no_dispatcher_at_all_urgent_goes_to_on_duty_staff(night_shift):
    _dispatcher, _duty, partner = night_shift
    send([], urgent=True, key="u", now=NIGHT)
    assert recipients_of("u") == ["duty_admin"]
    send([partner], urgent=True, key="p", now=NIGHT)
    assert recipients_of("p") == ["duty_admin", "pm"]


def test_inactive_on_duty_membership_is_not_cover(night_shift):
    dispatcher, duty, _partner = night_shift
    duty.memberships.update(is_active=False)
    send([dispatcher], urgent=True, key="u", now=NIGHT)
    assert recipients_of("u") == ["night_disp"]
