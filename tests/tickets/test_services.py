"""Ticket lifecycle services: create, transition, assign, comment, priority.

Every refusal is checked to write nothing; every change to leave its event and bump the
version by exactly one.
"""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client, Equipment
from servicedesk.exceptions import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from tests.factories import CompetencyFactory, PartnerFactory
from tickets import services
from tickets.constants import ALLOWED_TRANSITIONS
from tickets.models import Comment, Ticket, TicketEvent

STATUSES = [
    "new",
    "assigned",
    "accepted",
    "en_route",
    "on_site",
    "waiting_client",
    "resolved",
    "closed",
    "cancelled",
]


def _snapshot() -> dict:
    """What a refused call must leave untouched."""
    return {
        "tickets": sorted(
            Ticket.objects.values_list(
                "pk",
                "version",
                "status",
                "priority",
                "partner_id",
                "engineer_id",
                "first_response_at",
                "resolved_at",
            )
        ),
        "events": TicketEvent.objects.count(),
        "comments": Comment.objects.count(),
        "sequences": sorted(Client.objects.values_list("pk", "ticket_sequence")),
    }


def _put_in_status(ticket: Ticket, status: str, before_wait: str = "") -> Ticket:
    """Test setup: place the ticket in ``status`` directly, as if it got there earlier."""
    Ticket.objects.filter(pk=ticket.pk).update(status=status, status_before_wait=before_wait)
    ticket.refresh_from_db()
    return ticket


def _events_after(ticket: Ticket, last_event_id: int) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, pk__gt=last_event_id).order_by("id"))


def _last_event_id() -> int:
    return TicketEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- create ----------------------------------------------------------------------------------


def test_numbers_continue_per_client_and_clients_are_independent(world):
    # Given client A with tickets 1 and 2 and client B with ticket 1 (the world's)
    dispatcher = world.actor("dispatcher")
    assert sorted(Ticket.objects.values_list("client__code", "number")) == [
        ("AAA", 1),
        ("AAA", 2),
        ("BBB", 1),
    ]
    # When tickets are opened in both clients, interleaved
    a3 = services.ticket_create(actor=dispatcher, store_id=world.store_a1.pk, subject="x")
    b2 = services.ticket_create(actor=dispatcher, store_id=world.store_b1.pk, subject="y")
    a4 = services.ticket_create(actor=dispatcher, store_id=world.store_a2.pk, subject="z")
    # Then each client's sequence continues on its own
    assert [a3.reference, b2.reference, a4.reference] == ["AAA-000003", "BBB-000002", "AAA-000004"]
    assert dict(Client.objects.values_list("code", "ticket_sequence")) == {"AAA": 4, "BBB": 2}


def test_create_records_the_ticket_and_its_created_event(world):
    # Given a client manager
    manager = world.actor("client_manager_a")
    equipment = Equipment.objects.get(store=world.store_a2)
    # When it opens a ticket at one of its stores
    ticket = services.ticket_create(
        actor=manager,
        store_id=world.store_a2.pk,
        subject="  Касса не печатает чек  ",
        description="ошибка 231",
        priority="p2",
        category="fiscal",
        needs_visit=True,
        equipment_id=equipment.pk,
        external_id="ERP-1",
    )
    # Then the ticket belongs to the store's client, new, version 1, with what was given
    ticket.refresh_from_db()
    assert ticket.client_id == world.client_a.pk
    assert (ticket.status, ticket.version, ticket.priority, ticket.category) == (
        "new",
        1,
        "p2",
        "fiscal",
    )
    assert ticket.subject == "Касса не печатает чек"
    assert ticket.equipment_id == equipment.pk
    assert ticket.created_by_id == world.users["client_manager_a"].pk
    assert ticket.external_id == "ERP-1"
    # And one `created` event by the client manager
    (event,) = TicketEvent.objects.filter(ticket=ticket)
    assert event.kind == "created"
    assert event.actor_id == world.users["client_manager_a"].pk
    assert event.actor_role == "client_manager"
    assert event.data == {"status": "new", "priority": "p2", "needs_visit": True}
    assert event.created_at == ticket.created_at


def test_store_staff_creates_at_its_listed_store(world):
    ticket = services.ticket_create(
        actor=world.actor("store_staff_a1"), store_id=world.store_a1.pk, subject="Весы"
    )
    assert ticket.reference == "AAA-000003"


