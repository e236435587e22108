"""HTML views for tickets: thin — parse the request, call a selector or a service, render.

Every view runs as an actor (``servicedesk.views.actor_required``): out-of-scope tickets are
404, reads go through ``tickets.selectors`` and writes through ``tickets.services``. Writes on
the ticket page answer htmx with the refreshed ticket fragment and plain browsers with a
redirect (or the page with its errors), so the page works with and without JavaScript.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients import selectors as client_selectors
from partners import selectors as partner_selectors
from servicedesk.actors import Actor
from servicedesk.exceptions import ApplicationError, NotFound, PermissionDenied
from servicedesk.forms import add_service_error
from servicedesk.views import actor_required, is_htmx
from tickets import filtersets, presenters, selectors, services
from tickets.choices import TicketStatus
from tickets.constants import OPEN_STATUSES
from tickets.downloads import attachment_response
from tickets.forms import (
    AssignForm,
    AttachmentForm,
    CommentForm,
    StatusForm,
    TicketCreateForm,
    TicketFilterForm,
    equipment_choices,
    people_choices,
)
from tickets.models import Ticket

PAGE_SIZE = 50
# From this many stores on, the new-ticket form offers a search box over the store list.
STORE_SEARCH_FROM = 10
# The statuses the home page counts: everything still in motion, and what awaits sign-off.
HOME_STATUSES = [s for s in TicketStatus if s in OPEN_STATUSES or s == TicketStatus.RESOLVED]


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _vary_on_htmx(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ["HX-Request"])
    return response


class TicketListForm(TicketFilterForm):
    """The list's filter bar with the SLA filters and the sort order (HTML list only: the
    API's keyset paginator owns ``ordering`` there)."""

    breached = forms.BooleanField(label=gettext_lazy("SLA breached"), required=False)
    at_risk = forms.BooleanField(label=gettext_lazy("SLA at risk"), required=False)
    ordering = forms.ChoiceField(
        label=gettext_lazy("Sort"),
        required=False,
        choices=[("", gettext_lazy("Newest first")), ("due", gettext_lazy("Due soonest"))],
    )


# --- home and list ---------------------------------------------------------------------------


@actor_required
@require_GET
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The actor's desk: open tickets by status (one query) and the latest open ones."""
    visible = selectors.ticket_list(actor=actor)
    rows = visible.order_by().values("status").annotate(n=Count("pk"))
    by_status = {row["status"]: row["n"] for row in rows}
    counts = [(status, by_status.get(status, 0)) for status in HOME_STATUSES]
    context = {
        "counts": counts,
        "open_total": sum(n for s, n in by_status.items() if s in OPEN_STATUSES),
        "latest": list(visible.open()[:10]),
    }
    return render(request, "home.html", context)


@actor_required
@require_GET
def ticket_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Tickets the actor may see, filtered by ``TicketFilterSet`` from the URL, 50 a page,
    newest first or by the nearest running SLA due (``?ordering=due``)."""
    tickets = selectors.ticket_list(actor=actor, filters=request.GET)
    tickets = filtersets.order_ticket_list(tickets, request.GET.get("ordering"))
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": presenters.list_rows(page.object_list, timezone.now()),
        "filter_form": TicketListForm(request.GET or None),
        "kept": [(k, v) for k in TicketFilterForm.KEPT for v in request.GET.getlist(k)],
        "filtered": any(k != "page" and v for k, v in request.GET.items()),
    }
    template = "tickets/partials/ticket_results.html" if is_htmx(request) else None
    return _vary_on_htmx(render(request, template or "tickets/ticket_list.html", context))


# --- creating ---------------------------------------------------------------------------------


@actor_required
@require_http_methods(["GET", "POST"])
def ticket_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Open a ticket at one of the actor's stores; errors come back inline, input kept."""
    if not presenters.can_create_ticket(actor):
        raise PermissionDenied(_("Partners cannot open tickets."))
    stores = list(
        client_selectors.store_list(actor=actor).filter(is_active=True).order_by("client", "code")
    )
    data = request.POST if request.method == "POST" else None
    store_id = _int(request.POST.get("store") or request.GET.get("store"))
    if store_id is None and len(stores) == 1:
        store_id = stores[0].pk
    equipment = (
        client_selectors.equipment_list(actor=actor).filter(store_id=store_id) if store_id else []
    )
    form = TicketCreateForm(data, stores=stores, equipment=equipment, initial={"store": store_id})
    if data is not None and form.is_valid():
        fields = form.cleaned_data
        try:
            ticket = services.ticket_create(
                actor=actor,
                store_id=fields["store"],
                subject=fields["subject"],
                description=fields["description"],
                priority=fields["priority"],
                category=fields["category"],
                needs_visit=fields["needs_visit"],
                equipment_id=fields["equipment"],
            )
        except ApplicationError as exc:
            if isinstance(exc, NotFound):
                raise
            add_service_error(form, exc)
        else:
            messages.success(request, _("Ticket %(ref)s is open.") % {"ref": ticket.reference})
            return redirect("ticket_detail", ticket_id=ticket.pk)
    context = {"form": form, "store_search": len(stores) > STORE_SEARCH_FROM, "mark_optional": True}
    status = 400 if form.errors else 200
    return render(request, "tickets/ticket_create.html", context, status=status)


