"""The partner portal: offers to answer, jobs in progress, the engineers' jobs, history.

Partner managers only (others: 404). Reads through ``tickets.partner_selectors`` (scoped to
the partner, nothing internal), writes through ``tickets.dispatch.offer_accept`` and
``offer_decline``; a refusal comes back on the offer's own form with everything typed kept.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from partners import selectors as partner_selectors
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import ApplicationError, NotFound
from servicedesk.forms import add_service_error
from servicedesk.views import actor_required
from tickets import dispatch
from tickets import partner_selectors as portal_selectors
from tickets.dispatch_forms import AcceptForm, DeclineForm


def _portal_actor(actor: Actor) -> None:
    if actor.role != Role.PARTNER_MANAGER:
        raise NotFound(_("Page not found."))


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _engineers(actor: Actor) -> list[tuple[int, str]]:
    return partner_selectors.partner_engineers(actor=actor, partner_id=actor.organisation_id)


def _render_portal(
    request: HttpRequest,
    actor: Actor,
    *,
    bound: dict[int, dict] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The portal; ``bound`` holds the forms of the offer the user just answered."""
    now = timezone.now()
    engineers = _engineers(actor)
    bound = bound or {}
    offers = []
    for offer in portal_selectors.partner_offers_awaiting(actor=actor):
        zone = offer.ticket.store.time_zone
        forms = bound.get(offer.pk, {})
        offers.append(
            {
                "offer": offer,
                "zone": zone,
                "seconds": max(int((offer.deadline - now).total_seconds()), 0),
                "accept_form": forms.get("accept")
                or AcceptForm(
                    engineers=engineers, zone=zone, prefix=f"o{offer.pk}", auto_id="id_%s"
                ),
                "decline_form": forms.get("decline")
                or DeclineForm(prefix=f"o{offer.pk}", auto_id="id_%s"),
                "error": forms.get("error", ""),
            }
        )
    engineer_id = _int(request.GET.get("engineer"))
    if engineer_id not in {pk for pk, _name in engineers}:
        engineer_id = None
    context = {
        "now": now,
        "offers": offers,
        "jobs": list(portal_selectors.partner_jobs(actor=actor, engineer_id=engineer_id)),
        "engineers": engineers,
        "engineer_id": engineer_id,
        "history": portal_selectors.partner_job_history(actor=actor, limit=50),
        "mark_optional": True,
    }
    response = render(request, "portal/portal.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@actor_required
@require_GET
def portal(request: HttpRequest, actor: Actor) -> HttpResponse:
    _portal_actor(actor)
    return _render_portal(request, actor)


def _own_offer(actor: Actor, offer_id: int):
    offer = (
        portal_selectors.partner_offers_awaiting(actor=actor).filter(pk=offer_id).first()
        if actor
        else None
    )
    return offer


@actor_required
@require_POST
def offer_accept(request: HttpRequest, actor: Actor, offer_id: int) -> HttpResponse:
    """Take the job: an engineer and an ETA in the store's local time."""
    _portal_actor(actor)
    offer = _own_offer(actor, offer_id)
    zone = offer.ticket.store.time_zone if offer else "UTC"
    form = AcceptForm(
        request.POST,
        engineers=_engineers(actor),
        zone=zone,
        prefix=f"o{offer_id}",
        auto_id="id_%s",
    )
    if offer is None:
        # Not live any more (or never ours): the service says which, in words.
        return _answer_refused(request, actor, offer_id, form, accept=True)
    if not form.is_valid():
        return _render_portal(request, actor, bound={offer.pk: {"accept": form}}, status=400)
    try:
        dispatch.offer_accept(
            actor=actor,
            offer_id=offer.pk,
            engineer_id=form.cleaned_data["engineer"],
            eta=form.cleaned_data["eta"],
        )
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        add_service_error(form, exc)
        bound = {offer.pk: {"accept": form}}
        return _render_portal(request, actor, bound=bound, status=exc.status_code)
    messages.success(request, _("You took %(ref)s.") % {"ref": offer.ticket.reference})
    return redirect("portal")


def _answer_refused(request, actor, offer_id: int, form, *, accept: bool) -> HttpResponse:
    """An answer to an offer that is no longer live: the service's own message, or 404."""
    try:
        if accept:
            dispatch.offer_accept(actor=actor, offer_id=offer_id, engineer_id=0, eta=timezone.now())
        else:
            dispatch.offer_decline(actor=actor, offer_id=offer_id, reason="-")
    except NotFound:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _render_portal(request, actor, status=exc.status_code)
    return redirect("portal")  # pragma: no cover - a live offer is found above


@actor_required
@require_POST
def offer_decline(request: HttpRequest, actor: Actor, offer_id: int) -> HttpResponse:
    """Refuse the job with a reason (required)."""
    _portal_actor(actor)
    offer = _own_offer(actor, offer_id)
    form = DeclineForm(request.POST, prefix=f"o{offer_id}", auto_id="id_%s")
    if offer is None:
        return _answer_refused(request, actor, offer_id, form, accept=False)
    if not form.is_valid():
        return _render_portal(request, actor, bound={offer.pk: {"decline": form}}, status=400)
    try:
        dispatch.offer_decline(actor=actor, offer_id=offer.pk, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        add_service_error(form, exc)
        return _render_portal(
            request, actor, bound={offer.pk: {"decline": form}}, status=exc.status_code
        )
    messages.success(request, _("You declined %(ref)s.") % {"ref": offer.ticket.reference})
    return redirect("portal")
