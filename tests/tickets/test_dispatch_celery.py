"""The field dispatch loop for real: Redis broker, beat and two competing workers.

Issue 4's acceptance: a field ticket is auto-offered; the offer expires and moves to the
next partner; an accepted job whose arrival OLA is breached is taken back (and, with nobody
left, flagged for the dispatcher); the timeline shows each step once, the notifications are
written once and the urgent ones are e-mailed (after commit, through the outbox, by a worker).

Partners P and Q (P ranked first: cheaper) must accept within 4 s and be on site within 8 s,
counted on the 24×7 calendar; beat sweeps every 2 s. The test runs in about 30 s.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.utils import timezone

from servicedesk.models import Notification, OutboxMessage
from servicedesk.notifications import EMAIL_TOPIC
from sla.models import ClockThreshold, SlaClock
from tests.celery_support import celery_env, celery_processes, connected_database_url
from tests.tickets.celery_field_support import field_desk, log_problems, wait_until
from tickets import dispatch
from tickets.models import EscalationStep, Offer, Ticket, TicketEvent

SWEEP_SECONDS = 2
ACCEPT_SECONDS = 4
ARRIVE_SECONDS = 8
# A step is due one sweep after its instant at worst, plus the escalation's hop through the
# outbox and a worker (milliseconds) and the test's polling.
STEP_LAG = 2 * SWEEP_SECONDS + 1.5
POLL_LIMIT = 30


def _offer(ticket: Ticket, partner, status: str | None = None) -> Offer | None:
    offers = Offer.objects.filter(ticket=ticket, partner=partner)
    if status:
        offers = offers.filter(status=status)
    return offers.first()


def _events(ticket: Ticket) -> Counter[str]:
    return Counter(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))


def _snapshot(ticket: Ticket) -> tuple:
    """Everything that must not change once the loop is over."""
    return (
        sorted(_events(ticket).items()),
        sorted(EscalationStep.objects.filter(ticket=ticket).values_list("step", "outcome")),
        sorted(
            Notification.objects.filter(ticket_id=ticket.pk).values_list(
                "kind", "recipient__username", "dedupe_key"
            )
        ),
        sorted(Offer.objects.filter(ticket=ticket).values_list("partner_id", "status")),
        OutboxMessage.objects.filter(dispatched_at__isnull=True).count(),
    )


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_offer_expires_moves_on_then_late_arrival_is_withdrawn_each_step_once(
    redis_broker, tmp_path
):
    desk = field_desk(
        partners=[
            ("Partner P", ACCEPT_SECONDS, ARRIVE_SECONDS),
            ("Partner Q", ACCEPT_SECONDS, ARRIVE_SECONDS),
        ]
    )
    p, q = desk.partners
    env = celery_env(
        database_url=connected_database_url(),
        broker_url=redis_broker,
        SLA_SWEEP_SECONDS=str(SWEEP_SECONDS),
    )
    with celery_processes(workers=2, beat=True, env=env, log_dir=tmp_path) as celery:
        # When a field ticket is opened: it is auto-offered to P, due in 4 s
        ticket = desk.open_ticket()
        first = _offer(ticket, p, "offered")
        assert first is not None, "the ticket was not auto-offered to the best partner"
        assert abs((first.deadline - first.offered_at).total_seconds() - ACCEPT_SECONDS) < 0.5

        # Then nobody answers: within a sweep or two of the deadline P's offer expires and
        # the job is offered to Q
        wait_until(lambda: _offer(ticket, q), limit=ACCEPT_SECONDS + POLL_LIMIT, what="offer Q")
        first.refresh_from_db()
        second = _offer(ticket, q)
        assert first.status == "expired"
        expiry_lag = (first.ended_at - first.deadline).total_seconds()
        assert 0 < expiry_lag <= STEP_LAG, expiry_lag
        assert second.status == "offered"
        assert 0 <= (second.offered_at - first.ended_at).total_seconds() < 1  # the same step

        # When Q accepts (naming an engineer, an hour's ETA) and nobody sets off
        dispatch.offer_accept(
            actor=desk.actor(desk.managers[q.pk]),
            offer_id=second.pk,
            engineer_id=desk.engineers[q.pk].pk,
            eta=timezone.now() + timezone.timedelta(hours=1),
        )
        arrival = SlaClock.objects.get(ticket=ticket, agreement="ola", metric="arrival", partner=q)

        # Then the arrival breach takes the job back from Q and, nobody being left, the
        # ticket is flagged for the dispatcher with the reason
        wait_until(
            lambda: Ticket.objects.filter(pk=ticket.pk, needs_attention=True).exists(),
            limit=ARRIVE_SECONDS + POLL_LIMIT,
            what="the ticket flagged after the arrival breach",
        )
        second.refresh_from_db()
        ticket.refresh_from_db()
        assert second.status == "withdrawn"
        withdraw_lag = (second.ended_at - arrival.due_at).total_seconds()
        assert 0 < withdraw_lag <= STEP_LAG, withdraw_lag
        assert (ticket.status, ticket.partner_id) == ("new", None)
        assert ticket.attention_reason.startswith("No eligible partner left for RU-MOW")
        arrival.refresh_from_db()
        assert arrival.breached_at is not None  # stays recorded against Q

        # And the urgent notifications reach the dispatcher's mailbox (a worker sent them)
        urgent_to_dispatcher = Notification.objects.filter(
            ticket_id=ticket.pk, recipient=desk.dispatcher, urgent=True
        )
        wait_until(
            lambda: not urgent_to_dispatcher.filter(email_sent_at__isnull=True).exists(),
            limit=POLL_LIMIT,
            what="the urgent e-mails sent",
        )
        done = _snapshot(ticket)

        # The timeline shows each step exactly once …
        events = _events(ticket)
        assert {k: events[k] for k in ("offer_made", "offer_expired", "offer_accepted")} == {
            "offer_made": 2,
            "offer_expired": 1,
            "offer_accepted": 1,
        }
        assert (events["offer_withdrawn"], events["escalated"]) == (1, 1)
        steps = list(EscalationStep.objects.filter(ticket=ticket).values_list("step", "outcome"))
        assert len(steps) == len(set(steps))
        # The offer expired exactly once, under its own effect key "expire_offer:<offer id>",
        # by whichever route got there first: the OLA acceptance breach (its ladder step
        # "expire_offer" then reports "expired" too, having done it through that key) or the
        # sweep's check of live offers past their deadline (the breach's step then finds no
        # live offer).
        assert [o for s, o in steps if s == f"expire_offer:{first.pk}"] == ["expired"], steps
        assert [o for s, o in steps if s == "expire_offer"] in (["expired"], ["no_live_offer"])
        assert ("alert_arrival_at_risk", "alerted") in steps
        assert ("reassign_late_partner", "reassigned") in steps

        # … and so are the notifications: one per SLA/OLA threshold and dispatcher, each
        # partner's manager told of its offer and of its end, the arrival alert to Q's
        # manager and the dispatcher, the breach and the flag once
        notes = Counter(
            Notification.objects.filter(ticket_id=ticket.pk).values_list(
                "kind", "recipient__username"
            )
        )
        thresholds = Counter(
            ClockThreshold.objects.filter(clock__ticket=ticket).values_list("kind", flat=True)
        )
        assert notes == Counter(
            {
                ("sla_warning", "dispatcher"): thresholds["warning"],
                ("sla_breach", "dispatcher"): thresholds["breach"],
                ("offer_made", desk.managers[p.pk].username): 1,
                ("offer_expired", desk.managers[p.pk].username): 1,
                ("offer_made", desk.managers[q.pk].username): 1,
                ("offer_withdrawn", desk.managers[q.pk].username): 1,
                ("arrival_at_risk", "dispatcher"): 1,
                ("arrival_at_risk", desk.managers[q.pk].username): 1,
                ("arrival_breached", "dispatcher"): 1,
                ("dispatch_attention", "dispatcher"): 1,
            }
        )
        # e-mail: the urgent ones (the dispatcher has an address; the manager has none)
        emailed = OutboxMessage.objects.filter(topic=EMAIL_TOPIC)
        assert emailed.count() == urgent_to_dispatcher.count() >= 4
        assert not Notification.objects.filter(
            ticket_id=ticket.pk, urgent=False, email_sent_at__isnull=False
        ).exists()

        # While beat keeps sweeping and both workers keep competing, nothing more happens
        time.sleep(3 * SWEEP_SECONDS + 1)
        assert _snapshot(ticket) == done
        assert log_problems(celery.all) == []
        assert all(proc.alive() for proc in celery.all)
        print(f"\nexpiry lag {expiry_lag:.2f}s, withdrawal lag {withdraw_lag:.2f}s")


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_late_arrival_is_withdrawn_and_offered_to_the_next_partner_each_step_once(
    redis_broker, tmp_path
):
    """Issue 4: "an accepted job whose arrival OLA is breached is reassigned". With a third
    eligible partner R (ranked last, a long acceptance window so its offer stays live), the
    arrival breach takes the job from Q and offers it to R instead of flagging it."""
    desk = field_desk(
        partners=[
            ("Partner P", ACCEPT_SECONDS, ARRIVE_SECONDS),
            ("Partner Q", ACCEPT_SECONDS, ARRIVE_SECONDS),
            ("Partner R", 3600, 3600),
        ]
    )
    p, q, r = desk.partners
    env = celery_env(
        database_url=connected_database_url(),
        broker_url=redis_broker,
        SLA_SWEEP_SECONDS=str(SWEEP_SECONDS),
    )
    with celery_processes(workers=2, beat=True, env=env, log_dir=tmp_path) as celery:
        # Given P let its offer expire and Q accepted the job and nobody sets off
        ticket = desk.open_ticket()
        first = _offer(ticket, p, "offered")
        assert first is not None, "the ticket was not auto-offered to the best partner"
        wait_until(lambda: _offer(ticket, q), limit=ACCEPT_SECONDS + POLL_LIMIT, what="offer Q")
        second = _offer(ticket, q)
        assert second.status == "offered"
        dispatch.offer_accept(
            actor=desk.actor(desk.managers[q.pk]),
            offer_id=second.pk,
            engineer_id=desk.engineers[q.pk].pk,
            eta=timezone.now() + timezone.timedelta(hours=1),
        )
        arrival = SlaClock.objects.get(ticket=ticket, agreement="ola", metric="arrival", partner=q)

        # When Q's arrival OLA is breached: the job is withdrawn from Q and offered to R
        wait_until(
            lambda: _offer(ticket, r, "offered"),
            limit=ARRIVE_SECONDS + POLL_LIMIT,
            what="the job offered to R after Q's arrival breach",
        )
        first.refresh_from_db()
        second.refresh_from_db()
        third = _offer(ticket, r, "offered")
        assert first.status == "expired"
        assert second.status == "withdrawn"
        withdraw_lag = (second.ended_at - arrival.due_at).total_seconds()
        assert 0 < withdraw_lag <= STEP_LAG, withdraw_lag
        assert 0 <= (third.offered_at - second.ended_at).total_seconds() < 1  # the same step
        assert third.deadline > timezone.now()  # a live offer, not about to expire
        ticket.refresh_from_db()
        assert ticket.partner_id == r.pk  # assigned to R, awaiting its answer
        assert not ticket.needs_attention  # someone was left: nothing for the dispatcher
        arrival.refresh_from_db()
        assert arrival.breached_at is not None  # the breach stays recorded against Q
        assert arrival.partner_id == q.pk
        assert list(
            Offer.objects.filter(ticket=ticket, status="offered").values_list("partner", flat=True)
        ) == [r.pk]

        # And the urgent notifications reach the dispatcher's mailbox (a worker sent them)
        urgent_to_dispatcher = Notification.objects.filter(
            ticket_id=ticket.pk, recipient=desk.dispatcher, urgent=True
        )
        wait_until(
            lambda: not urgent_to_dispatcher.filter(email_sent_at__isnull=True).exists(),
            limit=POLL_LIMIT,
            what="the urgent e-mails sent",
        )
        done = _snapshot(ticket)

        # The timeline shows each step exactly once
        events = _events(ticket)
        assert {
            k: events[k]
            for k in (
                "offer_made",
                "offer_expired",
                "offer_accepted",
                "offer_withdrawn",
                "escalated",
            )
        } == {
            "offer_made": 3,
            "offer_expired": 1,
            "offer_accepted": 1,
            "offer_withdrawn": 1,
            "escalated": 0,
        }
        steps = list(EscalationStep.objects.filter(ticket=ticket).values_list("step", "outcome"))
        assert len(steps) == len(set(steps))
        assert [o for s, o in steps if s == f"expire_offer:{first.pk}"] == ["expired"], steps
        assert [o for s, o in steps if s == "reassign_late_partner"] == ["reassigned"], steps
        assert ("alert_arrival_at_risk", "alerted") in steps
        notes = Counter(
            Notification.objects.filter(ticket_id=ticket.pk).values_list(
                "kind", "recipient__username"
            )
        )
        assert notes[("arrival_at_risk", desk.managers[q.pk].username)] == 1
        assert notes[("arrival_breached", "dispatcher")] == 1
        assert notes[("dispatch_attention", "dispatcher")] == 0

        # While beat keeps sweeping and both workers keep competing, nothing more happens
        time.sleep(3 * SWEEP_SECONDS + 1)
        assert _snapshot(ticket) == done
        assert log_problems(celery.all) == []
        assert all(proc.alive() for proc in celery.all)
        print(f"\nwithdrawal lag {withdraw_lag:.2f}s")
