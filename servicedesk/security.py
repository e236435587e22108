"""Request-wide defences: security headers (a strict Content-Security-Policy), the session's
idle and absolute timeouts, the two-factor gate for provider staff, and an error-report
filter that keeps credentials out of error e-mails and logs.

Django 5.2 has no built-in CSP; this middleware is small enough not to need a package.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.debug import SafeExceptionReporterFilter

from servicedesk import two_factor

# Swagger UI and ReDoc (drf-spectacular's templates) boot from inline <script> blocks and
# inline styles we do not control. They render the API schema only, never stored user data,
# so those two pages alone may run inline code; everything else stays on 'self'.
API_DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Django admin and DRF's browsable API carry a few style="" attributes; their scripts are
# all files, so only inline styles are allowed there (a style cannot run code).
THIRD_PARTY_PAGES_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _paths(*names: str) -> tuple[str, ...]:
    """The paths of the named pages that exist (a test's own urlconf may have none)."""
    paths = []
    for name in names:
        with contextlib.suppress(NoReverseMatch):
            paths.append(reverse(name))
    return tuple(paths)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response.

    Django's SecurityMiddleware already sends X-Content-Type-Options, Referrer-Policy,
    Cross-Origin-Opener-Policy and (in production) HSTS.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def docs_paths(self) -> tuple[str, ...]:
        return _paths("api:docs", "api:redoc")

    @cached_property
    def third_party_prefixes(self) -> tuple[str, ...]:
        return _paths("admin:index", "api:root")

    def policy_for(self, path: str) -> str:
        if path in self.docs_paths:
            return API_DOCS_POLICY
        if path.startswith(self.third_party_prefixes):
            return THIRD_PARTY_PAGES_POLICY
        return settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy_for(request.path))
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


SIGNED_IN_AT_KEY = "signed_in_at"
LAST_SEEN_KEY = "last_seen_at"
# Refreshing the idle clock on every request would write the session row every time.
LAST_SEEN_RESOLUTION = 60


@receiver(user_logged_in, dispatch_uid="servicedesk.security.start_session_clocks")
def start_session_clocks(sender: type, request: HttpRequest | None, user: object, **kw) -> None:
    """Start the session's absolute and idle clocks at every sign-in, whichever view (ours,
    the admin's) did it. A receiver rather than calls in each view: it is session plumbing,
    not a business rule, and ``django.contrib.auth.login`` is the one place all pass."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT_KEY] = now
        request.session[LAST_SEEN_KEY] = now


class SessionTimeoutMiddleware:
    """Signs a session out after ``SESSION_IDLE_TIMEOUT`` without a request, or once
    ``SESSION_COOKIE_AGE`` has passed since sign-in (every save of a database session moves
    its expiry forward, so the cookie age alone is not an absolute limit)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            self.check(request)
        return self.get_response(request)

    @staticmethod
    def check(request: HttpRequest) -> None:
        session = request.session
        now = int(time.time())
        signed_in_at = session.setdefault(SIGNED_IN_AT_KEY, now)
        last_seen = session.get(LAST_SEEN_KEY, now)
        idle_limit = settings.SESSION_IDLE_TIMEOUT.total_seconds()
        if now - last_seen > idle_limit or now - signed_in_at > settings.SESSION_COOKIE_AGE:
            logout(request)  # flushes the session row: the old cookie is worthless
            return
        if now - session.get(LAST_SEEN_KEY, 0) >= LAST_SEEN_RESOLUTION:
            session[LAST_SEEN_KEY] = now


class StaffTwoFactorMiddleware:
    """With ``REQUIRE_STAFF_TOTP``, a provider staff session that has not passed a TOTP code
    reaches nothing but the two-factor page, sign-out and static files.

    API requests made with a token carry no session user here and are not affected.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def open_prefixes(self) -> tuple[str, ...]:
        return (
            reverse("two_factor"),
            reverse("logout"),
            reverse("login_verify"),
            settings.STATIC_URL,
            "/i18n/",
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.REQUIRE_STAFF_TOTP
            and request.user.is_authenticated
            and not two_factor.session_is_verified(request)
            and not request.path.startswith(self.open_prefixes)
            and two_factor.requires_totp(request.user)
        ):
            if request.path.startswith(reverse("api:root")):
                return JsonResponse(
                    {
                        "error": {
                            "code": "second_factor_required",
                            "message": _("Set up two-factor sign-in first."),
                            "fields": {},
                        }
                    },
                    status=403,
                )
            return redirect("two_factor")
        return self.get_response(request)


class SecretsExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter hides settings and cookies; this one also hides the Authorization
    header and anything named like a token, code or session id in a request's data."""

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|AUTHORIZATION|SESSION|OTP|CODE",
        flags=re.IGNORECASE,
    )

    def get_post_parameters(self, request: HttpRequest | None) -> dict:
        params = super().get_post_parameters(request)
        if request is None:
            return params
        cleaned = params.copy()
        for name in cleaned:
            if self.hidden_settings.search(name):
                cleaned[name] = self.cleansed_substitute
        return cleaned
