"""HTML views of the core: sign in and out, picking the organisation, the user's own
notification settings, and the helpers every HTML view of the project uses to get its actor
and to turn domain errors into pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from servicedesk.actors import Actor
from servicedesk.exceptions import ApplicationError, NotFound, ValidationFailed
from servicedesk.forms import NotificationPreferenceForm, add_service_error
from servicedesk.middleware import SESSION_MEMBERSHIP_KEY
from servicedesk.notifications import (
    may_be_on_duty,
    notification_preferences_set,
    preference_of,
)
from servicedesk.selectors import membership_list

DEMO_LOGINS = (
    ("admin", "provider_admin"),
    ("dispatcher", "dispatcher"),
    ("client", "client_manager"),
    ("store", "store_staff"),
    ("partner", "partner_manager"),
    ("engineer", "partner_engineer"),
)

ActorView = Callable[..., HttpResponse]


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    """The one HTML page for a refused use case: its message, with its HTTP status."""
    return render(request, "errors/application_error.html", {"error": exc}, status=exc.status_code)


def actor_required(view: ActorView) -> ActorView:
    """Signed in, acting for an organisation; the view gets the actor as its second argument.

    A user without an active membership sees a friendly 403 page. ``NotFound`` becomes the 404
    page (out of scope and missing look the same); any other ``ApplicationError`` a view lets
    through is shown as a message page with the error's status.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor = request.actor
        if not actor:
            return render(request, "errors/no_actor.html", status=403)
        try:
            return view(request, actor, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except ApplicationError as exc:
            return render_error(request, exc)

    return wrapper


class LoginView(auth_views.LoginView):
    """Django's login (it keeps ``next`` to safe local URLs), with our page and, in DEBUG,
    the demo logins; the first sign-in on a browser switches to the user's own language."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_logins"] = DEMO_LOGINS if settings.DEBUG else ()
        return context

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        language = getattr(form.get_user(), "language", "")
        known = {code for code, _name in settings.LANGUAGES}
        if settings.LANGUAGE_COOKIE_NAME not in self.request.COOKIES and language in known:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


login_view = LoginView.as_view()
logout_view = auth_views.LogoutView.as_view()


@login_required
@require_http_methods(["GET", "POST"])
def organisation_switch(request: HttpRequest) -> HttpResponse:
    """Pick which of the user's memberships the session acts as."""
    memberships = list(membership_list(user=request.user))
    if request.method == "POST":
        chosen = next(
            (m for m in memberships if str(m.pk) == request.POST.get("membership", "")), None
        )
        if chosen is None:
            messages.error(request, _("Choose one of your organisations."))
            return redirect("organisation_switch")
        request.session[SESSION_MEMBERSHIP_KEY] = chosen.pk
        messages.success(
            request,
            _("You now act for %(organisation)s as %(role)s.")
            % {"organisation": chosen.organisation.name, "role": chosen.get_role_display()},
        )
        return redirect("home")
    actor: Actor | None = request.actor or None
    return render(
        request,
        "organisation_switch.html",
        {
            "memberships": memberships,
            "current_id": actor.membership_id if actor else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own notification preferences (any role, or none yet)."""
    user = request.user
    with_on_duty = may_be_on_duty(user)
    initial = NotificationPreferenceForm.initial_from(preference_of(user))
    data = request.POST if request.method == "POST" else None
    form = NotificationPreferenceForm(data, initial=initial, with_on_duty=with_on_duty)
    if data is not None and form.is_valid():
        try:
            notification_preferences_set(user=user, **form.cleaned_data)
        except ValidationFailed as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notification_settings")
    return render(
        request,
        "settings/notifications.html",
        {"form": form, "with_on_duty": with_on_duty},
        status=400 if form.errors else 200,
    )
