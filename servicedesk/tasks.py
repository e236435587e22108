from __future__ import annotations

from celery import shared_task

from servicedesk.outbox import outbox_relay


@shared_task(name="servicedesk.outbox_relay")
def outbox_relay_task() -> int:
    """Publish the outbox's pending work (after commits, and on every beat tick)."""
    return outbox_relay()
