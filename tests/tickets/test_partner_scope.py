"""What a partner sees, at the selector level: its offers, its jobs, its engineers' jobs and
its history; never another partner's job, identity or data, nor anything internal."""

from __future__ import annotations

import pytest
import time_machine

from servicedesk.exceptions import NotFound
from tests.tickets.dispatch_support import (
    accept,
    at,
    field_world,
    live_offer,
    open_field_ticket,
    sweep_and_escalate,
)
from tickets import selectors, services, visits
from tickets.models import Visit
from tickets.partner_selectors import (
    partner_job_history,
    partner_job_timeline,
    partner_jobs,
    partner_offers_awaiting,
)


@pytest.fixture
def fw(world):
    return field_world(world)


def test_a_partner_manager_sees_the_offers_awaiting_its_answer(fw):
    # Given a job offered to P
    ticket = open_field_ticket(fw)
    offer = live_offer(ticket)
    # Then P's manager sees it with its deadline; P's engineers and Q do not
    assert list(partner_offers_awaiting(actor=fw.actor("partner_manager_p"))) == [offer]
    for who in ("engineer_p", "partner_manager_q", "dispatcher", "client_manager_a"):
        assert list(partner_offers_awaiting(actor=fw.actor(who))) == []
    # And the job itself is visible to P (to decide on it), not to Q
    assert ticket in selectors.ticket_list(actor=fw.actor("partner_manager_p"))
    assert ticket not in selectors.ticket_list(actor=fw.actor("partner_manager_q"))
    with pytest.raises(NotFound):
        selectors.ticket_get(actor=fw.actor("partner_manager_q"), ticket_id=ticket.pk)


def test_accepted_jobs_and_the_engineers_jobs(fw):
    ticket = open_field_ticket(fw)
    accept(fw, live_offer(ticket), at(10), engineer="engineer_p2")
    manager, engineer_p, engineer_p2 = (
        fw.actor(n) for n in ("partner_manager_p", "engineer_p", "engineer_p2")
    )
    # The manager sees the accepted job, and can narrow to one engineer's jobs
    assert list(partner_jobs(actor=manager)) == [ticket]
    assert list(partner_jobs(actor=manager, engineer_id=fw.users["engineer_p2"].pk)) == [ticket]
    assert list(partner_jobs(actor=manager, engineer_id=fw.users["engineer_p"].pk)) == []
    # An engineer sees only its own jobs, whatever it asks for
    assert list(partner_jobs(actor=engineer_p2)) == [ticket]
    assert list(partner_jobs(actor=engineer_p)) == []
    assert list(partner_jobs(actor=engineer_p, engineer_id=fw.users["engineer_p2"].pk)) == []
    # Q sees none of it
    assert list(partner_jobs(actor=fw.actor("partner_manager_q"))) == []
    assert list(partner_jobs(actor=fw.actor("engineer_q"))) == []


def test_a_partner_sees_nothing_internal_on_its_job(fw):
    ticket = open_field_ticket(fw)
    accept(fw, live_offer(ticket), at(10))
    dispatcher = fw.actor("dispatcher")
    services.ticket_comment(actor=dispatcher, ticket_id=ticket.pk, body="Едет инженер")
    services.ticket_comment(
        actor=dispatcher, ticket_id=ticket.pk, body="Партнёр опаздывает часто", is_internal=True
    )
    for who in ("partner_manager_p", "engineer_p"):
        actor = fw.actor(who)
        timeline = selectors.ticket_events(actor=actor, ticket=ticket)
        # Not the offers (the dispatcher's business), not the OLA clocks, no internal note
        assert not timeline.filter(is_internal=True).exists()
        assert not timeline.filter(kind__in=["offer_made", "commented"], is_internal=True).exists()
        assert {"offer_made", "sla"} & set(
            timeline.filter(data__agreement="ola").values_list("kind", flat=True)
        ) == set()
        bodies = [c.body for c in selectors.ticket_comments(actor=actor, ticket=ticket)]
        assert bodies == ["Едет инженер"]
    # Its own OLA clocks (and the client's SLA it works to), never another partner's OLA
    clocks = selectors.ticket_clocks(actor=fw.actor("partner_manager_p"), ticket=ticket)
    assert {(c.agreement, c.partner_id) for c in clocks} == {
        ("ola", fw.partner_p.pk),
        ("sla", None),
    }