def _bad_create_cases():
    """(name, actor role, kwargs builder, field named in the error)."""
    return [
        ("unknown store", "dispatcher", lambda w: {"store_id": 987654321}, "store"),
        (
            "foreign client's store",
            "client_manager_a",
            lambda w: {"store_id": w.store_b1.pk},
            "store",
        ),
        ("unlisted store", "store_staff_a1", lambda w: {"store_id": w.store_a2.pk}, "store"),
        (
            "equipment of another store",
            "dispatcher",
            lambda w: {
                "store_id": w.store_a1.pk,
                "equipment_id": Equipment.objects.get(store=w.store_a2).pk,
            },
            "equipment",
        ),
        (
            "empty subject",
            "dispatcher",
            lambda w: {"store_id": w.store_a1.pk, "subject": ""},
            "subject",
        ),
        (
            "blank subject",
            "client_manager_a",
            lambda w: {"store_id": w.store_a1.pk, "subject": " \n\t "},
            "subject",
        ),
        (
            "bad priority",
            "dispatcher",
            lambda w: {"store_id": w.store_a1.pk, "priority": "p9"},
            "priority",
        ),
        (
            "bad category",
            "dispatcher",
            lambda w: {"store_id": w.store_a1.pk, "category": "plumbing"},
            "category",
        ),
        ("bad kind", "dispatcher", lambda w: {"store_id": w.store_a1.pk, "kind": "wish"}, "kind"),
        (
            "unknown competency",
            "dispatcher",
            lambda w: {"store_id": w.store_a1.pk, "competency_id": 987654321},
            "competency",
        ),
        (
            "duplicate external id",
            "dispatcher",
            lambda w: {"store_id": w.store_a2.pk, "external_id": "ERP-7"},
            "external_id",
        ),
    ]


@pytest.mark.parametrize(
    ("role", "build", "field"),
    [case[1:] for case in _bad_create_cases()],
    ids=[case[0] for case in _bad_create_cases()],
)
def test_bad_create_names_the_field_and_writes_nothing(world, role, build, field):
    # Given an existing ticket with external id ERP-7 in client A, and a bad request
    services.ticket_create(
        actor=world.actor("dispatcher"),
        store_id=world.store_a1.pk,
        subject="first",
        external_id="ERP-7",
    )
    kwargs = {"subject": "Касса", **build(world)}
    before = _snapshot()
    # When the ticket is opened
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationFailed) as exc:
        services.ticket_create(actor=world.actor(role), **kwargs)
    # Then the error names the field
    assert field in exc.value.fields
    assert exc.value.fields[field] and all(exc.value.fields[field])
    # And nothing was written: no ticket, no event, no number taken (the sequence is not even
    # touched before validation passes)
    assert _snapshot() == before
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]
    assert writes == []


def test_closed_store_takes_no_tickets(world):
    world.store_a1.is_active = False
    world.store_a1.save(update_fields=["is_active"])
    before = _snapshot()
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_create(
            actor=world.actor("dispatcher"), store_id=world.store_a1.pk, subject="x"
        )
    assert "store" in exc.value.fields
    assert _snapshot() == before


@pytest.mark.parametrize("role", ["partner_manager_p", "engineer_p", "partner_manager_q"])
def test_partner_cannot_create(world, role):
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        services.ticket_create(actor=world.actor(role), store_id=world.store_a1.pk, subject="x")
    assert _snapshot() == before


# --- the state machine ----------------------------------------------------------------------

ALL_PAIRS = list(itertools.product(STATUSES, STATUSES))


def test_status_list_matches_the_state_machine():
    assert sorted(ALLOWED_TRANSITIONS) == sorted(STATUSES)


