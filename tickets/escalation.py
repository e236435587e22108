"""What happens when SLA time passes: the sweep's follow-up and the escalation of a ticket.

The sweep (``sla.services.sweep_batch``) marks thresholds once; here, in the same
transaction, each new threshold becomes a timeline event and each affected ticket gets one
escalation message in the outbox. The escalation task then tells the people on duty.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.choices import Role
from servicedesk.models import Membership, Notification
from servicedesk.outbox import outbox_put
from sla import services as sla
from sla.choices import Agreement, Metric, ThresholdKind
from sla.models import ClockThreshold
from tickets.choices import EventKind
from tickets.events import events_record_many
from tickets.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)

ESCALATE_TOPIC = "tickets.escalate"


@dataclass(frozen=True)
class SweepResult:
    warnings: int
    breaches: int
    tickets: int
    batches: int


def sla_sweep(*, now: datetime | None = None, batch: int = 5000) -> SweepResult:
    """Record every warning and breach reached by ``now``, batch by batch.

    Each batch commits on its own: its marks, its events and its outbox rows together.
    Safe to run from several workers or beat instances at once (SKIP LOCKED + effect keys).
    """
    now = now or timezone.now()
    warnings = breaches = batches = 0
    tickets: set[int] = set()
    while True:
        with transaction.atomic():
            thresholds = sla.sweep_batch(now=now, batch=batch)
            _record(thresholds)
        batches += 1
        warnings += sum(t.kind == ThresholdKind.WARNING for t in thresholds)
        breaches += sum(t.kind == ThresholdKind.BREACH for t in thresholds)
        tickets.update(t.ticket_id for t in thresholds)
        if len(thresholds) < batch:
            break
    return SweepResult(warnings, breaches, len(tickets), batches)


def _record(thresholds: list[sla.Threshold]) -> None:
    if not thresholds:
        return
    events_record_many(
        [
            TicketEvent(
                ticket_id=t.ticket_id,
                kind=EventKind.SLA,
                actor_role="system",
                is_internal=t.agreement == Agreement.OLA,
                data=t.as_change().as_event_data(),
                created_at=t.reached_at,
            )
            for t in thresholds
        ]
    )
    for ticket_id, group in groupby(thresholds, key=lambda t: t.ticket_id):
        ids = sorted(t.threshold_id for t in group)
        outbox_put(
            topic=ESCALATE_TOPIC,
            key=f"escalate:{ticket_id}:{ids[-1]}",
            payload={"ticket_id": ticket_id, "threshold_ids": ids},
        )


_TITLES = {
    (ThresholdKind.WARNING, Metric.RESPONSE): _("Response due soon"),
    (ThresholdKind.WARNING, Metric.ACCEPTANCE): _("Offer not accepted yet"),
    (ThresholdKind.WARNING, Metric.ARRIVAL): _("Arrival at risk"),
    (ThresholdKind.WARNING, Metric.RESOLUTION): _("Resolution due soon"),
    (ThresholdKind.BREACH, Metric.RESPONSE): _("Response overdue"),
    (ThresholdKind.BREACH, Metric.ACCEPTANCE): _("Offer acceptance overdue"),
    (ThresholdKind.BREACH, Metric.ARRIVAL): _("Arrival overdue"),
    (ThresholdKind.BREACH, Metric.RESOLUTION): _("Resolution overdue"),
}


@transaction.atomic
def ticket_escalate(*, ticket_id: int, threshold_ids: list[int]) -> int:
    """Tell the dispatchers about the ticket's new warnings and breaches; return how many
    notifications were new. Idempotent: one notification per dispatcher and threshold."""
    ticket = Ticket.objects.select_related("client", "store").filter(pk=ticket_id).first()
    if ticket is None:
        return 0
    thresholds = list(
        ClockThreshold.objects.filter(pk__in=threshold_ids, clock__ticket_id=ticket_id)
        .select_related("clock")
        .order_by("pk")
    )
    dispatchers = list(
        Membership.objects.filter(role=Role.DISPATCHER, is_active=True, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )
    rows = [
        Notification(
            recipient_id=user_id,
            kind=f"sla_{threshold.kind}",
            title=f"{ticket.reference}: {_TITLES[(threshold.kind, threshold.clock.metric)]}",
            body=ticket.subject,
            link=f"/tickets/{ticket.pk}/",
            ticket_id=ticket.pk,
            urgent=threshold.kind == ThresholdKind.BREACH,
            dedupe_key=f"sla-threshold:{threshold.pk}",
        )
        for threshold in thresholds
        for user_id in dispatchers
    ]
    created = Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len([n for n in created if n.pk])
