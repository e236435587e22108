"""A worker killed in the middle of an escalation: the step is neither lost nor doubled.

Issue 4's acceptance, with a real Redis broker, worker and beat. Partner P must accept
within 4 s; Q has five minutes. The first worker runs with a test-only pause
(``tests.tickets.escalation_pause``): when the escalation has expired P's offer and offered
the job to Q — ticket row locked, nothing committed — it logs a marker and sleeps. The test
SIGKILLs the worker's whole process group there: PostgreSQL rolls the transaction back (the
step's effect key with it) and the Redis message stays unacknowledged (``acks_late``). A new
worker starts; once the message has been unacked for the visibility timeout (4 s in
``tests.tickets.celery_kill_settings``; kombu's default is an hour) it is restored and
delivered again, and the step is done exactly once: one expiry, one new offer, one
escalation step, one notification per dispatcher.

The escalation reached the broker the way all escalations do: the sweep wrote it to the
outbox in the transaction that recorded the breach, and the relay published it after commit.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter

import pytest

from servicedesk.models import Notification, OutboxMessage
from sla.models import ClockThreshold
from tests.celery_support import celery_env, celery_processes, connected_database_url
from tests.tickets.celery_field_support import field_desk, log_problems, task_ids, wait_until
from tests.tickets.escalation_pause import PAUSE_MARKER
from tickets.escalation import ESCALATE_TOPIC
from tickets.models import EscalationStep, Offer, TicketEvent

SWEEP_SECONDS = 2
POLL_LIMIT = 30


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_killed_mid_escalation_the_step_is_redelivered_and_done_once(redis_broker, tmp_path):
    desk = field_desk(partners=[("Partner P", 4, 3600), ("Partner Q", 300, 3600)])
    p, q = desk.partners
    env = celery_env(
        database_url=connected_database_url(),
        broker_url=redis_broker,
        settings="tests.tickets.celery_kill_settings",
        SLA_SWEEP_SECONDS=str(SWEEP_SECONDS),
    )
    paused_env = {**env, "TEST_ESCALATION_PAUSE_SECONDS": "120"}

    with celery_processes(
        workers=1, beat=True, env=paused_env, log_dir=tmp_path / "before"
    ) as before:
        worker = before.workers[0]
        # Given a field ticket auto-offered to P, who does not answer within 4 s
        ticket = desk.open_ticket()
        first = Offer.objects.get(ticket=ticket, partner=p)
        # When the escalation is in the middle of its step (P expired, Q offered, uncommitted)
        worker.wait_for_log(PAUSE_MARKER, timeout=4 + POLL_LIMIT)
        paused = re.search(rf"{PAUSE_MARKER} ticket=\d+ task=([0-9a-f-]+)", worker.log())
        assert paused is not None, worker.log()
        task_id = paused.group(1)
        first.refresh_from_db()
        assert first.status == "offered"  # nothing committed yet
        assert not Offer.objects.filter(ticket=ticket, partner=q).exists()
        # and its worker is killed outright, pool process and all
        worker.kill(signal.SIGKILL)
        worker.process.wait(10)
        killed = time.monotonic()
        assert not worker.alive()

    # Then the transaction was rolled back: no expiry, no step recorded
    first.refresh_from_db()
    assert first.status == "offered"
    assert not EscalationStep.objects.filter(ticket=ticket).exists()
    assert TicketEvent.objects.filter(ticket=ticket, kind="offer_expired").count() == 0

    # When a new worker (without the pause) and beat start
    with celery_processes(workers=1, beat=True, env=env, log_dir=tmp_path / "after") as after:
        worker = after.workers[0]
        # Then the killed task's message is delivered again and completes
        wait_until(
            lambda: task_id in task_ids(worker.log(), ESCALATE_TOPIC, "succeeded"),
            limit=POLL_LIMIT,
            what=f"the killed escalation {task_id} redelivered",
        )
        redelivered = time.monotonic() - killed
        wait_until(
            lambda: Offer.objects.filter(ticket=ticket, partner=q).exists(),
            limit=POLL_LIMIT,
            what="offer Q",
        )
        # and, while beat keeps sweeping, the step is done exactly once
        time.sleep(2 * SWEEP_SECONDS + 1)
        first.refresh_from_db()
        assert first.status == "expired"
        assert sorted(Offer.objects.filter(ticket=ticket).values_list("partner_id", "status")) == (
            sorted([(p.pk, "expired"), (q.pk, "offered")])
        )
        events = Counter(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
        assert (events["offer_expired"], events["offer_made"]) == (1, 2)
        steps = Counter(EscalationStep.objects.filter(ticket=ticket).values_list("step", flat=True))
        assert steps == Counter({"expire_offer": 1, f"expire_offer:{first.pk}": 1})
        breach = ClockThreshold.objects.get(
            clock__ticket=ticket, clock__partner=p, clock__metric="acceptance", kind="breach"
        )
        assert Notification.objects.filter(dedupe_key=f"sla-threshold:{breach.pk}").count() == 1
        assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
        assert log_problems(after.all) == []
        print(f"\nkilled escalation redelivered and done {redelivered:.1f}s after the kill")
