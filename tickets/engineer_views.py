"""The engineer's screens, phone first: my jobs, and one job's visit step by step.

Partner engineers (and their managers, who may drive a visit too) only; others 404. Reads
through ``tickets.board_selectors``; every step through ``tickets.visits``, which records it
on the ticket's timeline. A refusal is shown on the page next to the form it concerns.
Check-in takes the phone's position (``static/js/app.js`` fills the fields from
``navigator.geolocation``); without JavaScript, or when the position is denied, the
engineer types the coordinates.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import ApplicationError, NotFound
from servicedesk.forms import add_service_error
from servicedesk.views import actor_required
from tickets import board_selectors, presenters, visits
from tickets.dispatch_forms import (
    CheckInForm,
    EtaForm,
    PhotoForm,
    ReportForm,
    ResolveForm,
    SignOffForm,
)

FIELD_ROLES = frozenset({Role.PARTNER_ENGINEER, Role.PARTNER_MANAGER})


def _field_actor(actor: Actor) -> None:
    if actor.role not in FIELD_ROLES:
        raise NotFound(_("Page not found."))


@actor_required
@require_GET
def my_jobs(request: HttpRequest, actor: Actor) -> HttpResponse:
    _field_actor(actor)
    now = timezone.now()
    today, later = board_selectors.engineer_jobs(actor=actor, now=now)
    return render(request, "engineer/jobs.html", {"now": now, "today": today, "later": later})


def _forms(ticket, visit, data: dict | None = None) -> dict:
    zone = ticket.store.time_zone
    kind = visit.checklist_kind if visit else "other"
    initial_report = {}
    if visit and visit.reported_at:
        initial_report = {"text": visit.work_report}
        for key, value in (visit.checklist or {}).items():
            initial_report[f"check_{key}"] = "yes" if value else "no"
        for i, part in enumerate(visit.parts_used or []):
            initial_report.update(
                {
                    f"part_{i}_name": part.get("name"),
                    f"part_{i}_qty": part.get("qty"),
                    f"part_{i}_serial": part.get("serial", ""),
                }
            )
    forms = {
        "eta_form": EtaForm(zone=zone),
        "checkin_form": CheckInForm(),
        "report_form": ReportForm(kind=kind, initial=initial_report),
        "photo_form": PhotoForm(),
        "signoff_form": SignOffForm(),
        "resolve_form": ResolveForm(),
    }
    forms.update(data or {})
    return forms


def _render_job(
    request: HttpRequest,
    actor: Actor,
    ticket_id: int,
    *,
    status: int = 200,
    error: str = "",
    **bound,
) -> HttpResponse:
    ticket, visit = board_selectors.engineer_visit(actor=actor, ticket_id=ticket_id)
    now = timezone.now()
    context = {
        "ticket": ticket,
        "visit": visit,
        "now": now,
        "error": error,
        "timeline": presenters.timeline(actor, ticket),
        "photos": list(visit.photos.all()) if visit else [],
        "mark_optional": True,
        **_forms(ticket, visit, bound),
    }
    response = render(request, "engineer/job.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@actor_required
@require_GET
def job(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    _field_actor(actor)
    return _render_job(request, actor, ticket_id)


def _visit_id(actor: Actor, ticket_id: int) -> int:
    _ticket, visit = board_selectors.engineer_visit(actor=actor, ticket_id=ticket_id)
    if visit is None:
        raise NotFound(_("Visit not found."))
    return visit.pk


def _step(request, actor, ticket_id, call, notice: str, form_name: str = "", form=None):
    """Run one visit service; on refusal show the job with the reason (on ``form``)."""
    try:
        call()
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        if form is None:
            return _render_job(request, actor, ticket_id, status=exc.status_code, error=exc.message)
        add_service_error(form, exc)
        if exc.fields and not any(name in form.fields for name in exc.fields):
            form.add_error(None, exc.message)
        return _render_job(request, actor, ticket_id, status=exc.status_code, **{form_name: form})
    messages.success(request, notice)
    return redirect("field_job", ticket_id=ticket_id)


@actor_required
@require_POST
def set_eta(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    _field_actor(actor)
    ticket, visit = board_selectors.engineer_visit(actor=actor, ticket_id=ticket_id)
    if visit is None:
        raise NotFound(_("Visit not found."))
    form = EtaForm(request.POST, zone=ticket.store.time_zone)
    if not form.is_valid():
        return _render_job(request, actor, ticket_id, status=400, eta_form=form)
    return _step(
        request,
        actor,
        ticket_id,
        lambda: visits.visit_set_eta(actor=actor, visit_id=visit.pk, eta=form.cleaned_data["eta"]),
        _("Arrival time updated."),
        "eta_form",
        form,
    )


@actor_required
@require_POST
def en_route(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    _field_actor(actor)
    visit_id = _visit_id(actor, ticket_id)
    return _step(
        request,
        actor,
        ticket_id,
        lambda: visits.visit_en_route(actor=actor, visit_id=visit_id),
        _("You are on the way."),
    )


@actor_required
@require_POST
def check_in(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    _field_actor(actor)
    visit_id = _visit_id(actor, ticket_id)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        return _render_job(request, actor, ticket_id, status=400, checkin_form=form)
    return _step(
        request,
        actor,
        ticket_id,
        lambda: visits.visit_check_in(
            actor=actor,
            visit_id=visit_id,
            latitude=form.cleaned_data["latitude"],
            longitude=form.cleaned_data["longitude"],
        ),
        _("Checked in at the store."),
        "checkin_form",
        form,
    )


@actor_required
@require_POST
def check_out(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    _field_actor(actor)
    visit_id = _visit_id(actor, ticket_id)
    return _step(
        request,
        actor,
        ticket_id,
        lambda: visits.visit_check_out(actor=actor, visit_id=visit_id),
        _("Checked out."),
    )


@actor_required
@require_POST
def report(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    _field_actor(actor)
    _ticket, visit = board_selectors.engineer_visit(actor=actor, ticket_id=ticket_id)
    if visit is None:
        raise NotFound(_("Visit not found."))
    form = ReportForm(request.POST, kind=visit.checklist_kind or "other")
    if not form.is_valid():
        return _render_job(request, actor, ticket_id, status=400, report_form=form)
    return _step(
        request,
        actor,
        ticket_id,
        lambda: visits.visit_report(
            actor=actor,
            visit_id=visit.pk,
            checklist=form.checklist(),
            parts=form.parts(),
            text=form.cleaned_data["text"],
        ),
        _("Work report saved."),
        "report_form",
        form,
    )


@actor_required
@require_POST
def photo(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    _field_actor(actor)
    visit_id = _visit_id(actor, ticket_id)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_job(request, actor, ticket_id, status=400, photo_form=form)
    return _step(
        request,
        actor,
        ticket_id,
        lambda: visits.visit_attach_photo(
            actor=actor, visit_id=visit_id, uploaded_file=form.cleaned_data["file"]
        ),
        _("Photo added."),
        "photo_form",
        form,
    )


@actor_required
@require_POST
def sign_off(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    _field_actor(actor)
    visit_id = _visit_id(actor, ticket_id)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        return _render_job(request, actor, ticket_id, status=400, signoff_form=form)
    return _step(
        request,
        actor,
        ticket_id,
        lambda: visits.visit_sign_off_with_credentials(
            actor=actor,
            visit_id=visit_id,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        ),
        _("The store signed off the work."),
        "signoff_form",
        form,
    )


@actor_required
@require_POST
def resolve(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    _field_actor(actor)
    visit_id = _visit_id(actor, ticket_id)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return _render_job(request, actor, ticket_id, status=400, resolve_form=form)
    return _step(
        request,
        actor,
        ticket_id,
        lambda: visits.visit_resolve(
            actor=actor, visit_id=visit_id, note=form.cleaned_data["note"]
        ),
        _("The job is resolved."),
        "resolve_form",
        form,
    )
