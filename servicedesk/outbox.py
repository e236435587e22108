"""The transactional outbox: write work with the change that causes it, publish after commit."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from servicedesk.models import OutboxMessage

logger = logging.getLogger(__name__)

# A message whose publishing failed waits this long times 2**attempts (capped) for a retry.
_BACKOFF = timedelta(seconds=5)
_BACKOFF_CAP = timedelta(minutes=10)


def outbox_put(*, topic: str, key: str, payload: dict[str, Any]) -> None:
    """Record work in the caller's transaction (once per ``key``) and relay it after commit."""
    outbox_put_many([OutboxMessage(topic=topic, key=key, payload=payload)])


def outbox_put_many(messages: list[OutboxMessage]) -> None:
    """Record several messages in one statement (each once per key); relay after commit."""
    if not messages:
        return
    OutboxMessage.objects.bulk_create(messages, ignore_conflicts=True)
    outbox_relay_after_commit()


def outbox_relay_after_commit() -> None:
    """Relay the outbox once the current transaction commits (once per transaction, however
    many messages it wrote, including rows written by SQL directly)."""
    pending = transaction.get_connection().run_on_commit
    if not any(entry[1] is _relay_soon for entry in pending):
        transaction.on_commit(_relay_soon)


def _relay_soon() -> None:
    from servicedesk.tasks import outbox_relay_task

    try:
        # No publish retries: with the broker down the request must not wait for it.
        outbox_relay_task.apply_async(retry=False)
    except Exception:  # the broker is down: the beat tick relays it later
        logger.warning("outbox relay not enqueued; the next beat tick will relay", exc_info=True)


def outbox_relay(*, batch: int = 200) -> int:
    """Publish pending messages to their tasks; return how many were published.

    Rows are taken with SKIP LOCKED, so relays running at once never publish one twice in
    the same moment; a publish that fails is retried later with backoff.
    """
    from servicedesk.celery import app

    published = 0
    with transaction.atomic():
        now = timezone.now()
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(dispatched_at__isnull=True, available_at__lte=now)
            .order_by("available_at", "id")[:batch]
        )
        for message in messages:
            try:
                app.tasks[message.topic].apply_async(kwargs=message.payload)
            except Exception as exc:
                message.attempts += 1
                message.available_at = now + min(_BACKOFF * 2**message.attempts, _BACKOFF_CAP)
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                message.save(update_fields=["attempts", "available_at", "last_error"])
                continue
            message.dispatched_at = now
            message.save(update_fields=["dispatched_at"])
            published += 1
    return published
