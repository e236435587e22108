"""The field escalation ladder, driven by the real sweep and the escalation task.

Times (see ``dispatch_support``; 24×7, warnings at 75 %): the ticket opens and is offered to
P at T0 = 07:00Z. P's OLA: acceptance due 07:30Z; arrival warns at 90 min → 08:30Z and is due
at 2 h → 09:00Z (12:00 MSK). A due instant is still in time: the sweep records a breach
once it has passed, so the sweeps below run a minute after (07:31Z, 09:01Z). Q, offered the
job at the 09:01Z escalation, must accept by 09:31Z.

The sweep runs with ``django_capture_on_commit_callbacks(execute=True)``: its outbox rows are
relayed after "commit" and the escalation tasks run (eagerly), as Celery would run them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection, transaction

from servicedesk.models import Notification
from sla import services as sla
from sla.models import ClockThreshold
from tests.tickets.dispatch_support import (
    accept,
    at,
    field_world,
    live_offer,
    ola,
    open_field_ticket,
    rerun_escalations,
    sweep_and_escalate,
)
from tickets import escalation, visits
from tickets.models import EscalationPolicy, EscalationStep, Offer, TicketEvent, Visit


@pytest.fixture
def fw(world):
    return field_world(world)


def events(ticket, kind: str) -> int:
    return TicketEvent.objects.filter(ticket=ticket, kind=kind).count()


def steps(ticket) -> list[tuple[str, str]]:
    return list(
        EscalationStep.objects.filter(ticket=ticket).order_by("pk").values_list("step", "outcome")
    )


# --- offer not accepted in time ------------------------------------------------------------


def test_acceptance_breach_expires_the_offer_and_offers_the_next_partner_once(
    fw, django_capture_on_commit_callbacks
):
    ticket = open_field_ticket(fw)
    first = live_offer(ticket)
    # When the sweep runs just past P's deadline, at 07:31Z
    result = sweep_and_escalate(at(31), django_capture_on_commit_callbacks)
    # Then the acceptance breach (and the response breach) were recorded, the offer found
    # overdue, and the escalation expired P's offer and offered the job to Q until 08:01Z
    assert (result.breaches, result.overdue_offers) == (2, 1)
    first.refresh_from_db()
    second = live_offer(ticket)
    assert (first.status, first.ended_at) == ("expired", at(31))
    assert (second.partner_id, second.offered_at, second.deadline) == (
        fw.partner_q.pk,
        at(31),
        at(61),
    )
    # The breach stays recorded against P
    acceptance = ola(ticket, "acceptance", fw.partner_p)
    assert (acceptance.state, acceptance.breached_at) == ("breached", at(30))
    # Each step once: the threshold's step and the offer's expiry (the deadline scan found
    # the offer already handled)
    assert steps(ticket) == [("expire_offer", "expired"), (f"expire_offer:{first.pk}", "expired")]
    assert (events(ticket, "offer_expired"), events(ticket, "offer_made")) == (1, 2)
    # When every escalation is delivered again (a retry), nothing more happens
    assert rerun_escalations(at(32)) == 0
    assert (events(ticket, "offer_expired"), Offer.objects.filter(ticket=ticket).count()) == (1, 2)
    assert len(steps(ticket)) == 2


def run_together(*calls: Callable[[], object], timeout: float = 30) -> list[tuple[str, object]]:
    """Run ``calls`` on one thread each, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, object] | None] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = ("ok", call())
        except Exception as exc:  # the test inspects every outcome
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results  # type: ignore[return-value]


