"""The dispatcher's board: live field jobs by lane, alerts, the ranking and one-click offers.

Thin: reads through ``tickets.board_selectors`` and ``tickets.dispatch.dispatch_ranking``,
writes through ``tickets.dispatch.offer_make``. Provider staff only (dispatcher, provider
admin); everyone else gets 404 (the board does not exist for them). The board's lanes are a
fragment that htmx polls; a plain browser reloads the page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import ApplicationError, NotFound
from servicedesk.notifications import notifications_mark_read
from servicedesk.selectors import notification_list
from servicedesk.views import actor_required, is_htmx
from tickets import board_selectors, dispatch, selectors

BOARD_ROLES = frozenset({Role.DISPATCHER, Role.PROVIDER_ADMIN})
POLL_SECONDS = 15


def _board_actor(actor: Actor) -> None:
    if actor.role not in BOARD_ROLES:
        raise NotFound(_("Page not found."))


def _board_url(filters: dict[str, object]) -> str:
    query = urlencode({k: v for k, v in filters.items() if v})
    return reverse("dispatch_board") + (f"?{query}" if query else "")


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@actor_required
@require_GET
def board(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The board page, or (htmx) just its live fragment: alerts and lanes."""
    _board_actor(actor)
    context = _live_context(request, actor, request.GET)
    if is_htmx(request):
        response = render(request, "dispatch/partials/board_live.html", context)
    else:
        context["choices"] = board_selectors.board_choices(actor=actor)
        response = render(request, "dispatch/board.html", context)
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, ["HX-Request"])
    return response


@actor_required
@require_GET
def ranking(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    """Who could take the job and why (or why not), with an offer button per eligible one."""
    _board_actor(actor)
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    return _render_ranking(request, actor, ticket)


def _render_ranking(
    request: HttpRequest, actor: Actor, ticket, *, error: str = "", status: int = 200
) -> HttpResponse:
    now = timezone.now()
    context = {
        "ticket": ticket,
        "now": now,
        "ranking": dispatch.dispatch_ranking(actor=actor, ticket_id=ticket.pk, now=now),
        "live_offer": selectors.ticket_offers(actor=actor, ticket=ticket)
        .filter(status="offered")
        .first(),
        "error": error,
        "back": request.GET.get("back") or reverse("dispatch_board"),
    }
    return render(request, "dispatch/ranking.html", context, status=status)


@actor_required
@require_POST
def offer(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    """One click: offer the job to the chosen partner (``offer_make``)."""
    _board_actor(actor)
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    try:
        partner_id = int(request.POST.get("partner", ""))
    except ValueError:
        partner_id = 0
    try:
        made = dispatch.offer_make(actor=actor, ticket_id=ticket.pk, partner_id=partner_id)
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise
        ticket = selectors.ticket_get(actor=actor, ticket_id=ticket.pk)
        return _render_ranking(request, actor, ticket, error=exc.message, status=exc.status_code)
    messages.success(
        request,
        _("%(ref)s offered to %(partner)s.")
        % {"ref": ticket.reference, "partner": made.partner.name},
    )
    return redirect(_safe_next(request, reverse("dispatch_board")))


@actor_required
@require_POST
def alert_read(request: HttpRequest, actor: Actor, alert_id: int | None = None) -> HttpResponse:
    """Mark one of the user's alerts (or all of them) as read; never someone else's."""
    _board_actor(actor)
    mine = notification_list(user=request.user)
    if alert_id is not None and not mine.filter(pk=alert_id).exists():
        # Another user's alert is out of scope: 404, as the API answers, not a silent no-op.
        raise NotFound(_("Alert not found."))
    notifications_mark_read(user=request.user, notification_id=alert_id)
    if is_htmx(request):
        return _live_after_write(request, actor)
    return redirect(_safe_next(request, reverse("dispatch_board")))


def _live_after_write(request: HttpRequest, actor: Actor) -> HttpResponse:
    context = _live_context(request, actor, request.POST)
    return render(request, "dispatch/partials/board_live.html", context)


def _live_context(request: HttpRequest, actor: Actor, params) -> dict:
    now = timezone.now()
    filters = board_selectors.board_filters(params)
    return {
        "now": now,
        "filters": filters,
        "lanes": board_selectors.board_lanes(actor=actor, filters=filters, now=now),
        "alerts": board_selectors.user_alerts(user=request.user),
        "poll_seconds": POLL_SECONDS,
        "board_url": _board_url(filters),
    }
