"""Two beat schedulers running at once (a second one started by mistake, or an old one not
yet stopped during a deploy): every sweep is fired twice, and still each piece of work is
done once.

Three field tickets are offered in turn to partners P and Q, who never answer within their
3 s; both beats fire the sweep every second on two competing workers. Each offer must expire
once, each job be offered to Q once, each ticket be flagged for the dispatcher once, and each
notification be written once.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from servicedesk.models import Notification
from sla.models import ClockThreshold
from tests.celery_support import celery_env, celery_processes, connected_database_url
from tests.tickets.celery_field_support import field_desk, log_problems, wait_until
from tickets.models import EscalationStep, Offer, Ticket, TicketEvent

pytestmark = [pytest.mark.faults, pytest.mark.celery]

ACCEPT_SECONDS = 3
TICKETS = 3


def _state(tickets: list[Ticket]) -> tuple:
    ids = [t.pk for t in tickets]
    return (
        sorted(TicketEvent.objects.filter(ticket_id__in=ids).values_list("ticket_id", "kind")),
        Counter(
            EscalationStep.objects.filter(ticket_id__in=ids).values_list(
                "ticket_id", "threshold_id", "step"
            )
        ),
        sorted(Offer.objects.filter(ticket_id__in=ids).values_list("ticket_id", "partner_id")),
        sorted(
            Notification.objects.filter(ticket_id__in=ids).values_list(
                "ticket_id", "kind", "recipient_id"
            )
        ),
    )


def _settled(tickets: list[Ticket], *, quiet: float, limit: float) -> None:
    deadline = time.monotonic() + limit
    last, since = _state(tickets), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, "the desk kept changing; see the Celery logs"
        time.sleep(0.5)
        now = _state(tickets)
        if now != last:
            last, since = now, time.monotonic()


@pytest.mark.django_db(transaction=True)
def test_two_beats_firing_the_same_sweeps_do_each_step_once(redis_broker, tmp_path):
    desk = field_desk(
        partners=[("Partner P", ACCEPT_SECONDS, 3600), ("Partner Q", ACCEPT_SECONDS, 3600)]
    )
    p, q = desk.partners
    env = celery_env(
        database_url=connected_database_url(), broker_url=redis_broker, SLA_SWEEP_SECONDS="1"
    )
    with celery_processes(workers=2, beat=2, env=env, log_dir=tmp_path) as celery:
        tickets = [desk.open_ticket() for _ in range(TICKETS)]
        flagged = Ticket.objects.filter(pk__in=[t.pk for t in tickets], needs_attention=True)
        wait_until(
            lambda: flagged.count() == TICKETS,
            limit=2 * ACCEPT_SECONDS + 30,
            what="every ticket flagged once both partners let their offers expire",
        )
        # The last escalations and notifications are still on their way through the outbox:
        # wait until nothing has changed for 6 s (beats keep firing all along), and only
        # then look. Duplicates would show as extra rows below, not as a state that never
        # settles.
        _settled(tickets, quiet=6, limit=60)
        beat_logs = [beat.log() for beat in celery.beats]
        problems = log_problems(celery.all)

    # Both schedulers really fired the sweep, more than once each.
    for log in beat_logs:
        assert log.count("Sending due task sla-sweep") >= 3, log[-2000:]
    assert problems == []

    for ticket in tickets:
        offers = Offer.objects.filter(ticket=ticket).order_by("offered_at")
        assert [(o.partner_id, o.status) for o in offers] == [
            (p.pk, "expired"),
            (q.pk, "expired"),
        ]
        kinds = Counter(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
        assert (kinds["offer_made"], kinds["offer_expired"], kinds["escalated"]) == (2, 2, 1)
        # A step is keyed by the threshold that triggered it (P's and Q's acceptance breaches
        # each run "expire_offer" once).
        steps = list(
            EscalationStep.objects.filter(ticket=ticket).values_list("threshold_id", "step")
        )
        assert len(steps) == len(set(steps)), steps
        assert Counter(step for _, step in steps)["expire_offer"] <= 2
        # One notification per threshold crossed (P's and Q's acceptance clocks each warn
        # and breach once), and one of each dispatch message per manager.
        notes = Counter(
            Notification.objects.filter(ticket_id=ticket.pk).values_list("kind", "recipient")
        )
        thresholds = Counter(
            ClockThreshold.objects.filter(clock__ticket=ticket).values_list("kind", flat=True)
        )
        assert notes[("sla_warning", desk.dispatcher.pk)] == thresholds["warning"] > 0
        assert notes[("sla_breach", desk.dispatcher.pk)] == thresholds["breach"] > 0
        for partner in (p, q):
            manager = desk.managers[partner.pk].pk
            assert notes[("offer_made", manager)] == notes[("offer_expired", manager)] == 1
        assert notes[("dispatch_attention", desk.dispatcher.pk)] == 1
