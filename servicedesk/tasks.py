"""Celery entry points of the accounts floor: each fetches by id and calls one service."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from servicedesk import notifications
from servicedesk.outbox import outbox_relay


@shared_task(name="servicedesk.outbox_relay")
def outbox_relay_task() -> int:
    """Publish the outbox's pending work (after commits, and on every beat tick)."""
    return outbox_relay()


@shared_task(
    name=notifications.EMAIL_TOPIC,
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=5,  # 5 s, 10 s, 20 s … (with jitter), capped below
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def send_notification_email_task(*, notification_id: int) -> str:
    """E-mail one notification (published by the outbox); retried with backoff on SMTP and
    connection errors, idempotent (a notification already e-mailed is skipped)."""
    return notifications.notification_email_send(notification_id=notification_id)
