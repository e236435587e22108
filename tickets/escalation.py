"""What happens when SLA time passes: the sweep's follow-up and the escalation ladder.

The sweep (``sla.services.sweep_batch``) marks thresholds once; here, in the same
transaction, each new threshold becomes a timeline event and each affected ticket gets one
escalation message in the outbox. The sweep also finds live offers past their deadline (an
offer expires by its deadline even without an OLA clock) and queues their ticket too.

The escalation task (``ticket_escalate``) tells the dispatchers of every new threshold and
climbs the field ladder, per the client contract's ``EscalationPolicy``:

- OLA acceptance breached, or a live offer past its deadline → the offer expires and the job
  goes to the next-ranked partner (``dispatch.offer_expire``);
- OLA arrival warning while the job is only accepted (nobody en route) → the partner's
  managers and the dispatchers are alerted (urgent);
- OLA arrival breached before the engineer is on site → the job is withdrawn from the partner
  (its breach stays recorded: ``clocks_cancel`` keeps a breached clock breached), offered to
  the next-ranked partner, and the dispatchers are alerted;
- nobody eligible left → the ticket is flagged for the dispatchers with the reason.

Exactly once: the task runs in one transaction under the ticket's row lock, and every step
first inserts its effect key (``EscalationStep``, unique per ticket × threshold × step) with
ON CONFLICT DO NOTHING. A retried task, a second worker, or a worker killed mid-task (its
transaction rolled back, effect key and effects together) finds the key and skips, or finds
nothing and does the step. An expiry is keyed by its offer, so the clock breach and the
deadline scan never expire the same offer twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from servicedesk.exceptions import NotFound
from servicedesk.outbox import outbox_put, outbox_relay_after_commit
from sla import services as sla
from sla.choices import Agreement, Metric, ThresholdKind
from sla.models import ClockThreshold
from tickets import dispatch
from tickets.choices import OfferStatus, TicketStatus
from tickets.constants import ESCALATE_TOPIC
from tickets.lock_objects import ticket_lock
from tickets.models import EscalationPolicy, EscalationStep, Offer, Ticket, Visit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    warnings: int
    breaches: int
    tickets: int
    batches: int
    overdue_offers: int = 0


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
            thresholds = sla.sweep_batch(
                now=now,
                batch=batch,
                follow_up=_SWEEP_FOLLOW_UP,
                params={"topic": ESCALATE_TOPIC, "written_at": timezone.now()},
            )
            if thresholds:
                outbox_relay_after_commit()
        batches += 1
        warnings += sum(t.kind == ThresholdKind.WARNING for t in thresholds)
        breaches += sum(t.kind == ThresholdKind.BREACH for t in thresholds)
        tickets.update(t.ticket_id for t in thresholds)
        # A batch limits clocks, not thresholds: stop only when a batch finds nothing new.
        if not thresholds:
            break
    overdue = _overdue_offers_queue(now=now, batch=batch)
    return SweepResult(warnings, breaches, len(tickets), batches, overdue)


def _overdue_offers_queue(*, now: datetime, batch: int) -> int:
    """Queue the ticket of every live offer past its deadline (through the partial index on
    live deadlines). Keyed by offer and ticket version: queued once, and again only if the
    ticket changed since (e.g. it stopped waiting for the client)."""
    with transaction.atomic():
        rows = list(
            Offer.objects.filter(status=OfferStatus.OFFERED, deadline__lt=now)
            .exclude(ticket__status=TicketStatus.WAITING_CLIENT)
            .order_by("deadline", "pk")
            .values_list("pk", "ticket_id", "ticket__version")[:batch]
        )
        for offer_id, ticket_id, version in rows:
            outbox_put(
                topic=ESCALATE_TOPIC,
                key=f"offer-deadline:{offer_id}:{version}",
                payload={"ticket_id": ticket_id, "threshold_ids": []},
            )
    return len(rows)


# The sweep's consequences on this floor, written by the sweep statement itself: one SLA
# timeline entry per new threshold (OLA ones internal) and one escalation message per
# affected ticket, keyed by its newest threshold so a message is written once.
_SWEEP_FOLLOW_UP = """,
sla_events AS (
    INSERT INTO tickets_ticketevent
        (ticket_id, kind, actor_id, actor_role, is_internal, data, created_at)
    SELECT ticket_id, 'sla', NULL, 'system', agreement = 'ola',
           jsonb_build_object(
               'clock_id', clock_id, 'change', kind, 'agreement', agreement,
               'metric', metric, 'partner_id', partner_id, 'threshold_id', threshold_id
           ),
           reached_at
    FROM new_thresholds
    RETURNING 1
),
escalations AS (
    INSERT INTO servicedesk_outboxmessage
        (topic, key, payload, created_at, available_at, attempts, dispatched_at, last_error)
    SELECT %(topic)s,
           'escalate:' || ticket_id || ':' || max(threshold_id),
           jsonb_build_object(
               'ticket_id', ticket_id,
               'threshold_ids', jsonb_agg(threshold_id ORDER BY threshold_id)
           ),
           %(written_at)s, %(written_at)s, 0, NULL, ''
    FROM new_thresholds
    GROUP BY ticket_id
    ON CONFLICT (key) DO NOTHING
    RETURNING 1
)
"""


_TITLES = {
    (ThresholdKind.WARNING, Metric.RESPONSE): gettext_lazy("Response due soon"),
    (ThresholdKind.WARNING, Metric.ACCEPTANCE): gettext_lazy("Offer not accepted yet"),
    (ThresholdKind.WARNING, Metric.ARRIVAL): gettext_lazy("Arrival at risk"),
    (ThresholdKind.WARNING, Metric.RESOLUTION): gettext_lazy("Resolution due soon"),
    (ThresholdKind.BREACH, Metric.RESPONSE): gettext_lazy("Response overdue"),
    (ThresholdKind.BREACH, Metric.ACCEPTANCE): gettext_lazy("Offer acceptance overdue"),
    (ThresholdKind.BREACH, Metric.ARRIVAL): gettext_lazy("Arrival overdue"),
    (ThresholdKind.BREACH, Metric.RESOLUTION): gettext_lazy("Resolution overdue"),
}


def _step_claim(*, ticket_id: int, threshold_id: int | None, step: str) -> int | None:
    """Insert the step's effect key; its id if this caller does the step, None if done."""
    table = EscalationStep._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (ticket_id, threshold_id, step, outcome, created_at) "
            "VALUES (%s, %s, %s, '', %s) ON CONFLICT DO NOTHING RETURNING id",
            [ticket_id, threshold_id, step, timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _step_done(step_id: int, outcome: str) -> None:
    EscalationStep.objects.filter(pk=step_id).update(outcome=outcome[:64])


@transaction.atomic
def ticket_escalate(*, ticket_id: int, threshold_ids: list[int]) -> int:
    """Tell the dispatchers about the ticket's new warnings and breaches, expire its offer if
    overdue, and climb the field ladder for its OLA thresholds; return how many notifications
    were new. Idempotent and safe to run concurrently (see the module docstring)."""
    now = timezone.now()
    try:
        ticket = ticket_lock(actor=dispatch.SYSTEM, ticket_id=ticket_id)
    except NotFound:
        return 0
    thresholds = list(
        ClockThreshold.objects.filter(pk__in=threshold_ids, clock__ticket_id=ticket_id)
        .select_related("clock")
        .order_by("pk")
    )
    new = _notify_thresholds(ticket, thresholds)
    policy = dispatch.escalation_policy_for(ticket, now)
    for threshold in thresholds:
        new += _ladder_step(ticket_id, threshold, policy, now)
    _expire_overdue_offer(ticket_id, now)
    return new


def _notify_thresholds(ticket: Ticket, thresholds: list[ClockThreshold]) -> int:
    """One notification per dispatcher and threshold (the SLA engine's own alerting)."""
    dispatchers = dispatch.dispatcher_ids()
    return sum(
        dispatch.notify(
            recipients=dispatchers,
            ticket=ticket,
            kind=f"sla_{threshold.kind}",
            title=f"{ticket.reference}: {_TITLES[(threshold.kind, threshold.clock.metric)]}",
            body=ticket.subject,
            urgent=threshold.kind == ThresholdKind.BREACH,
            dedupe_key=f"sla-threshold:{threshold.pk}",
        )
        for threshold in thresholds
    )


_LADDER = {
    (ThresholdKind.BREACH, Metric.ACCEPTANCE): "expire_offer",
    (ThresholdKind.WARNING, Metric.ARRIVAL): "alert_arrival_at_risk",
    (ThresholdKind.BREACH, Metric.ARRIVAL): "reassign_late_partner",
}


def _ladder_step(
    ticket_id: int, threshold: ClockThreshold, policy: EscalationPolicy, now: datetime
) -> int:
    """Carry out the ladder step ``threshold`` calls for, once; new notifications."""
    clock = threshold.clock
    step = _LADDER.get((threshold.kind, clock.metric))
    if clock.agreement != Agreement.OLA or step is None:
        return 0
    step_id = _step_claim(ticket_id=ticket_id, threshold_id=threshold.pk, step=step)
    if step_id is None:
        return 0
    ticket = ticket_lock(actor=dispatch.SYSTEM, ticket_id=ticket_id)
    if step == "expire_offer":
        outcome, new = _expire_overdue_offer(ticket_id, now, partner_id=clock.partner_id), 0
    elif step == "alert_arrival_at_risk":
        outcome, new = _arrival_at_risk(ticket, threshold, policy)
    else:
        outcome, new = _arrival_breached(ticket, threshold, policy, now)
    _step_done(step_id, outcome)
    return new


def _expire_overdue_offer(ticket_id: int, now: datetime, partner_id: int | None = None) -> str:
    """Expire the ticket's live offer if its deadline has passed; keyed by the offer."""
    offer = Offer.objects.filter(ticket_id=ticket_id, status=OfferStatus.OFFERED).first()
    if offer is None or (partner_id is not None and offer.partner_id != partner_id):
        return "no_live_offer"
    if now <= offer.deadline:
        return "offer_not_due"
    step_id = _step_claim(ticket_id=ticket_id, threshold_id=None, step=f"expire_offer:{offer.pk}")
    if step_id is None:
        return "already_expired"
    expired = dispatch.offer_expire(offer_id=offer.pk, now=now)
    outcome = "expired" if expired is not None else "left_alone"
    _step_done(step_id, outcome)
    return outcome


def _open_visit(ticket: Ticket, partner_id: int | None) -> Visit | None:
    return (
        Visit.objects.filter(ticket=ticket, partner_id=partner_id)
        .filter(checked_out_at__isnull=True, cancelled_at__isnull=True)
        .first()
    )


def _arrival_at_risk(
    ticket: Ticket, threshold: ClockThreshold, policy: EscalationPolicy
) -> tuple[str, int]:
    """Arrival warning with the job accepted but nobody en route: alert the partner's
    managers and the dispatchers (urgent)."""
    partner_id = threshold.clock.partner_id
    if not policy.alert_on_arrival_warning:
        return "off_by_policy", 0
    if ticket.partner_id != partner_id or ticket.status != TicketStatus.ACCEPTED:
        return "not_applicable", 0
    visit = _open_visit(ticket, partner_id)
    if visit is not None and visit.en_route_at is not None:
        return "en_route", 0
    due = threshold.clock.due_at
    body = _("Nobody is on the way yet; the engineer must be on site by %(at)s.") % {
        "at": dispatch.format_instant(due, zone=ticket.store.time_zone) if due else "—"
    }
    new = dispatch.notify(
        recipients=dispatch.partner_manager_ids(partner_id) + dispatch.dispatcher_ids(),
        ticket=ticket,
        kind="arrival_at_risk",
        title=f"{ticket.reference}: {_('Arrival at risk')}",
        body=body,
        dedupe_key=f"arrival-at-risk:{threshold.pk}",
        urgent=True,
    )
    return "alerted", new


def _arrival_breached(
    ticket: Ticket, threshold: ClockThreshold, policy: EscalationPolicy, now: datetime
) -> tuple[str, int]:
    """Arrival OLA breached before the engineer is on site: take the job from the partner,
    alert the dispatchers, hand the job to the next partner (or to the dispatchers)."""
    partner_id = threshold.clock.partner_id
    if not policy.reassign_on_arrival_breach:
        return "off_by_policy", 0
    if ticket.partner_id != partner_id or ticket.status not in (
        TicketStatus.ACCEPTED,
        TicketStatus.EN_ROUTE,
    ):
        return "not_applicable", 0
    partner = ticket.partner
    reason = _("Arrival OLA breached: %(partner)s was not on site by %(at)s.") % {
        "partner": partner,
        "at": dispatch.format_instant(threshold.clock.due_at or now, zone=ticket.store.time_zone),
    }
    offer = (
        Offer.objects.filter(ticket=ticket, partner_id=partner_id, status=OfferStatus.ACCEPTED)
        .order_by("-offered_at", "-pk")
        .first()
    )
    if offer is not None:
        dispatch.offer_withdraw(actor=None, offer_id=offer.pk, reason=reason)
    else:
        dispatch.job_take_back(ticket_id=ticket.pk, reason=reason)
    new = dispatch.notify(
        recipients=dispatch.dispatcher_ids(),
        ticket=ticket,
        kind="arrival_breached",
        title=f"{ticket.reference}: {_('Arrival overdue, job withdrawn')}",
        body=reason,
        dedupe_key=f"arrival-breach:{threshold.pk}",
        urgent=True,
    )
    dispatch.redispatch(
        ticket_id=ticket.pk, now=now, reoffer=ticket.client.auto_dispatch, why=reason
    )
    return "reassigned", new
