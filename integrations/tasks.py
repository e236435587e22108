"""Celery entry points of the integrations floor: each calls one service."""

from __future__ import annotations

from celery import shared_task

from integrations import services


@shared_task(name="integrations.webhook_fanout")
def webhook_fanout_task() -> int:
    """Beat runs this every WEBHOOK_FANOUT_SECONDS: new events become deliveries."""
    return services.webhook_fanout()


@shared_task(name="integrations.webhook_deliveries_send")
def webhook_deliveries_send_task() -> int:
    """Beat runs this every WEBHOOK_DELIVERY_SECONDS (and fan-out and replay kick it after
    commit): send the deliveries that are due. Safe to run anywhere, any number of times."""
    return services.webhook_deliveries_send()