@pytest.mark.parametrize(
    ("from_status", "to_status"), ALL_PAIRS, ids=[f"{a}-{b}" for a, b in ALL_PAIRS]
)
def test_every_status_pair_is_accepted_or_refused_by_the_table(world, from_status, to_status):
    # Given ticket A1 (partner P and engineer P on it) in ``from_status``
    dispatcher = world.actor("dispatcher")
    before_wait = "assigned" if from_status == "waiting_client" else ""
    ticket = _put_in_status(world.tickets["a1"], from_status, before_wait)
    had_partner = ticket.partner_id is not None
    version = ticket.version
    last_event = _last_event_id()
    before = _snapshot()

    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        # When a move outside the table is asked, then it is refused and nothing changes
        with pytest.raises(InvalidTransition):
            services.ticket_transition(
                actor=dispatcher, ticket_id=ticket.pk, to_status=to_status, note="try"
            )
        assert _snapshot() == before
        return

    # When an allowed move is made by provider staff
    moved = services.ticket_transition(
        actor=dispatcher, ticket_id=ticket.pk, to_status=to_status, note=" why "
    )
    # Then the status changes and the version goes up by exactly one
    moved.refresh_from_db()
    assert moved.status == to_status
    assert moved.version == version + 1
    # And exactly one status event is written, plus `unassigned` when the partner was taken off
    events = _events_after(ticket, last_event)
    status_kind = (
        "reopened" if (from_status, to_status) == ("resolved", "new") else "status_changed"
    )
    assert events[0].kind == status_kind
    assert events[0].data == {"from": from_status, "to": to_status, "note": "why"}
    assert events[0].actor_id == world.users["dispatcher"].pk
    partner_removed = had_partner and moved.partner_id is None
    expected_kinds = [status_kind] + (["unassigned"] if partner_removed else [])
    assert [e.kind for e in events] == expected_kinds
    if partner_removed:
        assert events[1].data == {"partner_id": world.partner_p.pk, "partner": "Partner P"}
        assert moved.engineer_id is None
    if to_status == "resolved":
        assert moved.resolved_at == events[0].created_at
    if to_status == "closed":
        assert moved.closed_at == events[0].created_at


def test_unknown_status_is_a_field_error(world):
    before = _snapshot()
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_transition(
            actor=world.actor("dispatcher"), ticket_id=world.tickets["a2"].pk, to_status="done"
        )
    assert "status" in exc.value.fields
    assert _snapshot() == before


def test_leaving_waiting_client_for_new_with_a_partner_records_the_unassignment(world):
    # Given A1 (partner P) put on hold by the dispatcher from `assigned`
    dispatcher = world.actor("dispatcher")
    a1 = world.tickets["a1"]
    services.ticket_transition(actor=dispatcher, ticket_id=a1.pk, to_status="waiting_client")
    last_event = _last_event_id()
    # When the dispatcher sends it back to `new`
    moved = services.ticket_transition(actor=dispatcher, ticket_id=a1.pk, to_status="new")
    # Then the partner is off the job, and the timeline says so
    assert moved.partner_id is None and moved.engineer_id is None
    assert [e.kind for e in _events_after(a1, last_event)] == ["status_changed", "unassigned"]


def test_resolve_then_reopen_clears_resolved_at_and_writes_reopened(world):
    # Given A2 resolved by the dispatcher
    dispatcher = world.actor("dispatcher")
    a2 = world.tickets["a2"]
    resolved = services.ticket_transition(actor=dispatcher, ticket_id=a2.pk, to_status="resolved")
    assert resolved.resolved_at is not None
    # When the client reopens it
    reopened = services.ticket_transition(
        actor=world.actor("client_manager_a"), ticket_id=a2.pk, to_status="new"
    )
    # Then resolved_at is cleared and the timeline says `reopened`
    reopened.refresh_from_db()
    assert reopened.status == "new"
    assert reopened.resolved_at is None
    last = TicketEvent.objects.filter(ticket=a2).latest("id")
    assert (last.kind, last.data, last.actor_role) == (
        "reopened",
        {"from": "resolved", "to": "new"},
        "client_manager",
    )
    assert reopened.version == a2.version + 2


def test_client_confirms_a_resolution(world):
    a2 = world.tickets["a2"]
    services.ticket_transition(
        actor=world.actor("dispatcher"), ticket_id=a2.pk, to_status="resolved"
    )
    closed = services.ticket_transition(
        actor=world.actor("client_manager_a"),
        ticket_id=a2.pk,
        to_status="closed",
    )
    closed.refresh_from_db()
    assert closed.status == "closed" and closed.closed_at is not None


