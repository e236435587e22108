"""The webhooks settings page (``/settings/webhooks/``): endpoints, the secret shown once on
the answer that made it, recent deliveries with their outcome, replay. Rules: the services'."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from integrations import selectors, services
from integrations.webhook_forms import WebhookEndpointForm
from servicedesk.actors import Actor
from servicedesk.exceptions import PermissionDenied, ValidationFailed
from servicedesk.forms import add_service_error
from servicedesk.views import actor_required

RECENT_DELIVERIES = 25


def _require_manager(actor: Actor) -> None:
    if not selectors.may_manage_webhooks(actor):
        raise PermissionDenied(_("Only managers may manage webhooks."))


def _page(
    request: HttpRequest,
    actor: Actor,
    form: WebhookEndpointForm,
    *,
    secret: str | None = None,
    secret_for: object = None,
    status: int = 200,
) -> HttpResponse:
    response = render(
        request,
        "integrations/webhooks.html",
        {
            "endpoints": list(selectors.webhook_endpoint_list(actor=actor)),
            "deliveries": list(selectors.webhook_delivery_list(actor=actor)[:RECENT_DELIVERIES]),
            "form": form,
            "secret": secret,
            "secret_for": secret_for,
        },
        status=status,
    )
    # An answer that carries a secret must not be kept by any cache.
    response["Cache-Control"] = "no-store"
    return response


@actor_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The organisation's endpoints and recent deliveries, and the form to add one."""
    _require_manager(actor)
    if request.method != "POST":
        return _page(request, actor, WebhookEndpointForm())
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            endpoint, secret = services.webhook_endpoint_create(actor=actor, **form.cleaned_data)
        except ValidationFailed as exc:
            add_service_error(form, exc)
        else:
            return _page(request, actor, WebhookEndpointForm(), secret=secret, secret_for=endpoint)
    return _page(request, actor, form, status=400)


@actor_required
@require_POST
def webhook_rotate_secret(request: HttpRequest, actor: Actor, endpoint_id: int) -> HttpResponse:
    endpoint, secret = services.webhook_endpoint_rotate_secret(actor=actor, endpoint_id=endpoint_id)
    return _page(request, actor, WebhookEndpointForm(), secret=secret, secret_for=endpoint)


@actor_required
@require_POST
def webhook_toggle(request: HttpRequest, actor: Actor, endpoint_id: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(actor=actor, endpoint_id=endpoint_id)
    services.webhook_endpoint_update(
        actor=actor, endpoint_id=endpoint.pk, is_active=not endpoint.is_active
    )
    return redirect("webhooks")


@actor_required
@require_POST
def webhook_delete(request: HttpRequest, actor: Actor, endpoint_id: int) -> HttpResponse:
    services.webhook_endpoint_delete(actor=actor, endpoint_id=endpoint_id)
    messages.success(request, _("The webhook is deleted."))
    return redirect("webhooks")


@actor_required
@require_POST
def webhook_delivery_replay(request: HttpRequest, actor: Actor, delivery_id: int) -> HttpResponse:
    services.webhook_delivery_replay(actor=actor, delivery_id=delivery_id)
    messages.success(request, _("The delivery is queued to be sent again."))
    return redirect("webhooks")
