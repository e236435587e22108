"""HTML views of the core: sign in and out, picking the organisation, the user's own
notification settings, and the helpers every HTML view of the project uses to get its actor
and to turn domain errors into pages."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from servicedesk import two_factor
from servicedesk.actors import Actor
from servicedesk.exceptions import ApplicationError, NotFound, ValidationFailed
from servicedesk.forms import CodeForm, LoginForm, NotificationPreferenceForm, add_service_error
from servicedesk.middleware import SESSION_MEMBERSHIP_KEY
from servicedesk.models import User
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
    """Django's login (it keeps ``next`` to safe local URLs and rotates the session key),
    behind the brute-force lockout; in DEBUG it lists the demo logins.

    A user with a confirmed authenticator is not signed in yet: the password step parks
    them in the session and the code step (``login_verify``) finishes the sign-in.
    """

    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["demo_logins"] = DEMO_LOGINS if settings.DEBUG else ()
        return context

    def form_valid(self, form) -> HttpResponse:
        user = form.get_user()
        if two_factor.confirmed_device(user) is not None:
            self.request.session[PENDING_KEY] = {
                "user": user.pk,
                "backend": user.backend,
                "next": self.get_success_url(),
                "at": int(time.time()),
            }
            return redirect("login_verify")
        response = super().form_valid(form)
        remember_language(self.request, response, user)
        return response


PENDING_KEY = "pending_second_factor"
PENDING_SECONDS = 300


def remember_language(request: HttpRequest, response: HttpResponse, user) -> None:
    """The first sign-in on a browser switches the UI to the user's own language."""
    language = getattr(user, "language", "")
    known = {code for code, _name in settings.LANGUAGES}
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and language in known:
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


login_view = LoginView.as_view()
logout_view = auth_views.LogoutView.as_view()


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """Second step of signing in: the code from the user's authenticator app."""
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return redirect("login")
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("login")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.totp_verify(user=user, code=form.cleaned_data["code"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            if device is None:
                form.add_error("code", _("Wrong or expired code."))
            else:
                del request.session[PENDING_KEY]
                auth_login(request, user, backend=pending["backend"])
                two_factor.mark_session_verified(request, device)
                response = redirect(pending["next"])
                remember_language(request, response, user)
                return response
    return render(
        request,
        "registration/login_verify.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_settings(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app (secret and QR code, confirmed with a first code), or,
    when one is set up, pass a code to unlock a session that has not given one yet."""
    user = request.user
    device = two_factor.confirmed_device(user)
    enrolling = device is None
    if enrolling:
        device = two_factor.totp_device_for_enrolment(user=user)
    verified = two_factor.session_is_verified(request)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            if enrolling:
                passed = two_factor.totp_device_confirm(request=request, user=user, code=code)
            else:
                passed = two_factor.totp_verify(user=user, code=code)
                if passed is not None:
                    two_factor.mark_session_verified(request, passed)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            if passed is None:
                form.add_error("code", _("Wrong or expired code."))
            else:
                # The session just gained a privilege: give it a new key.
                request.session.cycle_key()
                messages.success(request, _("Two-factor sign-in is on for your account."))
                return redirect("home")
    context = {"form": form, "enrolling": enrolling, "verified": verified}
    if enrolling:
        # The SVG is drawn by the qrcode library from our own otpauth URL.
        qr_svg = mark_safe(two_factor.qr_svg(device))
        context.update(secret=two_factor.secret_base32(device), qr_svg=qr_svg)
    return render(
        request, "registration/two_factor.html", context, status=400 if form.errors else 200
    )


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