def test_stale_expected_version_is_a_conflict_and_writes_nothing(world):
    a1 = world.tickets["a1"]
    before = _snapshot()
    with pytest.raises(Conflict) as exc:
        services.ticket_transition(
            actor=world.actor("dispatcher"),
            ticket_id=a1.pk,
            to_status="accepted",
            expected_version=a1.version - 1,
        )
    assert exc.value.code == "stale_version"
    assert _snapshot() == before
    moved = services.ticket_transition(
        actor=world.actor("dispatcher"),
        ticket_id=a1.pk,
        to_status="accepted",
        expected_version=a1.version,
    )
    assert moved.version == a1.version + 1


# --- waiting for the client ------------------------------------------------------------------


@pytest.mark.parametrize("client_role", ["client_manager_a", "store_staff_a1"])
def test_client_may_only_answer_back_to_the_status_before_the_wait(world, client_role):
    # Given A1 (assigned to partner P) put on hold for the client by the dispatcher
    a1 = world.tickets["a1"]
    waiting = services.ticket_transition(
        actor=world.actor("dispatcher"), ticket_id=a1.pk, to_status="waiting_client"
    )
    assert waiting.status_before_wait == "assigned"
    client = world.actor(client_role)
    before = _snapshot()
    # When the client tries to move it anywhere else, then it is forbidden and nothing changes
    for elsewhere in ("new", "accepted", "resolved", "cancelled"):
        with pytest.raises(PermissionDenied):
            services.ticket_transition(actor=client, ticket_id=a1.pk, to_status=elsewhere)
    assert _snapshot() == before
    # When it answers, then the ticket returns to `assigned`, still with partner P
    back = services.ticket_transition(actor=client, ticket_id=a1.pk, to_status="assigned")
    back.refresh_from_db()
    assert back.status == "assigned"
    assert back.partner_id == world.partner_p.pk
    assert back.version == waiting.version + 1


def test_client_answer_returns_a_new_ticket_to_new(world):
    a2 = world.tickets["a2"]
    waiting = services.ticket_transition(
        actor=world.actor("dispatcher"), ticket_id=a2.pk, to_status="waiting_client"
    )
    assert waiting.status_before_wait == "new"
    manager = world.actor("client_manager_a")
    with pytest.raises(PermissionDenied):
        services.ticket_transition(actor=manager, ticket_id=a2.pk, to_status="assigned")
    back = services.ticket_transition(actor=manager, ticket_id=a2.pk, to_status="new")
    assert back.status == "new"


@pytest.mark.parametrize("role", ["partner_manager_p", "engineer_p"])
def test_partner_cannot_answer_for_the_client(world, role):
    a1 = world.tickets["a1"]
    services.ticket_transition(
        actor=world.actor("dispatcher"), ticket_id=a1.pk, to_status="waiting_client"
    )
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        services.ticket_transition(actor=world.actor(role), ticket_id=a1.pk, to_status="assigned")
    assert _snapshot() == before


# --- role moves ------------------------------------------------------------------------------


def test_partner_field_moves_follow_the_job(world):
    # Given A1 assigned to partner P with engineer P
    a1 = world.tickets["a1"]
    manager, engineer = world.actor("partner_manager_p"), world.actor("engineer_p")
    # Then the engineer cannot accept the job; its manager can
    with pytest.raises(PermissionDenied):
        services.ticket_transition(actor=engineer, ticket_id=a1.pk, to_status="accepted")
    services.ticket_transition(actor=manager, ticket_id=a1.pk, to_status="accepted")
    # And the engineer drives, arrives and resolves
    for status in ("en_route", "on_site", "resolved"):
        moved = services.ticket_transition(actor=engineer, ticket_id=a1.pk, to_status=status)
        assert moved.status == status
    # But closing is the client's (or the provider's) call
    with pytest.raises(PermissionDenied):
        services.ticket_transition(actor=manager, ticket_id=a1.pk, to_status="closed")
    assert [
        e.data["to"]
        for e in TicketEvent.objects.filter(ticket=a1, kind="status_changed").order_by("id")
    ] == ["accepted", "en_route", "on_site", "resolved"]


