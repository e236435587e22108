"""Every use case that changes a ticket. API views, HTML views, tasks and commands call these.

Each service runs in one transaction, checks what the actor may do, changes the ticket,
bumps its ``version`` and records a TicketEvent before it commits.
"""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Equipment, Store
from partners.models import Competency, Partner
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import (
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from servicedesk.models import Membership
from tickets import clocks
from tickets.choices import Category, EventKind, Priority, TicketKind, TicketStatus
from tickets.constants import ALLOWED_TRANSITIONS, FINAL_STATUSES, ROLE_MOVES, UNASSIGNING_FROM
from tickets.events import event_record
from tickets.lock_objects import ticket_lock
from tickets.models import Attachment, Comment, Ticket
from tickets.uploads import check_upload

S = TicketStatus


def _field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={field: [message]})


def _choice(field: str, value: str, choices) -> str:
    if value not in choices.values:
        raise _field_error(
            field,
            _("“%(value)s” is not one of: %(allowed)s.")
            % {"value": value, "allowed": ", ".join(choices.values)},
        )
    return value


def _next_ticket_number(client_id: int) -> int:
    """Issue the client's next number; the row lock serialises concurrent creates."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clients_client SET ticket_sequence = ticket_sequence + 1 "
            "WHERE organisation_id = %s RETURNING ticket_sequence",
            [client_id],
        )
        return cursor.fetchone()[0]


def _bump(ticket: Ticket, *fields: str) -> None:
    ticket.version += 1
    ticket.save(update_fields=[*fields, "version", "updated_at"])


@transaction.atomic
def ticket_create(
    *,
    actor: Actor,
    store_id: int,
    subject: str,
    description: str = "",
    priority: str = Priority.P3,
    category: str = Category.HARDWARE,
    kind: str = TicketKind.INCIDENT,
    needs_visit: bool = False,
    equipment_id: int | None = None,
    competency_id: int | None = None,
    external_id: str | None = None,
) -> Ticket:
    """Open a ticket at a store the actor may see, numbered in its client's sequence."""
    if not (actor.is_provider or actor.is_client):
        raise PermissionDenied(_("Partners cannot open tickets."))
    subject = (subject or "").strip()
    if not subject:
        raise _field_error("subject", _("A subject is required."))
    _choice("priority", priority, Priority)
    _choice("category", category, Category)
    _choice("kind", kind, TicketKind)
    store = Store.objects.visible_to(actor).filter(pk=store_id).select_related("client").first()
    if store is None:
        raise _field_error("store", _("Unknown store: %(id)s.") % {"id": store_id})
    if not store.is_active:
        raise _field_error("store", _("Store %(code)s is closed.") % {"code": store.code})
    if (
        equipment_id is not None
        and not Equipment.objects.filter(pk=equipment_id, store=store).exists()
    ):
        raise _field_error("equipment", _("This equipment is not at store %s.") % store.code)
    if competency_id is not None and not Competency.objects.filter(pk=competency_id).exists():
        raise _field_error("competency", _("Unknown competency: %s.") % competency_id)
    if external_id and Ticket.objects.filter(client=store.client, external_id=external_id).exists():
        raise _field_error("external_id", _("A ticket with this external id already exists."))

    try:
        with transaction.atomic():
            ticket = _ticket_insert(
                actor=actor,
                store=store,
                equipment_id=equipment_id,
                competency_id=competency_id,
                subject=subject,
                description=description or "",
                priority=priority,
                category=category,
                kind=kind,
                needs_visit=needs_visit,
                external_id=external_id,
            )
    except IntegrityError as exc:
        # Two integrations creating the same external id at once: the loser gets a 400.
        if "ticket_external_id_per_client" in str(exc):
            raise _field_error(
                "external_id", _("A ticket with this external id already exists.")
            ) from None
        raise
    event_record(
        ticket=ticket,
        kind=EventKind.CREATED,
        actor=actor,
        data={"status": ticket.status, "priority": priority, "needs_visit": needs_visit},
        at=ticket.created_at,
    )
    clocks.on_created(ticket=ticket, actor=actor)
    if ticket.needs_visit and store.client.auto_dispatch:
        # In this transaction: the offer is data, committed (or not) with the ticket.
        from tickets.dispatch import auto_dispatch

        auto_dispatch(ticket_id=ticket.pk, now=ticket.created_at)
        ticket.refresh_from_db()
    return ticket


