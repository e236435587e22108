"""The Celery app. Beat's schedule lives here, in code."""

from __future__ import annotations

import os

from celery import Celery

from servicedesk.observability import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings.local")

app = Celery("servicedesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Tasks carry the request id and the actor of whoever published them (servicedesk.db_context).
connect_celery_signals()


def _beat_schedule() -> dict:
    from django.conf import settings

    return {
        "sla-sweep": {"task": "tickets.sla_sweep", "schedule": float(settings.SLA_SWEEP_SECONDS)},
        # Publishes outbox work whose after-commit publish failed (e.g. the broker was down).
        "outbox-relay": {"task": "servicedesk.outbox_relay", "schedule": 15.0},
        "webhook-fanout": {
            "task": "integrations.webhook_fanout",
            "schedule": float(settings.WEBHOOK_FANOUT_SECONDS),
        },
        "webhook-send": {
            "task": "integrations.webhook_deliveries_send",
            "schedule": float(settings.WEBHOOK_DELIVERY_SECONDS),
        },
    }


@app.on_after_configure.connect
def _set_beat_schedule(sender: Celery, **kwargs) -> None:
    sender.conf.beat_schedule = _beat_schedule()