@pytest.mark.django_db(transaction=True)
def test_two_workers_escalating_the_same_breach_act_once(fw):
    ticket = open_field_ticket(fw)
    first = live_offer(ticket)
    # Given the sweep marked P's acceptance breach at 07:31Z (committed, not yet escalated)
    with time_machine.travel(at(31), tick=False), transaction.atomic():
        ids = [t.threshold_id for t in sla.sweep_batch(now=at(31)) if t.ticket_id == ticket.pk]
    # When two workers run the same escalation at the same moment
    with time_machine.travel(at(31), tick=False):
        results = run_together(
            lambda: escalation.ticket_escalate(ticket_id=ticket.pk, threshold_ids=ids),
            lambda: escalation.ticket_escalate(ticket_id=ticket.pk, threshold_ids=ids),
        )
    # Then both finish, and the offer expired and the job moved on exactly once
    assert [outcome for outcome, _value in results] == ["ok", "ok"], results
    first.refresh_from_db()
    assert first.status == "expired"
    assert list(Offer.objects.filter(ticket=ticket).values_list("partner_id", "status")) == [
        (fw.partner_q.pk, "offered"),
        (fw.partner_p.pk, "expired"),
    ]
    assert (events(ticket, "offer_expired"), events(ticket, "unassigned")) == (1, 1)
    assert EscalationStep.objects.filter(ticket=ticket, step="expire_offer").count() == 1


def test_an_offer_without_an_ola_clock_still_expires_at_its_deadline(
    fw, django_capture_on_commit_callbacks
):
    # Given a P4 job: no P4 policy and no partner calendar, so no OLA clock; P's offer is
    # due 30 min after it was made, 07:30Z
    ticket = open_field_ticket(fw, priority="p4")
    first = live_offer(ticket)
    assert first.deadline == at(30)
    # At the deadline it is still in time; just past it the sweep finds it overdue
    assert sweep_and_escalate(at(30), django_capture_on_commit_callbacks).overdue_offers == 0
    result = sweep_and_escalate(at(31), django_capture_on_commit_callbacks)
    assert (result.breaches, result.overdue_offers) == (0, 1)
    first.refresh_from_db()
    assert first.status == "expired"
    assert live_offer(ticket).partner_id == fw.partner_q.pk
    assert steps(ticket) == [(f"expire_offer:{first.pk}", "expired")]


# --- arrival at risk -----------------------------------------------------------------------


def test_arrival_warning_with_nobody_en_route_alerts_the_partner_and_dispatchers_once(
    fw, django_capture_on_commit_callbacks
):
    ticket = open_field_ticket(fw)
    accept(fw, live_offer(ticket), at(10))
    # When P's arrival warning is reached at 08:30Z and nobody has set off
    sweep_and_escalate(at(90), django_capture_on_commit_callbacks)
    # Then P's manager and the dispatcher are alerted, urgently, with the arrival deadline
    alerts = Notification.objects.filter(ticket_id=ticket.pk, kind="arrival_at_risk")
    assert sorted(alerts.values_list("recipient__username", flat=True)) == [
        "dispatcher",
        "partner_manager_p",
    ]
    assert all(n.urgent for n in alerts)
    assert alerts.first().body == (
        "Nobody is on the way yet; the engineer must be on site by 12:00 (UTC+3)."
    )
    assert steps(ticket) == [("alert_arrival_at_risk", "alerted")]
    # A redelivered escalation alerts nobody again
    assert rerun_escalations(at(91)) == 0
    assert alerts.count() == 2


def test_arrival_warning_with_the_engineer_en_route_alerts_nobody(
    fw, django_capture_on_commit_callbacks
):
    ticket = open_field_ticket(fw)
    accept(fw, live_offer(ticket), at(10))
    visit = Visit.objects.get(ticket=ticket)
    with time_machine.travel(at(60), tick=False):
        visits.visit_en_route(actor=fw.actor("engineer_p"), visit_id=visit.pk)
    sweep_and_escalate(at(90), django_capture_on_commit_callbacks)
    assert not Notification.objects.filter(ticket_id=ticket.pk, kind="arrival_at_risk").exists()
    assert steps(ticket) == [("alert_arrival_at_risk", "not_applicable")]


# --- arrival breached ----------------------------------------------------------------------


