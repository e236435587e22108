"""The ticket state machine, as data."""

from __future__ import annotations

from servicedesk.choices import Role
from tickets.choices import TicketStatus as S

OPEN_STATUSES = frozenset({S.NEW, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE, S.WAITING_CLIENT})
FINAL_STATUSES = frozenset({S.CLOSED, S.CANCELLED})

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ASSIGNED, S.WAITING_CLIENT, S.RESOLVED, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.ACCEPTED, S.NEW, S.WAITING_CLIENT, S.RESOLVED, S.CANCELLED}),
    S.ACCEPTED: frozenset(
        {S.EN_ROUTE, S.ON_SITE, S.NEW, S.WAITING_CLIENT, S.RESOLVED, S.CANCELLED}
    ),
    S.EN_ROUTE: frozenset({S.ON_SITE, S.ACCEPTED, S.NEW, S.WAITING_CLIENT, S.CANCELLED}),
    S.ON_SITE: frozenset({S.RESOLVED, S.WAITING_CLIENT}),
    S.WAITING_CLIENT: frozenset(
        {S.NEW, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE, S.RESOLVED, S.CANCELLED}
    ),
    S.RESOLVED: frozenset({S.CLOSED, S.NEW}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# Which (from, to) moves each role may make. Provider staff may make every allowed move.
# A client may cancel what nobody works on yet, confirm or reopen a resolution, and answer
# a question (leaving waiting_client back to where the ticket was, checked in the service).
_CLIENT_MOVES = frozenset(
    {
        (S.NEW, S.CANCELLED),
        (S.RESOLVED, S.CLOSED),
        (S.RESOLVED, S.NEW),
    }
)
_PARTNER_FIELD_MOVES = frozenset(
    {
        (S.ACCEPTED, S.EN_ROUTE),
        (S.ACCEPTED, S.ON_SITE),
        (S.EN_ROUTE, S.ON_SITE),
        (S.EN_ROUTE, S.ACCEPTED),
        (S.ON_SITE, S.RESOLVED),
        (S.ACCEPTED, S.RESOLVED),
    }
)
ROLE_MOVES: dict[str, frozenset[tuple[str, str]]] = {
    Role.CLIENT_MANAGER: _CLIENT_MOVES,
    Role.STORE_STAFF: _CLIENT_MOVES,
    # Accepting or handing back a job is the partner manager's call, not an engineer's.
    Role.PARTNER_MANAGER: _PARTNER_FIELD_MOVES | {(S.ASSIGNED, S.ACCEPTED), (S.ASSIGNED, S.NEW)},
    Role.PARTNER_ENGINEER: _PARTNER_FIELD_MOVES,
}

# Leaving these statuses for NEW means the partner is taken off the job.
UNASSIGNING_FROM = frozenset({S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE})