@actor_required
@require_GET
def equipment_options(request: HttpRequest, actor: Actor) -> HttpResponse:
    """``<option>``s of a store's equipment, for the new-ticket form (htmx)."""
    store_id = _int(request.GET.get("store"))
    equipment = (
        client_selectors.equipment_list(actor=actor).filter(store_id=store_id) if store_id else []
    )
    return render(
        request, "tickets/partials/options.html", {"choices": equipment_choices(equipment)}
    )


@actor_required
@require_GET
def people_options(request: HttpRequest, actor: Actor) -> HttpResponse:
    """``<option>``s of the engineers of a partner, for those who assign jobs (htmx)."""
    partner_id = _int(request.GET.get("partner"))
    people: list[tuple[int, str]] = []
    if presenters.assigns_jobs(actor):
        people = partner_selectors.partner_engineers(actor=actor, partner_id=partner_id)
    return render(request, "tickets/partials/options.html", {"choices": people_choices(people)})


# --- the ticket page --------------------------------------------------------------------------


def _assign_form(actor: Actor, ticket: Ticket, data=None) -> AssignForm | None:
    """The provider's "assign partner" or the partner manager's "name engineer" form."""
    if presenters.can_assign_partner(actor, ticket):
        partners = list(
            partner_selectors.partner_list(actor=actor).filter(is_active=True).order_by("name")
        )
    elif presenters.can_name_engineer(actor, ticket):
        partners = [ticket.partner]
    else:
        return None
    partner_id = _int(data.get("partner")) if data is not None else ticket.partner_id
    if partner_id not in {p.pk for p in partners}:
        partner_id = None
    return AssignForm(
        data,
        partners=partners,
        people=partner_selectors.partner_engineers(actor=actor, partner_id=partner_id),
        initial={
            "partner": ticket.partner_id,
            "engineer": ticket.engineer_id,
            "version": ticket.version,
        },
    )


def _render_ticket(
    request: HttpRequest,
    actor: Actor,
    ticket: Ticket,
    *,
    status: int = 200,
    notice: str = "",
    error: str = "",
    comment_form: CommentForm | None = None,
    assign_form: AssignForm | None = None,
    attachment_form: AttachmentForm | None = None,
) -> HttpResponse:
    """The ticket page, or just its main fragment for htmx."""
    now = timezone.now()
    context = {
        "ticket": ticket,
        "now": now,
        "clocks": presenters.clock_panel(
            actor, ticket, now=now, viewer_zone=request.user.time_zone
        ),
        "timeline": presenters.timeline(actor, ticket),
        "attachments": selectors.ticket_attachments(actor=actor, ticket=ticket),
        "actions": presenters.status_actions(actor, ticket),
        "comment_form": comment_form or CommentForm(allow_internal=actor.sees_internal),
        "assign_form": assign_form or _assign_form(actor, ticket),
        "attachment_form": attachment_form or AttachmentForm(allow_internal=actor.sees_internal),
        "notice": notice,
        "error": error,
        "mark_optional": True,
    }
    template = "tickets/partials/ticket_main.html" if is_htmx(request) else None
    return _vary_on_htmx(
        render(request, template or "tickets/ticket_detail.html", context, status=status)
    )


def _done(request: HttpRequest, actor: Actor, ticket_id: int, notice: str) -> HttpResponse:
    """After a write: htmx gets the fresh fragment; a plain form post is redirected (PRG)."""
    if is_htmx(request):
        ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
        return _render_ticket(request, actor, ticket, notice=notice)
    messages.success(request, notice)
    return redirect("ticket_detail", ticket_id=ticket_id)


