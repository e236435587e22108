"""The integration tokens page (``/settings/tokens/``): list, issue (the raw token shown
once, on the answer to the POST that made it), revoke. The rules are the services'."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from servicedesk import services
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import PermissionDenied, ValidationFailed
from servicedesk.forms import add_service_error
from servicedesk.selectors import integration_organisations, integration_token_list
from servicedesk.views import actor_required


class IntegrationTokenForm(forms.Form):
    """Name, organisation and role of a new token; the organisation and role choices are the
    ones the actor may use (the service checks again)."""

    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. “1C stock sync”."),
    )
    organisation = forms.TypedChoiceField(label=gettext_lazy("Organisation"), coerce=int)
    role = forms.ChoiceField(label=gettext_lazy("Role"))
    store_ids = forms.CharField(
        label=gettext_lazy("Stores (store staff only)"),
        required=False,
        help_text=gettext_lazy("Store ids, separated by commas."),
    )

    def __init__(self, *args, actor: Actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        organisations = list(integration_organisations(actor=actor))
        self.fields["organisation"].choices = [
            (o.pk, f"{o.name} ({o.get_kind_display()})") for o in organisations
        ]
        roles: set[str] = set()
        for organisation in organisations:
            roles.update(services.integration_roles_for(actor=actor, organisation=organisation))
        self.fields["role"].choices = [(r, label) for r, label in Role.choices if r in roles]

    def clean_store_ids(self) -> list[int]:
        raw = self.cleaned_data["store_ids"].replace(" ", "")
        try:
            return [int(part) for part in raw.split(",") if part]
        except ValueError:
            raise forms.ValidationError(_("Give store ids as numbers, e.g. 12, 15.")) from None


@actor_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Integration tokens the actor manages, and the form to issue one."""
    tokens = integration_token_list(actor=actor)  # PermissionDenied → the 403 page
    data = request.POST if request.method == "POST" else None
    form = IntegrationTokenForm(data, actor=actor)
    created = raw = None
    status = 200
    if data is not None and form.is_valid():
        try:
            created, raw = services.integration_token_create(
                actor=actor,
                organisation_id=form.cleaned_data["organisation"],
                role=form.cleaned_data["role"],
                name=form.cleaned_data["name"],
                store_ids=form.cleaned_data["store_ids"],
            )
        except (ValidationFailed, PermissionDenied) as exc:
            add_service_error(form, exc)
            status = exc.status_code
        else:
            form = IntegrationTokenForm(actor=actor)
    response = render(
        request,
        "servicedesk/tokens.html",
        {"tokens": tokens, "form": form, "created": created, "raw_token": raw},
        status=400 if form.errors and status == 200 else status,
    )
    # The one answer that carries a raw token must not be kept by any cache.
    response["Cache-Control"] = "no-store"
    return response


@actor_required
@require_POST
def token_revoke(request: HttpRequest, actor: Actor, token_id: int) -> HttpResponse:
    token = services.integration_token_revoke(actor=actor, token_id=token_id)
    messages.success(request, _("Token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("integration_tokens")
