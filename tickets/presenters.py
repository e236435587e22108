"""What the HTML pages show about a ticket: the moves an actor may make and a readable timeline.

Nothing here decides anything the services do not: ``allowed_moves`` reads the same
``ALLOWED_TRANSITIONS`` and ``ROLE_MOVES`` as ``tickets.services._check_move``, so a button is
never offered for a move the service would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.models import User
from tickets import selectors
from tickets.choices import EventKind, Priority, TicketStatus
from tickets.constants import ALLOWED_TRANSITIONS, FINAL_STATUSES, ROLE_MOVES
from tickets.models import Attachment, Comment, Ticket, TicketEvent

S = TicketStatus

# The order buttons appear in: the usual way forward first, the way out last.
_MOVE_ORDER = [
    S.ACCEPTED,
    S.EN_ROUTE,
    S.ON_SITE,
    S.RESOLVED,
    S.CLOSED,
    S.ASSIGNED,
    S.NEW,
    S.WAITING_CLIENT,
    S.CANCELLED,
]
# Statuses that only make sense with a partner on the job: no button without one (the
# assignment form gives the job to a partner, which also moves the ticket to "assigned").
_NEEDS_PARTNER = frozenset({S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})

_VISIT_STEPS = {
    "en_route": gettext_lazy("Engineer on the way"),
    "checked_in": gettext_lazy("Engineer checked in at the store"),
    "checked_out": gettext_lazy("Engineer checked out"),
    "eta": gettext_lazy("Arrival time set"),
    "report": gettext_lazy("Work report written"),
    "signed_off": gettext_lazy("Work signed off by the store"),
}

# Mirrors the status check of ``tickets.services.ticket_assign``.
_ASSIGNABLE = frozenset({S.NEW, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.WAITING_CLIENT})

_MOVE_LABELS = {
    S.NEW: gettext_lazy("Return to queue"),
    S.ASSIGNED: gettext_lazy("Mark as assigned"),
    S.ACCEPTED: gettext_lazy("Accept the job"),
    S.EN_ROUTE: gettext_lazy("On the way"),
    S.ON_SITE: gettext_lazy("Arrived on site"),
    S.WAITING_CLIENT: gettext_lazy("Wait for the client"),
    S.RESOLVED: gettext_lazy("Mark as resolved"),
    S.CLOSED: gettext_lazy("Confirm and close"),
    S.CANCELLED: gettext_lazy("Cancel the ticket"),
}


def allowed_moves(actor: Actor, ticket: Ticket) -> list[str]:
    """The statuses ``actor`` may move ``ticket`` to, by the rules of ``_check_move``."""
    targets = ALLOWED_TRANSITIONS.get(ticket.status, frozenset())
    moves = []
    for to_status in _MOVE_ORDER:
        if to_status not in targets or to_status == ticket.status:
            continue
        if actor.is_provider:
            moves.append(to_status)
            continue
        client_answers = (
            actor.is_client
            and ticket.status == S.WAITING_CLIENT
            and to_status == (ticket.status_before_wait or S.NEW)
        )
        if (ticket.status, to_status) in ROLE_MOVES.get(actor.role, frozenset()) or client_answers:
            moves.append(to_status)
    return [str(m) for m in moves]


@dataclass(frozen=True)
class StatusAction:
    """One status button: where it moves the ticket, what it says and how loud it is."""

    to_status: str
    label: str
    style: str  # "primary" | "secondary" | "danger"


def status_actions(actor: Actor, ticket: Ticket) -> list[StatusAction]:
    """Buttons for ``allowed_moves``, worded for people, the first way forward emphasised."""
    actions: list[StatusAction] = []
    for to_status in allowed_moves(actor, ticket):
        if to_status in _NEEDS_PARTNER and ticket.partner_id is None:
            continue
        if ticket.status == S.RESOLVED and to_status == S.NEW:
            label = _("Reopen")
        elif ticket.status == S.WAITING_CLIENT and actor.is_client and to_status != S.CANCELLED:
            label = _("I have answered: continue")
        elif ticket.status == S.WAITING_CLIENT and to_status not in (S.RESOLVED, S.CANCELLED):
            label = _("Resume: %(status)s") % {"status": S(to_status).label}
        else:
            label = str(_MOVE_LABELS[to_status])
        style = "danger" if to_status == S.CANCELLED else "secondary"
        actions.append(StatusAction(to_status, label, style))
    forward = [a for a in actions if a.style == "secondary" and a.to_status != S.WAITING_CLIENT]
    if forward and ticket.status not in FINAL_STATUSES:
        first = forward[0]
        actions[actions.index(first)] = StatusAction(first.to_status, first.label, "primary")
    return actions


def can_create_ticket(actor: Actor) -> bool:
    """Who gets the "new ticket" page: as ``ticket_create`` allows, provider staff and clients."""
    return actor.is_provider or actor.is_client


def assigns_jobs(actor: Actor) -> bool:
    """Who may give a job to someone: as ``ticket_assign`` allows."""
    return actor.is_provider or actor.role == Role.PARTNER_MANAGER


def can_assign_partner(actor: Actor, ticket: Ticket) -> bool:
    """Provider staff give jobs to partners while the ticket is still before the visit."""
    return actor.is_provider and ticket.status in _ASSIGNABLE


def can_name_engineer(actor: Actor, ticket: Ticket) -> bool:
    """A partner manager names the engineer on its own jobs."""
    return (
        actor.role == Role.PARTNER_MANAGER
        and ticket.partner_id == actor.organisation_id
        and ticket.status in _ASSIGNABLE
    )


@dataclass
class TimelineEntry:
    """One readable line of the timeline."""

    event: TicketEvent
    title: str
    detail: str = ""
    comment: Comment | None = None
    attachment: Attachment | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def at(self) -> datetime:
        return self.event.created_at

    @property
    def is_internal(self) -> bool:
        return self.event.is_internal

    @property
    def author(self) -> str:
        user: User | None = self.event.actor
        if user is None:
            return _("System")
        return user.get_full_name() or user.get_username()

    @property
    def role_label(self) -> str:
        role = self.event.actor_role
        return str(Role(role).label) if role in Role.values else ""


def _label(choices, value: Any) -> str:
    return str(choices(value).label) if value in choices.values else str(value or "—")


def _event_title(event: TicketEvent, ticket: Ticket) -> tuple[str, str]:
    """(title, detail) of an event, worded per kind; unknown kinds fall back to their label."""
    data = event.data or {}
    kind = event.kind
    if kind == EventKind.CREATED:
        return _("Ticket created"), _("Priority: %(priority)s") % {
            "priority": _label(Priority, data.get("priority"))
        }
    if kind in (EventKind.STATUS_CHANGED, EventKind.REOPENED):
        title = _("Status: %(from)s → %(to)s") % {
            "from": _label(S, data.get("from")),
            "to": _label(S, data.get("to")),
        }
        if kind == EventKind.REOPENED:
            title = _("Reopened. %(change)s") % {"change": title}
        return title, data.get("note", "")
    if kind == EventKind.ASSIGNED:
        title = _("Assigned to %(partner)s") % {"partner": data.get("partner", "—")}
        engineer = ""
        if data.get("engineer_id") and data.get("engineer_id") == ticket.engineer_id:
            engineer = _("Engineer: %(name)s") % {"name": ticket.engineer}
        return title, engineer
    if kind == EventKind.UNASSIGNED:
        return _("%(partner)s taken off the job") % {"partner": data.get("partner", "—")}, ""
    if kind == EventKind.PRIORITY_CHANGED:
        return _("Priority: %(from)s → %(to)s") % {
            "from": _label(Priority, data.get("from")),
            "to": _label(Priority, data.get("to")),
        }, ""
    if kind == EventKind.COMMENTED:
        return (_("Internal note") if event.is_internal else _("Comment")), ""
    if kind == EventKind.ATTACHED:
        return _("File attached: %(name)s") % {"name": data.get("name", "")}, ""
    if kind == EventKind.VISIT_UPDATED and data.get("step") in _VISIT_STEPS:
        return str(_VISIT_STEPS[data["step"]]), data.get("note", "")
    label = _label(EventKind, kind)
    if data.get("partner"):
        return f"{label}: {data['partner']}", data.get("reason", "") or data.get("note", "")
    return label, data.get("note", "")


def timeline(actor: Actor, ticket: Ticket) -> list[TimelineEntry]:
    """The ticket's events as ``actor`` may see them, comments and files joined in.

    Three queries whatever the length: events, comments, attachments.
    """
    comments = {c.pk: c for c in selectors.ticket_comments(actor=actor, ticket=ticket)}
    attachments = {a.pk: a for a in selectors.ticket_attachments(actor=actor, ticket=ticket)}
    entries = []
    for event in selectors.ticket_events(actor=actor, ticket=ticket):
        data = event.data or {}
        comment = (
            comments.get(data.get("comment_id")) if event.kind == EventKind.COMMENTED else None
        )
        if event.kind == EventKind.COMMENTED and comment is None:
            continue  # not visible to this actor
        title, detail = _event_title(event, ticket)
        entries.append(
            TimelineEntry(
                event=event,
                title=title,
                detail=detail,
                comment=comment,
                attachment=attachments.get(data.get("attachment_id")),
                data=data,
            )
        )
    return entries
