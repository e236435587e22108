"""Celery entry points of the ticket floor: each fetches by id and calls one service."""

from __future__ import annotations

import time

from celery import shared_task

from servicedesk.observability import record_sweep
from tickets import escalation


@shared_task(name="tickets.sla_sweep")
def sla_sweep_task() -> dict[str, int]:
    """Beat runs this every SLA_SWEEP_SECONDS: record warnings and breaches reached by now."""
    started = time.perf_counter()
    result = escalation.sla_sweep()
    record_sweep(
        seconds=time.perf_counter() - started, warnings=result.warnings, breaches=result.breaches
    )
    return {"warnings": result.warnings, "breaches": result.breaches, "tickets": result.tickets}


@shared_task(name=escalation.ESCALATE_TOPIC)
def escalate_ticket_task(*, ticket_id: int, threshold_ids: list[int]) -> int:
    """Notify the people on duty of a ticket's new SLA thresholds (idempotent)."""
    return escalation.ticket_escalate(ticket_id=ticket_id, threshold_ids=threshold_ids)
