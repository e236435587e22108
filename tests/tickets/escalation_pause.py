"""Test-only: hold an escalation mid-transaction so a test can kill its worker there.

Imported by the Celery workers of ``test_escalation_worker_kill`` (``CELERY_IMPORTS`` in
``tests.tickets.celery_kill_settings``); production code is untouched. It wraps
``tickets.escalation._expire_overdue_offer``: once that has expired an offer and offered the
job to the next partner — inside ``ticket_escalate``'s transaction, with the ticket's row
locked and nothing committed — the wrapper logs :data:`PAUSE_MARKER` with the task's id and
sleeps ``TEST_ESCALATION_PAUSE_SECONDS`` (environment; unset or 0: no pause).
"""

from __future__ import annotations

import os
import time
from datetime import datetime

from celery import current_task
from celery.utils.log import get_task_logger

from tickets import escalation

PAUSE_MARKER = "escalation-paused-before-commit"
logger = get_task_logger(__name__)
_original = escalation._expire_overdue_offer


def _expire_then_pause(ticket_id: int, now: datetime, partner_id: int | None = None) -> str:
    outcome = _original(ticket_id, now, partner_id=partner_id)
    seconds = float(os.environ.get("TEST_ESCALATION_PAUSE_SECONDS") or 0)
    if outcome == "expired" and seconds > 0:
        task_id = current_task.request.id if current_task else None
        logger.warning("%s ticket=%s task=%s", PAUSE_MARKER, ticket_id, task_id)
        time.sleep(seconds)
    return outcome


escalation._expire_overdue_offer = _expire_then_pause