def test_arrival_breach_withdraws_the_job_and_offers_it_to_the_next_partner(
    fw, django_capture_on_commit_callbacks
):
    ticket = open_field_ticket(fw)
    offer = live_offer(ticket)
    accept(fw, offer, at(10))
    visit = Visit.objects.get(ticket=ticket)
    with time_machine.travel(at(60), tick=False):
        visits.visit_en_route(actor=fw.actor("engineer_p"), visit_id=visit.pk)
    # When P's engineer is still not on site past 09:00Z
    sweep_and_escalate(at(121), django_capture_on_commit_callbacks)
    # Then the job is taken from P: offer withdrawn, visit called off, clocks stopped …
    offer.refresh_from_db()
    visit.refresh_from_db()
    assert (offer.status, offer.ended_at, visit.cancelled_at) == ("withdrawn", at(121), at(121))
    assert (
        offer.decline_reason == "Arrival OLA breached: Partner P was not on site by 12:00 (UTC+3)."
    )
    # … and the arrival breach stays recorded against P
    arrival = ola(ticket, "arrival", fw.partner_p)
    assert (arrival.state, arrival.breached_at) == ("breached", at(120))
    # Q is offered the job until 09:31Z
    second = live_offer(ticket)
    assert (second.partner_id, second.deadline) == (fw.partner_q.pk, at(151))
    # The dispatcher is alerted, urgently
    alert = Notification.objects.get(ticket_id=ticket.pk, kind="arrival_breached")
    assert (alert.recipient.username, alert.urgent) == ("dispatcher", True)
    # (The arrival warning, swept at the same time, found the engineer on the way.)
    assert steps(ticket) == [
        ("alert_arrival_at_risk", "not_applicable"),
        ("reassign_late_partner", "reassigned"),
    ]
    # Once
    rerun_escalations(at(122))
    assert (events(ticket, "offer_withdrawn"), Offer.objects.filter(ticket=ticket).count()) == (
        1,
        2,
    )


def test_when_nobody_is_left_the_ticket_is_flagged_with_the_reason(
    fw, django_capture_on_commit_callbacks
):
    ticket = open_field_ticket(fw)
    accept(fw, live_offer(ticket), at(10))
    sweep_and_escalate(at(121), django_capture_on_commit_callbacks)  # P withdrawn, Q offered
    # When Q does not accept by 09:31Z either
    sweep_and_escalate(at(152), django_capture_on_commit_callbacks)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.partner_id, live_offer(ticket)) == ("new", None, None)
    assert ticket.needs_attention
    assert ticket.attention_reason == (
        "No eligible partner left for RU-MOW: Partner P — was withdrawn from this job; "
        "Partner Q — let the offer of this job expire."
    )
    assert events(ticket, "escalated") == 1
    assert Notification.objects.filter(
        ticket_id=ticket.pk, kind="dispatch_attention", recipient__username="dispatcher"
    ).exists()


def test_the_contracts_escalation_policy_turns_steps_off(fw, django_capture_on_commit_callbacks):
    EscalationPolicy.objects.create(
        contract=fw.contract,
        reoffer_on_accept_timeout=False,
        alert_on_arrival_warning=False,
        reassign_on_arrival_breach=False,
    )
    ticket = open_field_ticket(fw)
    accept(fw, live_offer(ticket), at(10))
    sweep_and_escalate(at(90), django_capture_on_commit_callbacks)
    sweep_and_escalate(at(121), django_capture_on_commit_callbacks)
    # Nobody alerted beyond the SLA notifications, the job stays with P, breach recorded
    ticket.refresh_from_db()
    assert (ticket.partner_id, ticket.status) == (fw.partner_p.pk, "accepted")
    assert not Notification.objects.filter(
        ticket_id=ticket.pk, kind__in=["arrival_at_risk", "arrival_breached"]
    ).exists()
    assert steps(ticket) == [
        ("alert_arrival_at_risk", "off_by_policy"),
        ("reassign_late_partner", "off_by_policy"),
    ]
    assert ClockThreshold.objects.filter(clock__ticket=ticket, kind="breach").count() == 1


def test_without_reoffer_an_expired_offer_goes_back_to_the_dispatcher(
    fw, django_capture_on_commit_callbacks
):
    EscalationPolicy.objects.create(contract=fw.contract, reoffer_on_accept_timeout=False)
    ticket = open_field_ticket(fw)
    sweep_and_escalate(at(31), django_capture_on_commit_callbacks)
    ticket.refresh_from_db()
    assert (live_offer(ticket), ticket.status, ticket.needs_attention) == (None, "new", True)
    assert ticket.attention_reason == (
        "Partner P did not answer the offer in time. Offer the job by hand."
    )
