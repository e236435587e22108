"""The isolation matrix: every role × every object kind × own / foreign, at the selector level.

The expectation table below is data: for each actor of the ``world`` fixture, the exact keys
of every object kind it may see. A selector that drops its scope makes a role see more than
its row says (``test_matrix_catches_a_dropped_scope`` proves the checks are not vacuous).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from clients.models import Client, Equipment, Store, StoreStaffAssignment
from clients.querysets import ClientQuerySet, StoreQuerySet
from clients.selectors import client_list, equipment_list, store_get, store_list
from partners.models import Certification, Coverage, Partner, PartnerContract
from partners.querysets import PartnerOwnedQuerySet, PartnerQuerySet
from partners.selectors import (
    certification_list,
    contract_list,
    coverage_list,
    partner_get,
    partner_list,
)
from servicedesk.actors import Actor, resolve_actor
from servicedesk.exceptions import NotFound, PermissionDenied
from tickets import querysets as ticket_querysets
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.models import Attachment, Comment, Offer, Ticket, TicketEvent, Visit

NOW = timezone.now()
ROLES = [
    "provider_admin",
    "dispatcher",
    "client_manager_a",
    "store_staff_a1",
    "client_manager_b",
    "store_staff_b1",
    "partner_manager_p",
    "engineer_p",
    "engineer_p2",
    "partner_manager_q",
    "engineer_q",
    "nobody",
]
KINDS = [
    "tickets",
    "events",
    "comments",
    "attachments",
    "offers",
    "visits",
    "stores",
    "equipment",
    "clients",
    "partners",
    "coverages",
    "certifications",
    "contracts",
]

# --- the expectation table -------------------------------------------------------------------

A1_EVENTS = {"a1:created", "a1:assigned", "a1:commented"}
A2_EVENTS = {"a2:created"}
B1_EVENTS = {"b1:created", "b1:assigned"}
INTERNAL_EVENTS = {"a1:commented:internal"}


def _row(**kinds: set[str]) -> dict[str, set[str]]:
    unknown = set(kinds) - set(KINDS)
    assert not unknown, unknown
    return {kind: set(kinds.get(kind, set())) for kind in KINDS}


_PROVIDER = _row(
    tickets={"a1", "a2", "b1"},
    events=A1_EVENTS | A2_EVENTS | B1_EVENTS | INTERNAL_EVENTS,
    comments={"a1:public", "a1:internal", "b1:public"},
    attachments={"a1:photo", "a1:internal", "a2:photo", "b1:photo"},
    offers={"a1:P:accepted", "a1:Q:declined", "b1:Q:accepted"},
    visits={"a1:P", "b1:Q"},
    stores={"A1", "A2", "B1"},
    equipment={"A1", "A2", "B1"},
    clients={"A", "B"},
    partners={"P", "Q"},
    coverages={"P", "Q"},
    certifications={"P", "Q"},
    contracts={"P", "Q"},
)
_CLIENT_A_STORE_A1 = dict(
    tickets={"a1"},
    events=A1_EVENTS,
    comments={"a1:public"},
    attachments={"a1:photo"},
    # A client sees every offer made for its tickets, declined ones included.
    offers={"a1:P:accepted", "a1:Q:declined"},
    visits={"a1:P"},
    stores={"A1"},
    equipment={"A1"},
    clients={"A"},
    partners={"P"},
)
_CLIENT_B = dict(
    tickets={"b1"},
    events=B1_EVENTS,
    comments={"b1:public"},
    attachments={"b1:photo"},
    offers={"b1:Q:accepted"},
    visits={"b1:Q"},
    stores={"B1"},
    equipment={"B1"},
    clients={"B"},
    partners={"Q"},
)
_ENGINEER_P = dict(
    tickets={"a1"},
    events=A1_EVENTS,
    comments={"a1:public"},
    attachments={"a1:photo"},
    offers={"a1:P:accepted"},
    visits={"a1:P"},
    stores={"A1"},
    equipment={"A1"},
    clients={"A"},
    partners={"P"},
)
_PARTNER_OWN_P = dict(coverages={"P"}, certifications={"P"}, contracts={"P"})
_PARTNER_OWN_Q = dict(coverages={"Q"}, certifications={"Q"}, contracts={"Q"})

EXPECTED: dict[str, dict[str, set[str]]] = {
    "provider_admin": _PROVIDER,
    "dispatcher": _PROVIDER,
    "client_manager_a": _row(
        tickets={"a1", "a2"},
        events=A1_EVENTS | A2_EVENTS,
        comments={"a1:public"},
        attachments={"a1:photo", "a2:photo"},
        offers={"a1:P:accepted", "a1:Q:declined"},
        visits={"a1:P"},
        stores={"A1", "A2"},
        equipment={"A1", "A2"},
        clients={"A"},
        partners={"P"},
    ),
    "store_staff_a1": _row(**_CLIENT_A_STORE_A1),
    "client_manager_b": _row(**_CLIENT_B),
    "store_staff_b1": _row(**_CLIENT_B),
    "partner_manager_p": _row(**_ENGINEER_P, **_PARTNER_OWN_P),
    "engineer_p": _row(**_ENGINEER_P),
    # Same partner as engineer_p but no job of its own: only its own organisation.
    "engineer_p2": _row(partners={"P"}),
    "partner_manager_q": _row(
        tickets={"b1"},
        events=B1_EVENTS,
        comments={"b1:public"},
        attachments={"b1:photo"},
        offers={"b1:Q:accepted"},
        visits={"b1:Q"},
        stores={"B1"},
        equipment={"B1"},
        clients={"B"},
        partners={"Q"},
        **_PARTNER_OWN_Q,
    ),
    "engineer_q": _row(
        tickets={"b1"},
        events=B1_EVENTS,
        comments={"b1:public"},
        attachments={"b1:photo"},
        offers={"b1:Q:accepted"},
        visits={"b1:Q"},
        stores={"B1"},
        equipment={"B1"},
        clients={"B"},
        partners={"Q"},
    ),
    "nobody": _row(),
}


# --- the matrix world: the shared ``world`` plus offers, visits, attachments ----------------


@dataclass
class Matrix:
    world: object
    # kind -> {pk: key}
    keys: dict[str, dict[int, str]] = field(default_factory=dict)

    def actor(self, role: str) -> Actor | None:
        return resolve_actor(self.world.users[role])

    def ticket(self, key: str) -> Ticket:
        return self.world.tickets[key]


def _attachment(ticket: Ticket, user, name: str, *, internal: bool = False) -> Attachment:
    # A bare row: the selector question does not need a file on disk.
    return Attachment.objects.create(
        ticket=ticket,
        uploaded_by=user,
        file=f"attachments/test/{name}",
        original_name=name,
        content_type="image/png",
        size=10,
        sha256="0" * 64,
        is_internal=internal,
    )


def _offer(ticket: Ticket, partner: Partner, status: str) -> Offer:
    return Offer.objects.create(
        ticket=ticket,
        partner=partner,
        status=status,
        offered_at=NOW - dt.timedelta(hours=1),
        deadline=NOW + dt.timedelta(hours=1),
    )


@pytest.fixture
def matrix(world) -> Matrix:
    w = world
    a1, a2, b1 = w.tickets["a1"], w.tickets["a2"], w.tickets["b1"]
    p, q = w.partner_p, w.partner_q
    Comment.objects.create(ticket=b1, author=w.users["client_manager_b"], body="B1 public")
    _attachment(a1, w.users["dispatcher"], "a1-photo.png")
    _attachment(a1, w.users["dispatcher"], "a1-internal.png", internal=True)
    _attachment(a2, w.users["client_manager_a"], "a2-photo.png")
    _attachment(b1, w.users["client_manager_b"], "b1-photo.png")
    _offer(a1, q, "declined")
    _offer(a1, p, "accepted")
    _offer(b1, q, "accepted")
    Visit.objects.create(ticket=a1, partner=p, engineer=w.users["engineer_p"])
    Visit.objects.create(ticket=b1, partner=q, engineer=w.users["engineer_q"])

    ticket_key = {t.pk: k for k, t in w.tickets.items()}
    store_key = {s.pk: s.code for s in Store.objects.all()}
    partner_key = {p.pk: "P", q.pk: "Q"}
    m = Matrix(world=w)
    m.keys = {
        "tickets": ticket_key,
        "events": {
            e.pk: f"{ticket_key[e.ticket_id]}:{e.kind}" + (":internal" if e.is_internal else "")
            for e in TicketEvent.objects.all()
        },
        "comments": {
            c.pk: f"{ticket_key[c.ticket_id]}:{'internal' if c.is_internal else 'public'}"
            for c in Comment.objects.all()
        },
        "attachments": {
            a.pk: a.original_name.removesuffix(".png").replace("-", ":")
            for a in Attachment.objects.all()
        },
        "offers": {
            o.pk: f"{ticket_key[o.ticket_id]}:{partner_key[o.partner_id]}:{o.status}"
            for o in Offer.objects.all()
        },
        "visits": {
            v.pk: f"{ticket_key[v.ticket_id]}:{partner_key[v.partner_id]}"
            for v in Visit.objects.all()
        },
        "stores": store_key,
        "equipment": {e.pk: store_key[e.store_id] for e in Equipment.objects.all()},
        "clients": {w.client_a.pk: "A", w.client_b.pk: "B"},
        "partners": partner_key,
        "coverages": {c.pk: partner_key[c.partner_id] for c in Coverage.objects.all()},
        "certifications": {c.pk: partner_key[c.partner_id] for c in Certification.objects.all()},
        "contracts": {c.pk: partner_key[c.partner_id] for c in PartnerContract.objects.all()},
    }
    # Every row of the world has a key, so "sees more" can never hide behind a missing key.
    for kind, model in {
        "events": TicketEvent,
        "comments": Comment,
        "attachments": Attachment,
        "equipment": Equipment,
        "coverages": Coverage,
    }.items():
        assert len(m.keys[kind]) == model.objects.count(), kind
    return m


def _per_ticket(selector: Callable) -> Callable:
    """Union of a per-ticket selector over every ticket of the world."""

    def read(m: Matrix, actor: Actor | None) -> list[int]:
        pks: list[int] = []
        for ticket in Ticket.objects.all():
            pks += selector(actor=actor, ticket=ticket).values_list("pk", flat=True)
        return pks

    return read


def _listed(selector: Callable) -> Callable:
    def read(m: Matrix, actor: Actor | None) -> list[int]:
        return list(selector(actor=actor).values_list("pk", flat=True))

    return read


READERS: dict[str, Callable[[Matrix, Actor | None], list[int]]] = {
    "tickets": _listed(ticket_selectors.ticket_list),
    "events": _per_ticket(ticket_selectors.ticket_events),
    "comments": _per_ticket(ticket_selectors.ticket_comments),
    "attachments": _per_ticket(ticket_selectors.ticket_attachments),
    "offers": _per_ticket(ticket_selectors.ticket_offers),
    "visits": _per_ticket(ticket_selectors.ticket_visits),
    "stores": _listed(store_list),
    "equipment": _listed(equipment_list),
    "clients": _listed(client_list),
    "partners": _listed(partner_list),
    "coverages": _listed(coverage_list),
    "certifications": _listed(certification_list),
    "contracts": _listed(contract_list),
}


def visible(m: Matrix, role: str) -> dict[str, set[str]]:
    """What ``role`` sees, kind by kind, as keys; duplicated rows fail here."""
    actor = m.actor(role)
    seen: dict[str, set[str]] = {}
    for kind, read in READERS.items():
        pks = read(m, actor)
        assert len(pks) == len(set(pks)), f"{role} gets duplicated {kind} rows"
        seen[kind] = {m.keys[kind].get(pk, f"<unknown {pk}>") for pk in pks}
    return seen


def check_visibility(m: Matrix, role: str) -> None:
    """Fails naming, per kind, what ``role`` sees beyond its row and what it misses."""
    seen = visible(m, role)
    wrong = {
        kind: {"extra": seen[kind] - keys, "missing": keys - seen[kind]}
        for kind, keys in EXPECTED[role].items()
        if seen[kind] != keys
    }
    assert wrong == {}, f"{role} sees the wrong rows"


# --- who sees what ---------------------------------------------------------------------------


def test_expectation_table_covers_every_role_and_kind():
    assert sorted(EXPECTED) == sorted(ROLES)
    assert all(sorted(row) == sorted(KINDS) for row in EXPECTED.values())
    assert sorted(READERS) == sorted(KINDS)


def test_user_without_membership_has_no_actor(matrix):
    assert matrix.actor("nobody") is None


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_exactly_its_rows(matrix, role):
    check_visibility(matrix, role)


@pytest.mark.parametrize("role", ROLES)
def test_get_answers_not_found_for_what_the_list_hides(matrix, role):
    # Given the actor and the keys it may see
    actor = matrix.actor(role)
    expected = EXPECTED[role]
    getters = {
        "tickets": (Ticket, lambda pk: ticket_selectors.ticket_get(actor=actor, ticket_id=pk)),
        "stores": (Store, lambda pk: store_get(actor=actor, store_id=pk)),
        "partners": (Partner, lambda pk: partner_get(actor=actor, partner_id=pk)),
        "attachments": (
            Attachment,
            lambda pk: ticket_selectors.attachment_get(actor=actor, attachment_id=pk),
        ),
    }
    for kind, (model, get) in getters.items():
        for pk in model.objects.values_list("pk", flat=True):
            key = matrix.keys[kind][pk]
            # When it asks for each object by id, then visible ones come back, others are 404
            if key in expected[kind]:
                assert get(pk).pk == pk, (kind, key)
            else:
                with pytest.raises(NotFound):
                    get(pk)
    # A missing id and a garbage id answer exactly like a foreign one.
    with pytest.raises(NotFound):
        ticket_selectors.ticket_get(actor=actor, ticket_id=987654321)
    with pytest.raises(NotFound):
        ticket_selectors.ticket_get(actor=actor, ticket_id="x")  # type: ignore[arg-type]


# --- the checks are not vacuous -------------------------------------------------------------


def _drop_ticket_scope(monkeypatch):
    monkeypatch.setattr(ticket_querysets, "ticket_scope", lambda actor, prefix="": None)


def _drop_store_scope(monkeypatch):
    monkeypatch.setattr(StoreQuerySet, "visible_to", lambda self, actor: self)


def _drop_client_scope(monkeypatch):
    monkeypatch.setattr(ClientQuerySet, "visible_to", lambda self, actor: self)


def _drop_partner_scope(monkeypatch):
    monkeypatch.setattr(PartnerQuerySet, "visible_to", lambda self, actor: self)


def _drop_partner_owned_scope(monkeypatch):
    monkeypatch.setattr(PartnerOwnedQuerySet, "visible_to", lambda self, actor: self)


def _show_internal_to_everyone(monkeypatch):
    monkeypatch.setattr(Actor, "sees_internal", property(lambda self: True))


@pytest.mark.parametrize(
    ("mutation", "role"),
    [
        (_drop_ticket_scope, "client_manager_b"),
        (_drop_ticket_scope, "engineer_q"),
        (_drop_store_scope, "store_staff_a1"),
        (_drop_client_scope, "partner_manager_q"),
        (_drop_partner_scope, "client_manager_a"),
        (_drop_partner_owned_scope, "engineer_q"),
        (_show_internal_to_everyone, "client_manager_a"),
    ],
)
def test_matrix_catches_a_dropped_scope(matrix, monkeypatch, mutation, role):
    # Given a role whose row holds with the real selectors
    check_visibility(matrix, role)
    # When a selector forgets its scope
    mutation(monkeypatch)
    # Then the same check the matrix runs fails for this role
    with pytest.raises(AssertionError):
        check_visibility(matrix, role)


# --- what can be changed --------------------------------------------------------------------

SERVICE_ROLES = [r for r in ROLES if r != "nobody"]
PROVIDER_ROLES = {"provider_admin", "dispatcher"}
ASSIGNING_ROLES = PROVIDER_ROLES | {"partner_manager_p", "partner_manager_q"}
# A move each ticket's status allows, but that only provider staff may make.
STATE_ALLOWED_MOVE = {"a1": "cancelled", "a2": "resolved", "b1": "cancelled"}


def _snapshot() -> dict:
    """Everything a refused service call must leave as it was."""
    return {
        "events": TicketEvent.objects.count(),
        "comments": Comment.objects.count(),
        "attachments": Attachment.objects.count(),
        "offers": Offer.objects.count(),
        "tickets": sorted(
            Ticket.objects.values_list(
                "pk", "version", "status", "partner_id", "engineer_id", "first_response_at"
            )
        ),
    }


def _call(action: str, m: Matrix, actor: Actor, ticket: Ticket) -> None:
    if action == "comment":
        ticket_services.ticket_comment(actor=actor, ticket_id=ticket.pk, body="hello")
    elif action == "transition":
        ticket_services.ticket_transition(
            actor=actor, ticket_id=ticket.pk, to_status=STATE_ALLOWED_MOVE[_key(m, ticket)]
        )
    elif action == "assign":
        ticket_services.ticket_assign(
            actor=actor,
            ticket_id=ticket.pk,
            partner_id=actor.organisation_id if actor.is_partner else m.world.partner_p.pk,
        )
    else:  # pragma: no cover
        raise AssertionError(action)


def _key(m: Matrix, ticket: Ticket) -> str:
    return m.keys["tickets"][ticket.pk]


FOREIGN_CASES = [
    (role, ticket, action)
    for role in SERVICE_ROLES
    for ticket in ("a1", "a2", "b1")
    if ticket not in EXPECTED[role]["tickets"]
    for action in ("comment", "transition", "assign")
]


@pytest.mark.parametrize(("role", "ticket_key", "action"), FOREIGN_CASES)
def test_foreign_ticket_cannot_be_changed(matrix, role, ticket_key, action):
    # Given an actor and a ticket it cannot see
    actor = matrix.actor(role)
    ticket = matrix.ticket(ticket_key)
    before = _snapshot()
    # When it calls a service on it, then the answer is 404 (or, for a role that may not
    # assign at all, the same refusal it gets for any ticket: nothing about this one leaks)
    expected = NotFound if action != "assign" or role in ASSIGNING_ROLES else PermissionDenied
    with pytest.raises(expected):
        _call(action, matrix, actor, ticket)
    # And nothing was written
    assert _snapshot() == before


OWN_CASES = [
    (role, ticket)
    for role in SERVICE_ROLES
    if role not in PROVIDER_ROLES
    for ticket in ("a1", "a2", "b1")
    if ticket in EXPECTED[role]["tickets"]
]


@pytest.mark.parametrize(("role", "ticket_key"), OWN_CASES)
def test_own_ticket_move_outside_the_role_is_refused(matrix, role, ticket_key):
    # Given a ticket the actor sees and a move its status allows but its role does not
    actor = matrix.actor(role)
    ticket = matrix.ticket(ticket_key)
    before = _snapshot()
    # When it tries the move, then it is refused as forbidden, not as missing
    with pytest.raises(PermissionDenied):
        ticket_services.ticket_transition(
            actor=actor, ticket_id=ticket.pk, to_status=STATE_ALLOWED_MOVE[ticket_key]
        )
    # And nothing was written
    assert _snapshot() == before


@pytest.mark.parametrize(("role", "ticket_key"), OWN_CASES)
def test_own_ticket_cannot_be_given_to_another_partner(matrix, role, ticket_key):
    # Given a ticket the actor sees, and a partner that is not the actor's
    actor = matrix.actor(role)
    ticket = matrix.ticket(ticket_key)
    other = matrix.world.partner_q if actor.partner_id == matrix.world.partner_p.pk else None
    other = other or matrix.world.partner_p
    before = _snapshot()
    # When it tries to hand the job to that partner, then it is forbidden
    with pytest.raises(PermissionDenied):
        ticket_services.ticket_assign(actor=actor, ticket_id=ticket.pk, partner_id=other.pk)
    # And nothing was written
    assert _snapshot() == before


@pytest.mark.parametrize("role", sorted(PROVIDER_ROLES))
def test_provider_changes_any_clients_ticket(matrix, role):
    # Given provider staff and tickets of both clients
    actor = matrix.actor(role)
    for key in ("a1", "a2", "b1"):
        ticket = matrix.ticket(key)
        # When it comments and makes the move only staff may make, then both are recorded
        ticket_services.ticket_comment(actor=actor, ticket_id=ticket.pk, body="staff note")
        moved = ticket_services.ticket_transition(
            actor=actor, ticket_id=ticket.pk, to_status=STATE_ALLOWED_MOVE[key]
        )
        assert moved.status == STATE_ALLOWED_MOVE[key]
        # (the comment is not an edit of the ticket: only the move bumps the version)
        assert moved.version == ticket.version + 1


# --- partners, engineers and store staff: the edges of their scope ------------------------


@pytest.mark.parametrize("ended", ["declined", "expired", "withdrawn"])
def test_partner_sees_a_job_only_while_it_is_offered(matrix, ended):
    # Given a live offer of the unassigned ticket A2 to partner Q
    a2 = matrix.ticket("a2")
    offer = _offer(a2, matrix.world.partner_q, "offered")
    manager_q = matrix.actor("partner_manager_q")
    engineer_q = matrix.actor("engineer_q")

    # Then Q's manager sees the ticket, its store and its own offer, once each
    tickets = list(ticket_selectors.ticket_list(actor=manager_q).values_list("pk", flat=True))
    assert sorted(tickets) == sorted([matrix.ticket("b1").pk, a2.pk])
    assert set(store_list(actor=manager_q).values_list("code", flat=True)) == {"A2", "B1"}
    assert list(ticket_selectors.ticket_offers(actor=manager_q, ticket=a2)) == [offer]
    assert ticket_selectors.ticket_get(actor=manager_q, ticket_id=a2.pk) == a2
    # But not its engineers (an offer is the manager's decision), nor partner P
    for actor in (engineer_q, matrix.actor("partner_manager_p"), matrix.actor("engineer_p")):
        assert not ticket_selectors.ticket_list(actor=actor).filter(pk=a2.pk).exists()

    # When the offer ends without acceptance
    Offer.objects.filter(pk=offer.pk).update(status=ended, responded_at=timezone.now())

    # Then A2 and its store disappear from Q's view again
    assert list(ticket_selectors.ticket_list(actor=manager_q).values_list("pk", flat=True)) == [
        matrix.ticket("b1").pk
    ]
    assert set(store_list(actor=manager_q).values_list("code", flat=True)) == {"B1"}
    with pytest.raises(NotFound):
        ticket_selectors.ticket_get(actor=manager_q, ticket_id=a2.pk)


def test_engineer_sees_only_jobs_where_it_is_the_engineer(matrix):
    # Given A1 held by partner P with engineer_p on it
    a1 = matrix.ticket("a1")
    dispatcher = matrix.actor("dispatcher")
    assert list(ticket_selectors.ticket_list(actor=matrix.actor("engineer_p2"))) == []

    # When the dispatcher names engineer_p2 instead
    ticket_services.ticket_assign(
        actor=dispatcher,
        ticket_id=a1.pk,
        partner_id=matrix.world.partner_p.pk,
        engineer_id=matrix.world.users["engineer_p2"].pk,
    )

    # Then engineer_p2 sees A1 (and its store) and engineer_p no longer does
    engineer_p2 = matrix.actor("engineer_p2")
    assert list(ticket_selectors.ticket_list(actor=engineer_p2)) == [a1]
    assert list(store_list(actor=engineer_p2).values_list("code", flat=True)) == ["A1"]
    engineer_p = matrix.actor("engineer_p")
    assert list(ticket_selectors.ticket_list(actor=engineer_p)) == []
    assert list(store_list(actor=engineer_p)) == []
    # And the partner manager still sees it either way
    assert list(ticket_selectors.ticket_list(actor=matrix.actor("partner_manager_p"))) == [a1]


def test_store_staff_sees_only_its_listed_stores(matrix):
    # Given store staff listed at A1 only
    w = matrix.world
    membership = w.users["store_staff_a1"].memberships.get()
    staff = matrix.actor("store_staff_a1")
    assert staff.store_ids == frozenset({w.store_a1.pk})
    assert {t.subject for t in ticket_selectors.ticket_list(actor=staff)} == {"A1 till"}

    # When A2 is added to its list, and (bad data) a store of client B as well
    StoreStaffAssignment.objects.create(membership=membership, store=w.store_a2)
    StoreStaffAssignment.objects.create(membership=membership, store=w.store_b1)
    staff = matrix.actor("store_staff_a1")

    # Then it sees A1 and A2, and still nothing of client B
    assert {t.subject for t in ticket_selectors.ticket_list(actor=staff)} == {
        "A1 till",
        "A2 cctv",
    }
    assert set(store_list(actor=staff).values_list("code", flat=True)) == {"A1", "A2"}
    assert set(client_list(actor=staff)) == {w.client_a}
    assert not Client.objects.visible_to(staff).filter(pk=w.client_b.pk).exists()


def test_a_partner_never_reads_timeline_entries_about_another_partner(world):
    # Given ticket a1 taken from partner P and given to partner Q
    from tickets.selectors import ticket_events

    a1 = world.tickets["a1"]
    ticket_services.ticket_assign(
        actor=world.actor("dispatcher"), ticket_id=a1.pk, partner_id=world.partner_q.pk
    )
    # When partner Q reads the timeline
    events = list(ticket_events(actor=world.actor("partner_manager_q"), ticket=a1))
    # Then it sees its own assignment and nothing that names partner P
    partner_ids = {e.data.get("partner_id") for e in events if "partner_id" in e.data}
    assert partner_ids == {world.partner_q.pk}
    # While the dispatcher sees both
    staff = ticket_events(actor=world.actor("dispatcher"), ticket=a1)
    assert {e.data.get("partner_id") for e in staff if "partner_id" in e.data} >= {
        world.partner_p.pk,
        world.partner_q.pk,
    }