@pytest.fixture
def handed_over(fw, django_capture_on_commit_callbacks):
    """P accepted, its engineer set off and checked in never: the arrival breach (09:01Z)
    took the job from P and Q accepted it at 09:10Z; Q's engineer checked in at 09:40Z."""
    ticket = open_field_ticket(fw)
    accept(fw, live_offer(ticket), at(10))
    with time_machine.travel(at(60), tick=False):
        visits.visit_en_route(
            actor=fw.actor("engineer_p"), visit_id=Visit.objects.get(ticket=ticket).pk
        )
    sweep_and_escalate(at(121), django_capture_on_commit_callbacks)
    accept(fw, live_offer(ticket), at(130), engineer="engineer_q")
    q_visit = Visit.objects.get(ticket=ticket, partner=fw.partner_q)
    with time_machine.travel(at(160), tick=False):
        visits.visit_check_in(
            actor=fw.actor("engineer_q"),
            visit_id=q_visit.pk,
            latitude=fw.store_a1.latitude,
            longitude=fw.store_a1.longitude,
        )
    ticket.refresh_from_db()
    return ticket


def test_history_shows_a_job_taken_from_the_partner_without_who_took_it(fw, handed_over):
    ticket = handed_over
    manager = fw.actor("partner_manager_p")
    # P no longer sees the ticket through the live scope …
    assert ticket not in selectors.ticket_list(actor=manager)
    # … but its history keeps its own part of it
    (record,) = [r for r in partner_job_history(actor=manager) if r.ticket_id == ticket.pk]
    assert (record.held_now, record.status, record.outcome) == (False, None, "withdrawn")
    assert [(v.engineer, v.en_route_at, v.cancelled_at) for v in record.visits] == [
        (str(fw.users["engineer_p"]), at(60), at(121))
    ]
    # The record has no field for the current partner or engineer at all
    assert not {"partner", "partner_id", "engineer", "engineer_id"} & set(vars(record))
    # Its timeline: only entries about P, none internal, nothing naming Q
    timeline = list(partner_job_timeline(actor=manager, ticket_id=ticket.pk))
    assert timeline
    assert all(e.data.get("partner_id") == fw.partner_p.pk for e in timeline)
    assert not any(e.is_internal for e in timeline)
    assert "Partner Q" not in str([e.data for e in timeline])
    # P's engineer sees the same job in its own history
    mine = partner_job_history(actor=fw.actor("engineer_p"))
    assert [r.ticket_id for r in mine if r.ticket_id == ticket.pk] == [ticket.pk]
    assert partner_job_history(actor=fw.actor("engineer_p2")) == []


def test_the_partner_holding_the_job_now_does_not_see_the_previous_one(fw, handed_over):
    ticket = handed_over
    manager_q = fw.actor("partner_manager_q")
    (record,) = [r for r in partner_job_history(actor=manager_q) if r.ticket_id == ticket.pk]
    assert (record.held_now, record.status, record.outcome) == (True, "on_site", "in_progress")
    assert [v.engineer for v in record.visits] == [str(fw.users["engineer_q"])]
    timeline = list(partner_job_timeline(actor=manager_q, ticket_id=ticket.pk))
    # No entry names P (its acceptance, its visit, its assignment) and none is internal
    assert not any(e.data.get("partner_id") == fw.partner_p.pk for e in timeline)
    assert not any(e.is_internal for e in timeline)
    assert "Partner P" not in str([e.data for e in timeline])
    assert {"offer_accepted", "visit_updated"} <= {e.kind for e in timeline}


def test_history_is_the_partners_own_only(fw, handed_over):
    # A partner that never took a job has no history of it; others see no partner history
    assert handed_over.pk not in {
        r.ticket_id for r in partner_job_history(actor=fw.actor("engineer_p2"))
    }
    for who in ("dispatcher", "client_manager_a", "store_staff_a1"):
        assert partner_job_history(actor=fw.actor(who)) == []
    # World ticket B1 is Q's: P has no history of it and cannot read its timeline
    b1 = fw.tickets["b1"]
    assert b1.pk not in {
        r.ticket_id for r in partner_job_history(actor=fw.actor("partner_manager_p"))
    }
    with pytest.raises(NotFound):
        partner_job_timeline(actor=fw.actor("partner_manager_p"), ticket_id=b1.pk)