def test_partner_manager_hands_a_job_back(world):
    a1 = world.tickets["a1"]
    moved = services.ticket_transition(
        actor=world.actor("partner_manager_p"), ticket_id=a1.pk, to_status="new"
    )
    assert (moved.status, moved.partner_id, moved.engineer_id) == ("new", None, None)
    kinds = list(
        TicketEvent.objects.filter(ticket=a1).order_by("-id").values_list("kind", flat=True)
    )
    assert kinds[:2] == ["unassigned", "status_changed"]
    # And once handed back, the job is no longer partner P's to see
    with pytest.raises(NotFound):
        services.ticket_comment(actor=world.actor("partner_manager_p"), ticket_id=a1.pk, body="x")


# --- assign ----------------------------------------------------------------------------------


def test_dispatcher_assigns_partner_and_engineer(world):
    # Given the unassigned ticket A2
    a2 = world.tickets["a2"]
    engineer = world.users["engineer_p"]
    # When the dispatcher gives it to partner P and engineer P
    ticket = services.ticket_assign(
        actor=world.actor("dispatcher"),
        ticket_id=a2.pk,
        partner_id=world.partner_p.pk,
        engineer_id=engineer.pk,
    )
    # Then partner, engineer and status are set and the version goes up by one
    ticket.refresh_from_db()
    assert (ticket.partner_id, ticket.engineer_id, ticket.status) == (
        world.partner_p.pk,
        engineer.pk,
        "assigned",
    )
    assert ticket.version == a2.version + 1
    # And one `assigned` event says to whom
    (event,) = TicketEvent.objects.filter(ticket=a2, kind="assigned")
    assert event.data == {
        "partner_id": world.partner_p.pk,
        "partner": "Partner P",
        "engineer_id": engineer.pk,
        "engineer": str(engineer),
    }
    assert TicketEvent.objects.filter(ticket=a2).count() == 2


def test_reassigning_an_accepted_job_to_another_partner_starts_over(world):
    a1 = _put_in_status(world.tickets["a1"], "accepted")
    ticket = services.ticket_assign(
        actor=world.actor("dispatcher"), ticket_id=a1.pk, partner_id=world.partner_q.pk
    )
    assert (ticket.partner_id, ticket.engineer_id, ticket.status) == (
        world.partner_q.pk,
        None,
        "assigned",
    )


def test_assigning_a_reopened_ticket_to_its_partner_again_makes_it_assigned(world):
    # Given A1 (partner P) resolved and then reopened by the client: `new`, partner P kept
    dispatcher = world.actor("dispatcher")
    a1 = world.tickets["a1"]
    services.ticket_transition(actor=dispatcher, ticket_id=a1.pk, to_status="resolved")
    reopened = services.ticket_transition(
        actor=world.actor("client_manager_a"), ticket_id=a1.pk, to_status="new"
    )
    assert (reopened.status, reopened.partner_id) == ("new", world.partner_p.pk)
    # When the dispatcher sends it back to partner P
    ticket = services.ticket_assign(
        actor=dispatcher,
        ticket_id=a1.pk,
        partner_id=world.partner_p.pk,
        engineer_id=world.users["engineer_p"].pk,
    )
    # Then it is assigned again, waiting for P to accept
    ticket.refresh_from_db()
    assert (ticket.status, ticket.partner_id) == ("assigned", world.partner_p.pk)


def test_assigning_while_waiting_for_the_client_keeps_waiting(world):
    a2 = _put_in_status(world.tickets["a2"], "waiting_client", "new")
    ticket = services.ticket_assign(
        actor=world.actor("dispatcher"), ticket_id=a2.pk, partner_id=world.partner_p.pk
    )
    assert (ticket.partner_id, ticket.status) == (world.partner_p.pk, "waiting_client")


@pytest.mark.parametrize("engineer", ["engineer_q", "client_manager_a", "dispatcher"])
def test_engineer_must_work_for_the_partner(world, engineer):
    before = _snapshot()
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_assign(
            actor=world.actor("dispatcher"),
            ticket_id=world.tickets["a2"].pk,
            partner_id=world.partner_p.pk,
            engineer_id=world.users[engineer].pk,
        )
    assert "engineer" in exc.value.fields
    assert _snapshot() == before


def test_unknown_or_inactive_partner_is_a_field_error(world):
    inactive = PartnerFactory(is_active=False)
    for partner_id in (987654321, inactive.pk):
        before = _snapshot()
        with pytest.raises(ValidationFailed) as exc:
            services.ticket_assign(
                actor=world.actor("dispatcher"),
                ticket_id=world.tickets["a2"].pk,
                partner_id=partner_id,
            )
        assert "partner" in exc.value.fields
        assert _snapshot() == before


