"""On site: an engineer's visit, from the ETA to the store's sign-off and the resolution.

The job's engineer (or its partner's manager) drives the visit: ETA, en route, check-in
(the arrival clocks stop; the phone's position is recorded and a check-in farther than
``CHECK_IN_FAR_METRES`` from the store is flagged), check-out, the work report (a checklist
per equipment kind, parts, text, photos), and the resolution. The store confirms the work:
a store_staff user of that store (or a client manager of its client) signs off in the portal,
or on the engineer's screen with their own username and password.

Every step is a ``visit_updated`` event with ``step``; status moves go through
``ticket_transition``, so the clocks follow. Times are the server's: a phone's clock never
decides whether an OLA was met.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.actors import Actor, actor_from_membership
from servicedesk.choices import Role
from servicedesk.exceptions import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from servicedesk.models import Membership
from tickets import services
from tickets.choices import EventKind, TicketStatus
from tickets.constants import CHECK_IN_FAR_METRES, VISIT_CHECKLISTS
from tickets.events import event_record
from tickets.lock_objects import ticket_lock
from tickets.models import Attachment, Ticket, Visit
from tickets.uploads import check_upload

S = TicketStatus
EARTH_RADIUS_M = 6_371_000
MAX_PART_QTY = 1000


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def distance_label(metres: int) -> str:
    """``640 m`` or ``2.3 km``."""
    return f"{metres} m" if metres < 1000 else f"{metres / 1000:.1f} km"


# --- access --------------------------------------------------------------------------------


def _visit_for(actor: Actor, visit_id: int, *, open_only: bool = True) -> tuple[Ticket, Visit]:
    """The visit and its ticket, locked, for the job's engineer or its partner's manager.

    NotFound for a visit the actor may not see; Conflict for one that was called off or has
    ended (``open_only``), or whose partner no longer holds the job.
    """
    if actor.role not in (Role.PARTNER_ENGINEER, Role.PARTNER_MANAGER):
        raise PermissionDenied(_("Only the job's engineer or the partner's manager does this."))
    ticket_id = (
        Visit.objects.visible_to(actor).filter(pk=visit_id).values_list("ticket_id", flat=True)
    ).first()
    if ticket_id is None:
        raise NotFound(_("Visit not found."))
    ticket = ticket_lock(actor=actor, ticket_id=ticket_id)
    visit = Visit.objects.select_for_update(of=("self",)).get(pk=visit_id)
    if actor.role == Role.PARTNER_ENGINEER and visit.engineer_id != actor.user_id:
        raise PermissionDenied(_("This visit is another engineer's."))
    if visit.cancelled_at is not None or ticket.partner_id != visit.partner_id:
        raise Conflict(_("This visit was called off: the job was taken back."), code="visit_off")
    if open_only and visit.checked_out_at is not None:
        raise Conflict(_("This visit is over: the engineer checked out."), code="visit_over")
    return ticket, visit


def _record(
    ticket: Ticket,
    visit: Visit,
    actor: Actor,
    step: str,
    at: datetime,
    *,
    is_internal: bool = False,
    **data: Any,
) -> None:
    event_record(
        ticket=ticket,
        kind=EventKind.VISIT_UPDATED,
        actor=actor,
        is_internal=is_internal,
        at=at,
        data={"visit_id": visit.pk, "partner_id": visit.partner_id, "step": step, **data},
    )


def _future_eta(eta: datetime | None, now: datetime) -> datetime:
    if eta is None or timezone.is_naive(eta):
        message = _("Give the ETA as a date and time with its time zone.")
        raise ValidationFailed(message, fields={"eta": [message]})
    if eta <= now:
        message = _("The ETA must be in the future.")
        raise ValidationFailed(message, fields={"eta": [message]})
    return eta


# --- on the way ----------------------------------------------------------------------------


@transaction.atomic
def visit_set_eta(*, actor: Actor, visit_id: int, eta: datetime) -> Visit:
    """A new ETA (in the future), until the engineer is on site."""
    ticket, visit = _visit_for(actor, visit_id)
    now = timezone.now()
    if visit.checked_in_at is not None:
        raise InvalidTransition(_("The engineer is already on site."))
    previous = visit.eta
    visit.eta = _future_eta(eta, now)
    visit.save(update_fields=["eta"])
    _record(
        ticket,
        visit,
        actor,
        "eta",
        now,
        eta=visit.eta.isoformat(),
        previous_eta=previous.isoformat() if previous else None,
    )
    return visit


@transaction.atomic
def visit_en_route(*, actor: Actor, visit_id: int) -> Visit:
    """The engineer sets off: the ticket becomes ``en_route``."""
    ticket, visit = _visit_for(actor, visit_id)
    if ticket.status != S.ACCEPTED:
        raise InvalidTransition(
            _("The job is %(status)s: it can only set off once accepted.")
            % {"status": ticket.get_status_display()}
        )
    now = timezone.now()
    visit.en_route_at = now
    visit.save(update_fields=["en_route_at"])
    services.ticket_transition(actor=actor, ticket_id=ticket.pk, to_status=S.EN_ROUTE)
    _record(ticket, visit, actor, "en_route", now)
    return visit


def _coordinate(name: str, value: Any, limit: int) -> Decimal:
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite() or abs(number) > limit:
        message = _("Not a valid %(name)s.") % {"name": name}
        raise ValidationFailed(message, fields={name: [message]})
    return number


@transaction.atomic
def visit_check_in(
    *,
    actor: Actor,
    visit_id: int,
    latitude: float | Decimal | str,
    longitude: float | Decimal | str,
    at: datetime | None = None,
) -> Visit:
    """The engineer is on site: the ticket becomes ``on_site`` (the arrival clocks stop at
    the server's now). The phone's position and its distance to the store are recorded; a
    check-in farther than ``CHECK_IN_FAR_METRES`` is flagged with an internal event. ``at``
    is the phone's own clock, kept for audit only."""
    lat = _coordinate("latitude", latitude, 90)
    lon = _coordinate("longitude", longitude, 180)
    ticket, visit = _visit_for(actor, visit_id)
    if ticket.status not in (S.ACCEPTED, S.EN_ROUTE):
        raise InvalidTransition(
            _("The job is %(status)s: check-in needs an accepted job.")
            % {"status": ticket.get_status_display()}
        )
    now = timezone.now()
    store = ticket.store
    distance = None
    if store.latitude is not None and store.longitude is not None:
        metres = haversine_m(float(store.latitude), float(store.longitude), float(lat), float(lon))
        distance = round(metres)
    visit.checked_in_at = now
    visit.check_in_device_at = at
    visit.check_in_latitude, visit.check_in_longitude = lat, lon
    visit.check_in_distance_m = distance
    visit.check_in_flagged = distance is not None and distance > CHECK_IN_FAR_METRES
    visit.save(
        update_fields=[
            "checked_in_at",
            "check_in_device_at",
            "check_in_latitude",
            "check_in_longitude",
            "check_in_distance_m",
            "check_in_flagged",
        ]
    )
    services.ticket_transition(actor=actor, ticket_id=ticket.pk, to_status=S.ON_SITE)
    _record(ticket, visit, actor, "checked_in", now)
    if visit.check_in_flagged:
        _record(
            ticket,
            visit,
            actor,
            "check_in_far",
            now,
            is_internal=True,
            distance_m=distance,
            note=_("check-in far from the store (%(distance)s)")
            % {"distance": distance_label(distance)},
        )
    return visit


@transaction.atomic
def visit_check_out(*, actor: Actor, visit_id: int) -> Visit:
    """The engineer leaves the store."""
    ticket, visit = _visit_for(actor, visit_id)
    if visit.checked_in_at is None:
        raise InvalidTransition(_("Check in before checking out."))
    now = timezone.now()
    visit.checked_out_at = now
    visit.save(update_fields=["checked_out_at"])
    _record(ticket, visit, actor, "checked_out", now)
    return visit


# --- the report ----------------------------------------------------------------------------


def _checklist_errors(kind: str, checklist: Any) -> dict[str, list[str]]:
    expected = [key for key, _question in VISIT_CHECKLISTS[kind]]
    if not isinstance(checklist, dict):
        return {"checklist": [_("Answer the checklist.")]}
    errors: dict[str, list[str]] = {}
    for key in expected:
        if key not in checklist:
            errors[f"checklist.{key}"] = [_("Answer this item.")]
        elif not isinstance(checklist[key], bool):
            errors[f"checklist.{key}"] = [_("Answer yes or no.")]
    unknown = sorted(set(checklist) - set(expected))
    if unknown:
        errors["checklist"] = [
            _("Not on the %(kind)s checklist: %(keys)s.")
            % {"kind": kind, "keys": ", ".join(unknown)}
        ]
    return errors


def _part_errors(index: int, part: Any) -> dict[str, list[str]]:
    prefix = f"parts.{index}"
    if not isinstance(part, dict):
        return {prefix: [_("A part is a name, a quantity and an optional serial number.")]}
    errors: dict[str, list[str]] = {}
    name = part.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors[f"{prefix}.name"] = [_("Name the part (up to 200 characters).")]
    qty = part.get("qty")
    if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= MAX_PART_QTY:
        errors[f"{prefix}.qty"] = [_("A whole number from 1 to %s.") % MAX_PART_QTY]
    serial = part.get("serial", "")
    if serial is not None and (not isinstance(serial, str) or len(serial) > 120):
        errors[f"{prefix}.serial"] = [_("A serial number of up to 120 characters.")]
    unknown = sorted(set(part) - {"name", "qty", "serial"})
    if unknown:
        errors[prefix] = [_("Unknown fields: %s.") % ", ".join(unknown)]
    return errors


def _clean_parts(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for part in parts:
        row: dict[str, Any] = {"name": part["name"].strip(), "qty": part["qty"]}
        if (part.get("serial") or "").strip():
            row["serial"] = part["serial"].strip()
        cleaned.append(row)
    return cleaned


@transaction.atomic
def visit_report(
    *,
    actor: Actor,
    visit_id: int,
    checklist: dict[str, bool],
    parts: list[dict[str, Any]],
    text: str,
) -> Visit:
    """The work report, after check-in: every item of the equipment kind's checklist
    answered true or false, the parts used (name, qty ≥ 1, optional serial) and what was
    done. Field errors name the item (``checklist.power``, ``parts.0.qty``). May be
    corrected until the job is resolved."""
    ticket, visit = _visit_for(actor, visit_id, open_only=False)
    if visit.checked_in_at is None:
        raise InvalidTransition(_("Check in before writing the report."))
    if ticket.status not in (S.ON_SITE, S.WAITING_CLIENT):
        raise InvalidTransition(_("The job is resolved: its report can no longer change."))
    kind = visit.checklist_kind if visit.checklist_kind in VISIT_CHECKLISTS else "other"
    errors = _checklist_errors(kind, checklist)
    if not isinstance(parts, list):
        errors["parts"] = [_("Parts are a list.")]
    else:
        for index, part in enumerate(parts):
            errors.update(_part_errors(index, part))
    text = (text or "").strip() if isinstance(text, str) else ""
    if not text:
        errors["text"] = [_("Say what was done.")]
    if errors:
        raise ValidationFailed(_("The work report is not complete."), fields=errors)
    now = timezone.now()
    visit.checklist_kind = kind
    visit.checklist = {key: checklist[key] for key, _question in VISIT_CHECKLISTS[kind]}
    visit.parts_used = _clean_parts(parts)
    visit.work_report = text
    visit.reported_at = now
    visit.save(
        update_fields=["checklist_kind", "checklist", "parts_used", "work_report", "reported_at"]
    )
    failed = [key for key, ok in visit.checklist.items() if not ok]
    _record(ticket, visit, actor, "reported", now, checks_failed=failed, parts=len(parts))
    return visit


@transaction.atomic
def visit_attach_photo(*, actor: Actor, visit_id: int, uploaded_file) -> Attachment:
    """A photo for the visit's report (an image, checked by content), through
    ``ticket_attach`` and linked to the visit."""
    ticket, visit = _visit_for(actor, visit_id, open_only=False)
    if not check_upload(uploaded_file).content_type.startswith("image/"):
        message = _("A visit photo must be an image.")
        raise ValidationFailed(message, fields={"file": [message]})
    attachment = services.ticket_attach(
        actor=actor, ticket_id=ticket.pk, uploaded_file=uploaded_file
    )
    attachment.visit = visit
    attachment.save(update_fields=["visit"])
    return attachment


# --- the store's sign-off and the resolution ------------------------------------------------


def _sign_off(signer: Actor, visit_id: int, *, on_device: bool, engineer: Actor | None) -> Visit:
    """The core of both sign-offs: ``signer`` is a store user allowed for the visit's store."""
    ticket_id = (
        Visit.objects.visible_to(signer).filter(pk=visit_id).values_list("ticket_id", flat=True)
    ).first()
    if ticket_id is None:
        raise NotFound(_("Visit not found."))
    ticket = ticket_lock(actor=signer, ticket_id=ticket_id)
    if not _signs_for_store(signer, ticket):
        raise PermissionDenied(_("Only the store's staff or the client's managers sign off."))
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("signed_off_by")
        .get(pk=visit_id)
    )
    if visit.cancelled_at is not None:
        raise Conflict(_("This visit was called off: there is nothing to sign."), code="visit_off")
    if visit.reported_at is None:
        raise InvalidTransition(_("The engineer has not written the work report yet."))
    if visit.signed_off_by_id is not None:
        raise Conflict(
            _("Already signed off by %(who)s.") % {"who": visit.signed_off_by}, code="signed_off"
        )
    now = timezone.now()
    visit.signed_off_by_id = signer.user_id
    visit.signed_off_at = now
    visit.signed_off_on_device = on_device
    visit.save(update_fields=["signed_off_by", "signed_off_at", "signed_off_on_device"])
    _record(
        ticket,
        visit,
        signer,
        "signed_off",
        now,
        signer=str(signer.user) if signer.user else signer.organisation_name,
        on_engineer_device=on_device,
        engineer_id=engineer.user_id if engineer else None,
    )
    return visit


def _signs_for_store(signer: Actor, ticket: Ticket) -> bool:
    if signer.organisation_id != ticket.client_id:
        return False
    if signer.role == Role.CLIENT_MANAGER:
        return True
    return signer.role == Role.STORE_STAFF and ticket.store_id in signer.store_ids


@transaction.atomic
def visit_sign_off(*, actor: Actor, visit_id: int) -> Visit:
    """The store confirms the reported work: store staff of that store, or a client manager
    of its client (in the portal, at any time after the report)."""
    return _sign_off(actor, visit_id, on_device=False, engineer=None)


@transaction.atomic
def visit_sign_off_with_credentials(
    *, actor: Actor, visit_id: int, username: str, password: str
) -> Visit:
    """The store confirms on the engineer's screen: a store employee types their own
    username and password. The engineer's session never signs for the store: the
    credentials must belong to staff of *this* store (or a manager of its client)."""
    ticket, _visit = _visit_for(actor, visit_id, open_only=False)
    user = authenticate(username=username or "", password=password or "")
    if user is None:
        raise PermissionDenied(_("The store employee's username or password is wrong."))
    candidates = (
        Membership.objects.filter(user=user, is_active=True, organisation_id=ticket.client_id)
        .filter(
            Q(role=Role.CLIENT_MANAGER)
            | Q(role=Role.STORE_STAFF, store_assignments__store_id=ticket.store_id)
        )
        .select_related("organisation", "user")
        .order_by("role")
    )
    membership = candidates.first()
    if membership is None:
        raise PermissionDenied(
            _("%(user)s is not on the staff of store %(store)s.")
            % {"user": user, "store": ticket.store.code}
        )
    return _sign_off(actor_from_membership(membership), visit_id, on_device=True, engineer=actor)


@transaction.atomic
def visit_resolve(*, actor: Actor, visit_id: int, note: str = "") -> Ticket:
    """The engineer resolves the job after the report (checking out if still on site). The
    store's sign-off is not required to resolve: the store may sign later in the portal."""
    ticket, visit = _visit_for(actor, visit_id, open_only=False)
    if visit.reported_at is None:
        raise InvalidTransition(_("Write the work report before resolving the job."))
    now = timezone.now()
    if visit.checked_out_at is None:
        visit.checked_out_at = now
        visit.save(update_fields=["checked_out_at"])
        _record(ticket, visit, actor, "checked_out", now)
    return services.ticket_transition(
        actor=actor, ticket_id=ticket.pk, to_status=S.RESOLVED, note=note
    )