def _ticket_insert(*, actor: Actor, store: Store, external_id: str | None, **fields) -> Ticket:
    return Ticket.objects.create(
        client=store.client,
        number=_next_ticket_number(store.client_id),
        store=store,
        external_id=external_id or None,
        created_by_id=actor.user_id,
        **fields,
    )


# A job can only be accepted, travelled to or worked on site by a partner holding it; giving
# it to a partner is ``ticket_assign``, which also sets ASSIGNED.
_NEEDS_PARTNER = frozenset({S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})


def _check_move(actor: Actor, ticket: Ticket, to_status: str) -> None:
    if to_status not in S.values:
        raise _field_error("status", _("Unknown status: %s.") % to_status)
    if to_status == ticket.status:
        raise InvalidTransition(
            _("Ticket %(ref)s is already %(status)s.")
            % {"ref": ticket.reference, "status": ticket.get_status_display()}
        )
    if to_status not in ALLOWED_TRANSITIONS[ticket.status]:
        raise InvalidTransition(
            _("A ticket cannot go from %(from)s to %(to)s.")
            % {"from": S(ticket.status).label, "to": S(to_status).label}
        )
    if not actor.is_provider:
        move = (ticket.status, to_status)
        client_answers = (
            actor.is_client
            and ticket.status == S.WAITING_CLIENT
            and to_status == (ticket.status_before_wait or S.NEW)
        )
        if move not in ROLE_MOVES.get(actor.role, frozenset()) and not client_answers:
            raise PermissionDenied(
                _("Your role cannot move a ticket from %(from)s to %(to)s.")
                % {"from": S(ticket.status).label, "to": S(to_status).label}
            )
    if to_status in _NEEDS_PARTNER and ticket.partner_id is None:
        raise InvalidTransition(
            _("Nobody is assigned to ticket %(ref)s: assign a partner first.")
            % {"ref": ticket.reference}
        )


@transaction.atomic
def ticket_transition(
    *,
    actor: Actor,
    ticket_id: int,
    to_status: str,
    expected_version: int | None = None,
    note: str = "",
) -> Ticket:
    """Move a ticket along one allowed transition, with the side effects the move implies."""
    ticket = ticket_lock(actor=actor, ticket_id=ticket_id, expected_version=expected_version)
    _check_move(actor, ticket, to_status)
    from_status = ticket.status
    now = timezone.now()
    changed = ["status"]

    if to_status == S.WAITING_CLIENT:
        ticket.status_before_wait = from_status
        changed.append("status_before_wait")
    if to_status == S.RESOLVED:
        ticket.resolved_at = now
        changed.append("resolved_at")
    if to_status == S.CLOSED:
        ticket.closed_at = now
        changed.append("closed_at")
    reopened = from_status == S.RESOLVED and to_status == S.NEW
    if reopened:
        ticket.resolved_at = None
        changed.append("resolved_at")
    previous_partner = ticket.partner
    unassigned = (
        to_status == S.NEW
        and from_status in (*UNASSIGNING_FROM, S.WAITING_CLIENT)
        and previous_partner is not None
    )
    if unassigned:
        ticket.partner = None
        ticket.engineer = None
        changed += ["partner", "engineer"]

    ticket.status = to_status
    _bump(ticket, *changed)
    data = {"from": from_status, "to": to_status}
    if note.strip():
        data["note"] = note.strip()
    event_record(
        ticket=ticket,
        kind=EventKind.REOPENED if reopened else EventKind.STATUS_CHANGED,
        actor=actor,
        data=data,
        at=now,
    )
    if unassigned:
        event_record(
            ticket=ticket,
            kind=EventKind.UNASSIGNED,
            actor=actor,
            data={"partner_id": previous_partner.pk, "partner": previous_partner.name},
            at=now,
        )
    clocks.on_status_changed(
        ticket=ticket,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        previous_partner_id=previous_partner.pk if previous_partner else None,
        at=now,
    )
    return ticket