@pytest.mark.parametrize("status", ["on_site", "resolved", "closed", "cancelled"])
def test_a_ticket_past_dispatch_cannot_be_assigned(world, status):
    a1 = _put_in_status(world.tickets["a1"], status)
    before = _snapshot()
    with pytest.raises(InvalidTransition):
        services.ticket_assign(
            actor=world.actor("dispatcher"), ticket_id=a1.pk, partner_id=world.partner_q.pk
        )
    assert _snapshot() == before


def test_partner_manager_names_its_own_engineer_on_its_own_job(world):
    # Given A1, partner P's job with engineer P
    a1 = world.tickets["a1"]
    # When partner P's manager names engineer P2
    ticket = services.ticket_assign(
        actor=world.actor("partner_manager_p"),
        ticket_id=a1.pk,
        partner_id=world.partner_p.pk,
        engineer_id=world.users["engineer_p2"].pk,
    )
    # Then the engineer changes, the job stays assigned to P, and the event is written
    ticket.refresh_from_db()
    assert (ticket.partner_id, ticket.engineer_id, ticket.status) == (
        world.partner_p.pk,
        world.users["engineer_p2"].pk,
        "assigned",
    )
    assert ticket.version == a1.version + 1
    last = TicketEvent.objects.filter(ticket=a1).latest("id")
    assert (last.kind, last.actor_role, last.data["engineer_id"]) == (
        "assigned",
        "partner_manager",
        world.users["engineer_p2"].pk,
    )


def test_partner_manager_cannot_give_its_job_to_another_partner(world):
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        services.ticket_assign(
            actor=world.actor("partner_manager_p"),
            ticket_id=world.tickets["a1"].pk,
            partner_id=world.partner_q.pk,
            engineer_id=world.users["engineer_q"].pk,
        )
    assert _snapshot() == before


def test_partner_manager_cannot_take_a_job_it_does_not_hold(world):
    # A2 is unassigned: partner P does not see it at all
    before = _snapshot()
    with pytest.raises(NotFound):
        services.ticket_assign(
            actor=world.actor("partner_manager_p"),
            ticket_id=world.tickets["a2"].pk,
            partner_id=world.partner_p.pk,
        )
    assert _snapshot() == before


@pytest.mark.parametrize("role", ["client_manager_a", "store_staff_a1", "engineer_p"])
def test_only_dispatchers_and_partner_managers_assign(world, role):
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        services.ticket_assign(
            actor=world.actor(role),
            ticket_id=world.tickets["a1"].pk,
            partner_id=world.partner_p.pk,
            engineer_id=world.users["engineer_p"].pk,
        )
    assert _snapshot() == before


# --- comments --------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "   ", "\n\t"])
def test_empty_comment_is_refused(world, body):
    before = _snapshot()
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_comment(
            actor=world.actor("dispatcher"), ticket_id=world.tickets["a2"].pk, body=body
        )
    assert "body" in exc.value.fields
    assert _snapshot() == before


@pytest.mark.parametrize(
    "role", ["client_manager_a", "store_staff_a1", "partner_manager_p", "engineer_p"]
)
def test_only_provider_staff_write_internal_notes(world, role):
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        services.ticket_comment(
            actor=world.actor(role), ticket_id=world.tickets["a1"].pk, body="x", is_internal=True
        )
    assert _snapshot() == before


def test_comment_is_stored_with_its_event(world):
    a2 = world.tickets["a2"]
    comment = services.ticket_comment(
        actor=world.actor("client_manager_a"), ticket_id=a2.pk, body="  Когда приедете?  "
    )
    assert (comment.body, comment.is_internal, comment.author_role) == (
        "Когда приедете?",
        False,
        "client_manager",
    )
    last = TicketEvent.objects.filter(ticket=a2).latest("id")
    assert (last.kind, last.data, last.is_internal) == (
        "commented",
        {"comment_id": comment.pk},
        False,
    )
    # And the ticket itself was not edited, so nobody's open form goes stale
    a2_after = Ticket.objects.get(pk=a2.pk)
    assert a2_after.version == a2.version


