"""Offers: auto-dispatch on create, one live offer, accept / decline / withdraw / expire.

Times (see ``dispatch_support``): the ticket opens at T0 = 07:00Z (10:00 MSK); P's offer
falls due with its OLA acceptance clock, 30 min on 24×7 → 07:30Z (10:30 MSK).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from servicedesk.exceptions import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from servicedesk.models import Notification
from sla.models import SlaClock
from tests.tickets.dispatch_support import (
    T0,
    accept,
    at,
    field_world,
    live_offer,
    ola,
    open_field_ticket,
)
from tickets import dispatch, services
from tickets.models import Offer, TicketEvent, Visit


@pytest.fixture
def fw(world):
    return field_world(world)


@pytest.fixture
def manual(world):
    """Client A dispatches by hand."""
    return field_world(world, auto_dispatch=False)


def kinds(ticket, **filters) -> list[str]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, **filters)
        .exclude(kind="sla")
        .order_by("created_at", "pk")
        .values_list("kind", flat=True)
    )


# --- making offers -------------------------------------------------------------------------


def test_field_ticket_of_an_auto_dispatch_client_is_offered_on_create(fw):
    # When a P1 field ticket opens at T0
    ticket = open_field_ticket(fw)
    # Then it is offered to P (ties with Q at 0.79, first by name) and assigned to it
    offer = live_offer(ticket)
    assert (offer.partner_id, ticket.partner_id, ticket.status) == (
        fw.partner_p.pk,
        fw.partner_p.pk,
        "assigned",
    )
    # With the deadline of P's OLA acceptance clock: 30 min → 07:30Z
    acceptance = ola(ticket, "acceptance", fw.partner_p)
    assert offer.deadline == acceptance.due_at == at(30)
    assert (offer.offered_at, offer.offered_by_id) == (T0, None)
    # And the timeline says so, the offer as an internal entry by the system
    assert kinds(ticket) == ["created", "assigned", "offer_made"]
    made = TicketEvent.objects.get(ticket=ticket, kind="offer_made")
    assert (made.is_internal, made.actor_role, made.data["score"]) == (True, "system", 0.79)


def test_a_ticket_without_a_visit_or_of_a_manual_client_is_not_offered(fw):
    assert live_offer(open_field_ticket(fw, needs_visit=False)) is None
    fw.client_a.auto_dispatch = False
    fw.client_a.save(update_fields=["auto_dispatch"])
    ticket = open_field_ticket(fw)
    assert (live_offer(ticket), ticket.status, ticket.needs_attention) == (None, "new", False)


def test_a_job_has_at_most_one_live_offer(fw):
    ticket = open_field_ticket(fw)
    # When a dispatcher offers the job to Q while P's offer is live
    with time_machine.travel(at(5), tick=False), pytest.raises(Conflict) as refused:
        dispatch.offer_make(
            actor=fw.actor("dispatcher"), ticket_id=ticket.pk, partner_id=fw.partner_q.pk
        )
    # Then it is refused, saying who has it until when (the dispatcher's zone, Moscow)
    assert str(refused.value) == (
        f"Ticket {ticket.reference} is already offered to Partner P, "
        "awaiting an answer until 10:30 (UTC+3)."
    )
    assert Offer.objects.filter(ticket=ticket).count() == 1


def test_dispatcher_offers_by_hand_only_to_an_eligible_partner(manual):
    ticket = open_field_ticket(manual)
    # Given Q's certification expired in the summer
    manual.partner_q.certifications.update(issued_on="2025-01-01", expires_on="2026-06-30")
    with time_machine.travel(at(1), tick=False):
        with pytest.raises(ValidationFailed) as refused:
            dispatch.offer_make(
                actor=manual.actor("dispatcher"),
                ticket_id=ticket.pk,
                partner_id=manual.partner_q.pk,
            )
        assert refused.value.code == "partner_not_eligible"
        assert refused.value.fields["partner"] == [
            "no valid certification for Cash registers (expired on 2026-06-30)"
        ]
        # P is fine
        offer = dispatch.offer_make(
            actor=manual.actor("dispatcher"), ticket_id=ticket.pk, partner_id=manual.partner_p.pk
        )
    assert (offer.partner_id, offer.offered_by_id) == (
        manual.partner_p.pk,
        manual.users["dispatcher"].pk,
    )


def test_only_provider_staff_make_offers(manual):
    ticket = open_field_ticket(manual)
    for role in ("client_manager_a", "partner_manager_p"):
        with pytest.raises(PermissionDenied):
            dispatch.offer_make(
                actor=manual.actor(role), ticket_id=ticket.pk, partner_id=manual.partner_p.pk
            )
    assert not Offer.objects.filter(ticket=ticket).exists()


# --- accepting -----------------------------------------------------------------------------


def test_accept_names_the_engineer_and_opens_the_visit(fw):
    ticket = open_field_ticket(fw)
    offer = live_offer(ticket)
    # When P's manager accepts at 07:10Z with engineer P, ETA 08:10Z
    accept(fw, offer, at(10))
    # Then the offer is accepted, the ticket accepted with its engineer
    offer.refresh_from_db()
    ticket.refresh_from_db()
    assert (offer.status, offer.responded_at) == ("accepted", at(10))
    assert (ticket.status, ticket.engineer_id) == ("accepted", fw.users["engineer_p"].pk)
    # A visit is under way with the ETA and the cash-register checklist
    visit = Visit.objects.get(ticket=ticket)
    assert (visit.partner_id, visit.engineer_id, visit.eta, visit.checklist_kind) == (
        fw.partner_p.pk,
        fw.users["engineer_p"].pk,
        at(70),
        "cash_register",
    )
    # The acceptance OLA and the client's response clock are met at 07:10Z
    assert (ola(ticket, "acceptance", fw.partner_p).state, "met") == ("met", "met")
    response = SlaClock.objects.get(ticket=ticket, agreement="sla", metric="response")
    assert (response.state, response.stopped_at) == ("met", at(10))
    # And the acceptance is public on the timeline (the client sees who comes and when)
    accepted = TicketEvent.objects.get(ticket=ticket, kind="offer_accepted")
    assert (accepted.is_internal, accepted.data["eta"]) == (False, at(70).isoformat())


def test_accept_checks_who_engineer_and_eta(fw):
    ticket = open_field_ticket(fw)
    offer = live_offer(ticket)
    with time_machine.travel(at(5), tick=False):
        # An engineer cannot answer offers; another partner's manager does not see it
        with pytest.raises(PermissionDenied):
            dispatch.offer_accept(
                actor=fw.actor("engineer_p"),
                offer_id=offer.pk,
                engineer_id=fw.users["engineer_p"].pk,
                eta=at(60),
            )
        with pytest.raises(NotFound):
            dispatch.offer_accept(
                actor=fw.actor("partner_manager_q"),
                offer_id=offer.pk,
                engineer_id=fw.users["engineer_q"].pk,
                eta=at(60),
            )
        # Q's engineer is not P's; an ETA in the past is refused
        with pytest.raises(ValidationFailed) as wrong:
            dispatch.offer_accept(
                actor=fw.actor("partner_manager_p"),
                offer_id=offer.pk,
                engineer_id=fw.users["engineer_q"].pk,
                eta=at(60),
            )
        assert list(wrong.value.fields) == ["engineer"]
        with pytest.raises(ValidationFailed) as past:
            dispatch.offer_accept(
                actor=fw.actor("partner_manager_p"),
                offer_id=offer.pk,
                engineer_id=fw.users["engineer_p"].pk,
                eta=at(4),
            )
        assert list(past.value.fields) == ["eta"]
    # Nothing was written
    assert (live_offer(ticket).pk, Visit.objects.filter(ticket=ticket).count()) == (offer.pk, 0)


def test_accepting_after_the_deadline_says_when_it_expired(fw):
    ticket = open_field_ticket(fw)
    offer = live_offer(ticket)
    # The deadline passed (07:30Z) and the sweep has not expired the offer yet
    with time_machine.travel(at(31), tick=False), pytest.raises(Conflict) as late:
        dispatch.offer_accept(
            actor=fw.actor("partner_manager_p"),
            offer_id=offer.pk,
            engineer_id=fw.users["engineer_p"].pk,
            eta=at(90),
        )
    assert str(late.value) == (
        "This offer expired at 10:30 (UTC+3); the job is back with the dispatcher."
    )


def test_accepting_an_expired_offer_after_the_job_moved_on(fw):
    ticket = open_field_ticket(fw)
    offer = live_offer(ticket)
    # Given the offer expired once its deadline passed and the job went to Q
    with time_machine.travel(at(31), tick=False):
        expired = dispatch.offer_expire(offer_id=offer.pk, now=at(31))
    assert expired.status == "expired"
    ticket.refresh_from_db()
    assert ticket.partner_id == fw.partner_q.pk
    # When P's manager tries to accept it five minutes later
    with time_machine.travel(at(35), tick=False), pytest.raises(Conflict) as refused:
        accept(fw, offer, at(35))
    # Then the message says what happened, in the manager's time zone (Moscow)
    assert refused.value.code == "offer_expired"
    assert str(refused.value) == (
        "This offer expired at 10:30 (UTC+3); the job went to another partner."
    )


def test_accepting_a_withdrawn_offer_is_refused_with_the_reason(fw):
    ticket = open_field_ticket(fw)
    offer = live_offer(ticket)
    with time_machine.travel(at(5), tick=False):
        dispatch.offer_withdraw(
            actor=fw.actor("dispatcher"), offer_id=offer.pk, reason="Клиент сам починил"
        )
    with pytest.raises(Conflict) as refused:
        accept(fw, offer, at(6))
    assert str(refused.value) == "This offer was withdrawn at 10:05 (UTC+3): Клиент сам починил"


# --- declining, withdrawing, expiring ------------------------------------------------------


def test_decline_needs_a_reason_and_hands_the_job_to_the_next_partner(fw):
    ticket = open_field_ticket(fw)
    offer = live_offer(ticket)
    with time_machine.travel(at(3), tick=False):
        with pytest.raises(ValidationFailed) as bare:
            dispatch.offer_decline(
                actor=fw.actor("partner_manager_p"), offer_id=offer.pk, reason=" "
            )
        assert list(bare.value.fields) == ["reason"]
        # When P declines, busy
        dispatch.offer_decline(
            actor=fw.actor("partner_manager_p"), offer_id=offer.pk, reason="Нет свободных инженеров"
        )
    # Then P's offer is declined, its OLA clocks cancelled, and Q is offered the job
    offer.refresh_from_db()
    assert (offer.status, offer.decline_reason, offer.ended_at) == (
        "declined",
        "Нет свободных инженеров",
        at(3),
    )
    assert ola(ticket, "acceptance", fw.partner_p).state == "cancelled"
    nxt = live_offer(ticket)
    ticket.refresh_from_db()
    assert (nxt.partner_id, ticket.partner_id, ticket.status) == (
        fw.partner_q.pk,
        fw.partner_q.pk,
        "assigned",
    )
    # Q's deadline counts from its own offer: 07:03Z + 30 min
    assert nxt.deadline == at(33)
    assert kinds(ticket)[2:] == [
        "offer_made",
        "offer_declined",
        "status_changed",
        "unassigned",
        "assigned",
        "offer_made",
    ]


def test_nobody_left_flags_the_ticket_for_the_dispatchers(fw):
    ticket = open_field_ticket(fw)
    with time_machine.travel(at(3), tick=False):
        dispatch.offer_decline(
            actor=fw.actor("partner_manager_p"), offer_id=live_offer(ticket).pk, reason="Занят"
        )
    with time_machine.travel(at(4), tick=False):
        dispatch.offer_decline(
            actor=fw.actor("partner_manager_q"), offer_id=live_offer(ticket).pk, reason="Далеко"
        )
    # Then nobody holds the job and the dispatchers are asked to act, with the reasons
    ticket.refresh_from_db()
    assert (ticket.status, ticket.partner_id, ticket.needs_attention) == ("new", None, True)
    assert ticket.attention_reason == (
        "No eligible partner left for RU-MOW: Partner P — already declined this job; "
        "Partner Q — already declined this job."
    )
    flagged = TicketEvent.objects.get(ticket=ticket, kind="escalated")
    assert (flagged.is_internal, flagged.data["step"]) == (True, "no_partner")
    note = Notification.objects.get(ticket_id=ticket.pk, kind="dispatch_attention")
    assert (note.recipient.username, note.urgent) == ("dispatcher", True)
    # A new offer by hand (e.g. after P's manager calls back) clears the flag
    fw.partner_q.offers.filter(ticket=ticket).delete()
    with time_machine.travel(at(10), tick=False):
        dispatch.offer_make(
            actor=fw.actor("dispatcher"), ticket_id=ticket.pk, partner_id=fw.partner_q.pk
        )
    ticket.refresh_from_db()
    assert (ticket.needs_attention, ticket.attention_reason) == (False, "")


def test_a_job_nobody_covers_is_flagged_on_create(fw):
    # Store A2 is in Kamchatka, which neither P nor Q covers
    ticket = open_field_ticket(fw, store=fw.store_a2)
    assert (ticket.status, ticket.needs_attention) == ("new", True)
    assert ticket.attention_reason == (
        "No eligible partner left for RU-KAM: "
        "no operational partner covers Камчатский край (RU-KAM)."
    )


def test_a_visit_left_open_by_a_hand_made_unassignment_is_called_off(fw):
    ticket = open_field_ticket(fw)
    accept(fw, live_offer(ticket), at(10))
    first = Visit.objects.get(ticket=ticket)
    # Given the dispatcher takes the accepted job back by hand and offers it to Q
    with time_machine.travel(at(20), tick=False):
        services.ticket_transition(
            actor=fw.actor("dispatcher"), ticket_id=ticket.pk, to_status="new"
        )
        dispatch.offer_make(
            actor=fw.actor("dispatcher"), ticket_id=ticket.pk, partner_id=fw.partner_q.pk
        )
    # When Q accepts
    accept(fw, live_offer(ticket), at(25), engineer="engineer_q")
    # Then P's visit is called off and Q's is the one under way
    first.refresh_from_db()
    assert first.cancelled_at == at(25)
    assert Visit.objects.get(ticket=ticket, cancelled_at__isnull=True).partner_id == fw.partner_q.pk


def test_a_manual_client_gets_its_declined_job_back_for_the_dispatcher(manual):
    ticket = open_field_ticket(manual)
    with time_machine.travel(at(1), tick=False):
        offer = dispatch.offer_make(
            actor=manual.actor("dispatcher"), ticket_id=ticket.pk, partner_id=manual.partner_q.pk
        )
    with time_machine.travel(at(2), tick=False):
        dispatch.offer_decline(
            actor=manual.actor("partner_manager_q"), offer_id=offer.pk, reason="Занят"
        )
    ticket.refresh_from_db()
    assert live_offer(ticket) is None
    assert ticket.needs_attention
    assert ticket.attention_reason == "Partner Q declined: Занят. Offer the job by hand."


def test_withdraw_takes_the_offer_back(fw):
    ticket = open_field_ticket(fw)
    offer = live_offer(ticket)
    with time_machine.travel(at(5), tick=False):
        with pytest.raises(PermissionDenied):
            dispatch.offer_withdraw(
                actor=fw.actor("partner_manager_p"), offer_id=offer.pk, reason="x"
            )
        dispatch.offer_withdraw(actor=fw.actor("dispatcher"), offer_id=offer.pk, reason="Дубль")
    offer.refresh_from_db()
    ticket.refresh_from_db()
    assert (offer.status, offer.decline_reason, offer.ended_at) == ("withdrawn", "Дубль", at(5))
    # The dispatcher took it back: it stays with the dispatcher, not re-offered
    assert (ticket.status, ticket.partner_id, live_offer(ticket)) == ("new", None, None)
    withdrawn = TicketEvent.objects.get(ticket=ticket, kind="offer_withdrawn")
    assert (withdrawn.actor_id, withdrawn.is_internal) == (fw.users["dispatcher"].pk, True)
    # A withdrawn offer cannot be withdrawn again
    with pytest.raises(Conflict):
        dispatch.offer_withdraw(actor=fw.actor("dispatcher"), offer_id=offer.pk, reason="again")


def test_expire_is_idempotent_and_only_past_the_deadline(fw):
    ticket = open_field_ticket(fw)
    offer = live_offer(ticket)
    # Up to and at its deadline (07:30Z, like a clock's due instant) nothing happens
    assert dispatch.offer_expire(offer_id=offer.pk, now=at(29)) is None
    assert dispatch.offer_expire(offer_id=offer.pk, now=at(30)) is None
    # Past it, it expires (by the system) and Q gets the job
    with time_machine.travel(at(31), tick=False):
        assert dispatch.offer_expire(offer_id=offer.pk, now=at(31)).status == "expired"
        # A second call finds nothing to do
        assert dispatch.offer_expire(offer_id=offer.pk, now=at(31)) is None
    assert TicketEvent.objects.filter(ticket=ticket, kind="offer_expired").count() == 1
    expired = TicketEvent.objects.get(ticket=ticket, kind="offer_expired")
    assert (expired.actor_role, expired.is_internal) == ("system", True)
    assert live_offer(ticket).partner_id == fw.partner_q.pk


def test_a_partner_without_a_contract_in_force_is_never_offered(manual):
    manual.partner_q.contracts.update(is_active=False)
    ticket = open_field_ticket(manual)
    with pytest.raises(ValidationFailed) as refused:
        dispatch.offer_make(
            actor=manual.actor("dispatcher"), ticket_id=ticket.pk, partner_id=manual.partner_q.pk
        )
    assert refused.value.fields["partner"] == ["no contract in force"]


def test_an_offer_without_an_ola_clock_takes_its_deadline_from_the_contract(manual):
    # Given a P4 ticket: client A has no P4 policy and P's contract no calendar, so no OLA
    # clock can count; the offer still gets a deadline: 30 min after it is made
    ticket = open_field_ticket(manual, priority="p4")
    with time_machine.travel(at(2), tick=False):
        offer = dispatch.offer_make(
            actor=manual.actor("dispatcher"), ticket_id=ticket.pk, partner_id=manual.partner_p.pk
        )
    assert not SlaClock.objects.filter(ticket=ticket, agreement="ola").exists()
    assert offer.deadline == at(2) + timedelta(minutes=30)


def test_partner_managers_hear_of_an_offer_and_of_its_end(fw):
    # When a field ticket is auto-offered to P at T0
    ticket = open_field_ticket(fw)
    offer = live_offer(ticket)
    # Then P's manager (not its engineers, not Q) has one urgent notification saying until when
    made = Notification.objects.filter(ticket_id=ticket.pk, kind="offer_made")
    assert list(made.values_list("recipient__username", "urgent")) == [("partner_manager_p", True)]
    assert "10:30" in made.get().body  # the deadline, 07:30Z, in the Moscow store's time
    # And when the offer expires, P's manager hears the job is no longer offered to it
    with time_machine.travel(at(31), tick=False):
        dispatch.offer_expire(offer_id=offer.pk, now=at(31))
        dispatch.offer_expire(offer_id=offer.pk, now=at(31))
    ended = Notification.objects.filter(ticket_id=ticket.pk, kind="offer_expired")
    assert list(ended.values_list("recipient__username", flat=True)) == ["partner_manager_p"]
    # while Q's manager now has the new offer
    assert (
        Notification.objects.filter(
            ticket_id=ticket.pk, kind="offer_made", recipient__username="partner_manager_q"
        ).count()
        == 1
    )