def _refused(
    request: HttpRequest,
    actor: Actor,
    ticket_id: int,
    exc: ApplicationError,
    form_name: str = "",
    form=None,
) -> HttpResponse:
    """A service said no: the current ticket with the reason, nothing changed.

    With a form, the reason goes onto the form (next to its field, everything typed kept);
    without one (a status button), it is shown at the top of the ticket.
    """
    if isinstance(exc, NotFound):
        raise exc
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    if form is None:
        return _render_ticket(request, actor, ticket, status=exc.status_code, error=exc.message)
    add_service_error(form, exc)
    return _render_ticket(request, actor, ticket, status=exc.status_code, **{form_name: form})


@actor_required
@require_GET
def ticket_detail(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    return _render_ticket(request, actor, ticket)


@actor_required
@require_GET
def ticket_clocks(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    """The ticket's SLA panel alone: the page refreshes it every minute (htmx), so opening
    and closing hours show without the browser knowing any calendar."""
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    panel = presenters.clock_panel(
        actor, ticket, now=timezone.now(), viewer_zone=request.user.time_zone
    )
    response = render(
        request, "tickets/partials/ticket_clocks.html", {"ticket": ticket, "clocks": panel}
    )
    response["Cache-Control"] = "no-store"
    return response


@actor_required
@require_POST
def ticket_comment(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    form = CommentForm(request.POST, allow_internal=actor.sees_internal)
    if form.is_valid():
        try:
            services.ticket_comment(
                actor=actor,
                ticket_id=ticket.pk,
                body=form.cleaned_data["body"],
                is_internal=form.cleaned_data.get("is_internal", False),
            )
        except ApplicationError as exc:
            return _refused(request, actor, ticket.pk, exc, "comment_form", form)
        return _done(request, actor, ticket.pk, _("Comment added."))
    return _render_ticket(request, actor, ticket, status=400, comment_form=form)


@actor_required
@require_POST
def ticket_transition(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        message = _("This status change is not allowed.")
        return _render_ticket(request, actor, ticket, status=400, error=message)
    to_status = form.cleaned_data["to_status"]
    try:
        services.ticket_transition(
            actor=actor,
            ticket_id=ticket.pk,
            to_status=to_status,
            expected_version=form.cleaned_data["version"],
        )
    except ApplicationError as exc:
        return _refused(request, actor, ticket.pk, exc)
    notice = _("Status changed to “%(status)s”.") % {"status": TicketStatus(to_status).label}
    return _done(request, actor, ticket.pk, notice)


@actor_required
@require_POST
def ticket_assign(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    form = _assign_form(actor, ticket, request.POST)
    if form is None:
        # No form was offered; the service says why (role, or the ticket's status).
        try:
            services.ticket_assign(
                actor=actor,
                ticket_id=ticket.pk,
                partner_id=_int(request.POST.get("partner")) or 0,
                expected_version=_int(request.POST.get("version")),
            )
        except ApplicationError as exc:
            return _refused(request, actor, ticket.pk, exc)
        return _done(request, actor, ticket.pk, _("Assigned."))
    if form.is_valid():
        try:
            updated = services.ticket_assign(
                actor=actor,
                ticket_id=ticket.pk,
                partner_id=form.cleaned_data["partner"],
                engineer_id=form.cleaned_data["engineer"],
                expected_version=form.cleaned_data["version"],
            )
        except ApplicationError as exc:
            return _refused(request, actor, ticket.pk, exc, "assign_form", form)
        notice = _("Assigned to %(partner)s.") % {"partner": updated.partner}
        return _done(request, actor, ticket.pk, notice)
    return _render_ticket(request, actor, ticket, status=400, assign_form=form)


@actor_required
@require_POST
def ticket_attach(request: HttpRequest, actor: Actor, ticket_id: int) -> HttpResponse:
    ticket = selectors.ticket_get(actor=actor, ticket_id=ticket_id)
    form = AttachmentForm(request.POST, request.FILES, allow_internal=actor.sees_internal)
    if form.is_valid():
        try:
            attachment = services.ticket_attach(
                actor=actor,
                ticket_id=ticket.pk,
                uploaded_file=form.cleaned_data["file"],
                is_internal=form.cleaned_data.get("is_internal", False),
            )
        except ApplicationError as exc:
            return _refused(request, actor, ticket.pk, exc, "attachment_form", form)
        notice = _("File “%(name)s” attached.") % {"name": attachment.original_name}
        return _done(request, actor, ticket.pk, notice)
    return _render_ticket(request, actor, ticket, status=400, attachment_form=form)


@actor_required
@require_GET
def attachment_download(request: HttpRequest, actor: Actor, attachment_id: int) -> HttpResponse:
    """The file, if the actor may see it: always as a download, never rendered by the browser."""
    attachment = selectors.attachment_get(actor=actor, attachment_id=attachment_id)
    return attachment_response(attachment)