def test_internal_note_event_is_internal(world):
    a2 = world.tickets["a2"]
    comment = services.ticket_comment(
        actor=world.actor("dispatcher"), ticket_id=a2.pk, body="call them", is_internal=True
    )
    last = TicketEvent.objects.filter(ticket=a2).latest("id")
    assert (last.kind, last.is_internal, comment.is_internal) == ("commented", True, True)


def test_first_public_staff_reply_is_the_first_response(world):
    # Given A2 with no replies yet
    a2 = world.tickets["a2"]
    assert a2.first_response_at is None
    # When the client writes, and the dispatcher writes an internal note
    services.ticket_comment(actor=world.actor("client_manager_a"), ticket_id=a2.pk, body="?")
    services.ticket_comment(
        actor=world.actor("dispatcher"), ticket_id=a2.pk, body="n", is_internal=True
    )
    # Then there is still no first response
    assert Ticket.objects.get(pk=a2.pk).first_response_at is None
    # When the dispatcher answers publicly, twice
    first = services.ticket_comment(actor=world.actor("dispatcher"), ticket_id=a2.pk, body="Едем")
    services.ticket_comment(actor=world.actor("dispatcher"), ticket_id=a2.pk, body="Ещё")
    # Then the first public answer is the first response, and it does not move after
    assert Ticket.objects.get(pk=a2.pk).first_response_at == first.created_at


def test_partner_reply_is_a_first_response(world):
    b1 = world.tickets["b1"]
    assert b1.first_response_at is None
    reply = services.ticket_comment(actor=world.actor("engineer_q"), ticket_id=b1.pk, body="OK")
    assert Ticket.objects.get(pk=b1.pk).first_response_at == reply.created_at


# --- priority --------------------------------------------------------------------------------


def test_provider_changes_priority_with_an_event(world):
    a2 = world.tickets["a2"]
    assert a2.priority == "p3"
    ticket = services.ticket_reclassify(
        actor=world.actor("dispatcher"), ticket_id=a2.pk, priority="p1", expected_version=a2.version
    )
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.version) == ("p1", a2.version + 1)
    last = TicketEvent.objects.filter(ticket=a2).latest("id")
    assert (last.kind, last.data) == ("priority_changed", {"from": "p3", "to": "p1"})


def test_same_priority_changes_nothing(world):
    a2 = world.tickets["a2"]
    before = _snapshot()
    services.ticket_reclassify(actor=world.actor("dispatcher"), ticket_id=a2.pk, priority="p3")
    assert _snapshot() == before


@pytest.mark.parametrize(
    "role", ["client_manager_a", "store_staff_a1", "partner_manager_p", "engineer_p"]
)
def test_only_provider_changes_priority(world, role):
    before = _snapshot()
    with pytest.raises(PermissionDenied):
        services.ticket_reclassify(
            actor=world.actor(role), ticket_id=world.tickets["a1"].pk, priority="p1"
        )
    assert _snapshot() == before


def test_bad_priority_is_a_field_error(world):
    before = _snapshot()
    with pytest.raises(ValidationFailed) as exc:
        services.ticket_reclassify(
            actor=world.actor("dispatcher"), ticket_id=world.tickets["a1"].pk, priority="urgent"
        )
    assert "priority" in exc.value.fields
    assert _snapshot() == before


def test_competency_is_kept_on_create(world):
    competency = CompetencyFactory(code="cctv", name="CCTV", equipment_kind="cctv")
    ticket = services.ticket_create(
        actor=world.actor("dispatcher"),
        store_id=world.store_a1.pk,
        subject="камера",
        competency_id=competency.pk,
    )
    assert Ticket.objects.get(pk=ticket.pk).competency_id == competency.pk


def test_a_job_nobody_holds_cannot_be_accepted_or_worked_on(world):
    # Given an unassigned ticket waiting for the client
    a2 = world.tickets["a2"]
    dispatcher = world.actor("dispatcher")
    services.ticket_transition(actor=dispatcher, ticket_id=a2.pk, to_status="waiting_client")
    before = _snapshot()
    # When the dispatcher tries to resume it as accepted, en route or on site
    for status in ("accepted", "en_route", "on_site", "assigned"):
        with pytest.raises(InvalidTransition, match="assign a partner first"):
            services.ticket_transition(actor=dispatcher, ticket_id=a2.pk, to_status=status)
    # Then nothing was written
    assert _snapshot() == before