def _engineer_of(partner: Partner, engineer_id: int | None) -> int | None:
    if engineer_id is None:
        return None
    is_engineer = Membership.objects.filter(
        user_id=engineer_id,
        organisation_id=partner.pk,
        role__in=[Role.PARTNER_ENGINEER, Role.PARTNER_MANAGER],
        is_active=True,
    ).exists()
    if not is_engineer:
        raise _field_error(
            "engineer", _("This engineer does not work for %(partner)s.") % {"partner": partner}
        )
    return engineer_id


@transaction.atomic
def ticket_assign(
    *,
    actor: Actor,
    ticket_id: int,
    partner_id: int,
    engineer_id: int | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Give the job to a partner (provider staff) or name its engineer (the partner manager)."""
    if not (actor.is_provider or actor.role == Role.PARTNER_MANAGER):
        raise PermissionDenied(_("Only dispatchers and partner managers assign tickets."))
    ticket = ticket_lock(actor=actor, ticket_id=ticket_id, expected_version=expected_version)
    if actor.is_partner and (
        partner_id != actor.organisation_id or ticket.partner_id != partner_id
    ):
        raise PermissionDenied(_("A partner can only name engineers for its own jobs."))
    partner = Partner.objects.filter(pk=partner_id).first()
    if partner is None:
        raise _field_error("partner", _("Unknown partner: %s.") % partner_id)
    if not partner.is_active:
        raise _field_error("partner", _("%s is not an active partner.") % partner)
    if ticket.status not in (S.NEW, S.ASSIGNED, S.ACCEPTED, S.EN_ROUTE, S.WAITING_CLIENT):
        raise InvalidTransition(
            _("A %(status)s ticket cannot be assigned.") % {"status": ticket.get_status_display()}
        )
    ticket.engineer_id = _engineer_of(partner, engineer_id)
    changed = ["partner", "engineer"]
    previous_partner_id = ticket.partner_id
    handed_over = previous_partner_id != partner.pk
    ticket.partner = partner
    # A new or reopened job, or one handed to another partner, waits for its acceptance.
    if ticket.status == S.NEW or (handed_over and ticket.status != S.WAITING_CLIENT):
        ticket.status = S.ASSIGNED
        changed.append("status")
    _bump(ticket, *changed)
    now = timezone.now()
    event_record(
        ticket=ticket,
        kind=EventKind.ASSIGNED,
        actor=actor,
        data={
            "partner_id": partner.pk,
            "partner": partner.name,
            "engineer_id": ticket.engineer_id,
            "engineer": str(ticket.engineer) if ticket.engineer_id else None,
        },
        at=now,
    )
    clocks.on_assigned(ticket=ticket, actor=actor, previous_partner_id=previous_partner_id, at=now)
    return ticket


@transaction.atomic
def ticket_comment(
    *, actor: Actor, ticket_id: int, body: str, is_internal: bool = False
) -> Comment:
    """Add a comment. Internal notes are the provider's; the first public staff or partner
    reply is the ticket's first response."""
    body = (body or "").strip()
    if not body:
        raise _field_error("body", _("The comment is empty."))
    if is_internal and not actor.is_provider:
        raise PermissionDenied(_("Only provider staff can write internal notes."))
    ticket = ticket_lock(actor=actor, ticket_id=ticket_id)
    comment = Comment.objects.create(
        ticket=ticket,
        author_id=actor.user_id,
        author_role=actor.role,
        body=body,
        is_internal=is_internal,
    )
    # A comment is not an edit of the ticket: it leaves ``version`` alone, so somebody's
    # reply never makes another person's open form stale.
    first_response = not is_internal and not actor.is_client and ticket.first_response_at is None
    if first_response:
        ticket.first_response_at = comment.created_at
        ticket.save(update_fields=["first_response_at", "updated_at"])
    event_record(
        ticket=ticket,
        kind=EventKind.COMMENTED,
        actor=actor,
        data={"comment_id": comment.pk},
        is_internal=is_internal,
        at=comment.created_at,
    )
    if first_response:
        clocks.on_first_response(ticket=ticket, actor=actor, at=comment.created_at)
    return comment


@transaction.atomic
def ticket_attach(
    *,
    actor: Actor,
    ticket_id: int,
    uploaded_file,
    is_internal: bool = False,
    comment_id: int | None = None,
) -> Attachment:
    """Attach a file checked by content and size; it is stored under its SHA-256."""
    if is_internal and not actor.is_provider:
        raise PermissionDenied(_("Only provider staff can attach internal files."))
    checked = check_upload(uploaded_file)
    ticket = ticket_lock(actor=actor, ticket_id=ticket_id)
    if comment_id is not None:
        comment = Comment.objects.visible_to(actor).filter(pk=comment_id, ticket=ticket).first()
        if comment is None:
            raise NotFound(_("Comment not found."))
        # A file on an internal note is as internal as the note.
        is_internal = is_internal or comment.is_internal
    name = checked.name  # cleaned by check_upload: no path, no control characters
    attachment = Attachment(
        ticket=ticket,
        comment_id=comment_id,
        uploaded_by_id=actor.user_id,
        original_name=name[:255],
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        is_internal=is_internal,
    )
    attachment.file.save(checked.sha256, uploaded_file, save=False)
    attachment.save()
    event_record(
        ticket=ticket,
        kind=EventKind.ATTACHED,
        actor=actor,
        data={"attachment_id": attachment.pk, "name": attachment.original_name},
        is_internal=is_internal,
        at=attachment.created_at,
    )
    return attachment


@transaction.atomic
def ticket_reclassify(
    *,
    actor: Actor,
    ticket_id: int,
    priority: str | None = None,
    category: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Change priority and/or category (provider staff only: it changes what the SLA
    promises). The SLA clocks are recounted from the ticket's start with the new targets."""
    if not actor.is_provider:
        raise PermissionDenied(_("Only provider staff change priorities and categories."))
    if priority is not None:
        _choice("priority", priority, Priority)
    if category is not None:
        _choice("category", category, Category)
    ticket = ticket_lock(actor=actor, ticket_id=ticket_id, expected_version=expected_version)
    now = timezone.now()
    changed: list[str] = []
    for field, kind, value in (
        ("priority", EventKind.PRIORITY_CHANGED, priority),
        ("category", EventKind.CATEGORY_CHANGED, category),
    ):
        previous = getattr(ticket, field)
        if value is None or value == previous:
            continue
        setattr(ticket, field, value)
        changed.append(field)
        event_record(
            ticket=ticket, kind=kind, actor=actor, data={"from": previous, "to": value}, at=now
        )
    if not changed:
        return ticket
    _bump(ticket, *changed)
    clocks.on_reclassified(
        ticket=ticket, actor=actor, reason=f"{'_'.join(changed)}_changed", at=now
    )
    return ticket


# What ``ticket_update`` edits. Everything else about a ticket (its client, store, number,
# status, partner, version…) changes only through its own service, or never.
DETAIL_FIELDS = ("subject", "description", "external_id", "equipment_id")
EDITABLE_FIELDS = (*DETAIL_FIELDS, "priority", "category")
_PUBLIC_NAMES = {"equipment_id": "equipment"}  # as the API and the timeline name them


def _clean_details(ticket: Ticket, given: dict) -> dict:
    """``given`` detail fields checked and normalised against ``ticket``; field errors."""
    cleaned = {}
    if "subject" in given:
        subject = (given["subject"] or "").strip()
        if not subject:
            raise _field_error("subject", _("A subject is required."))
        if len(subject) > 200:
            raise _field_error("subject", _("At most 200 characters."))
        cleaned["subject"] = subject
    if "description" in given:
        cleaned["description"] = given["description"] or ""
    if "external_id" in given:
        external_id = (given["external_id"] or "").strip() or None
        if external_id and len(external_id) > 100:
            raise _field_error("external_id", _("At most 100 characters."))
        taken = (
            Ticket.objects.filter(client_id=ticket.client_id, external_id=external_id)
            .exclude(pk=ticket.pk)
            .exists()
        )
        if external_id and taken:
            raise _field_error("external_id", _("A ticket with this external id already exists."))
        cleaned["external_id"] = external_id
    if "equipment_id" in given:
        equipment_id = given["equipment_id"]
        if (
            equipment_id is not None
            and not Equipment.objects.filter(pk=equipment_id, store_id=ticket.store_id).exists()
        ):
            raise _field_error(
                "equipment", _("This equipment is not at store %s.") % ticket.store.code
            )
        cleaned["equipment_id"] = equipment_id
    return cleaned


@transaction.atomic
def ticket_update(
    *, actor: Actor, ticket_id: int, expected_version: int | None = None, **fields
) -> Ticket:
    """Edit a ticket's details: ``subject``, ``description``, ``external_id`` and
    ``equipment_id`` (provider staff and the client's people who see it), ``priority`` and
    ``category`` (provider staff only: through ``ticket_reclassify``, which recounts the SLA).

    Any other field is refused by name, so nothing else can be set through an edit. A
    closed or cancelled ticket is not edited. Changed details bump the version once and
    leave one ``edited`` event naming the fields; unchanged values change nothing. The
    clocks are left alone unless the priority or category changes.
    """
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        message = _("This field cannot be changed by an edit.")
        raise ValidationFailed(
            _("Not editable: %(fields)s.") % {"fields": ", ".join(unknown)},
            fields={name: [message] for name in unknown},
        )
    if not (actor.is_provider or actor.is_client):
        raise PermissionDenied(_("Partners cannot edit a ticket's details."))
    reclassify = {k: fields[k] for k in ("priority", "category") if fields.get(k) is not None}
    if reclassify and not actor.is_provider:
        raise PermissionDenied(_("Only provider staff change priorities and categories."))
    if "priority" in reclassify:
        _choice("priority", reclassify["priority"], Priority)
    if "category" in reclassify:
        _choice("category", reclassify["category"], Category)
    ticket = ticket_lock(actor=actor, ticket_id=ticket_id, expected_version=expected_version)
    if ticket.status in FINAL_STATUSES:
        raise InvalidTransition(
            _("A %(status)s ticket can no longer be edited.")
            % {"status": ticket.get_status_display()}
        )
    cleaned = _clean_details(ticket, {k: fields[k] for k in DETAIL_FIELDS if k in fields})
    changed = sorted(name for name, value in cleaned.items() if getattr(ticket, name) != value)
    if changed:
        data: dict = {"fields": [_PUBLIC_NAMES.get(name, name) for name in changed]}
        for name in changed:
            if name != "description":  # a long text: the timeline names it, no more
                data[_PUBLIC_NAMES.get(name, name)] = {
                    "from": getattr(ticket, name),
                    "to": cleaned[name],
                }
            setattr(ticket, name, cleaned[name])
        try:
            with transaction.atomic():
                _bump(ticket, *changed)
        except IntegrityError as exc:
            if "ticket_external_id_per_client" in str(exc):
                raise _field_error(
                    "external_id", _("A ticket with this external id already exists.")
                ) from None
            raise
        event_record(ticket=ticket, kind=EventKind.EDITED, actor=actor, data=data)
    if reclassify:
        ticket = ticket_reclassify(actor=actor, ticket_id=ticket.pk, **reclassify)
    return ticket
