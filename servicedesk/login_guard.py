"""Brute-force defence for every way in with a password or a code: the HTML sign-in, the API
token exchange and the second-factor step.

Failures are rows in the database (``LoginFailure``), counted within
``LOGIN_FAILURE_WINDOW``: per username as typed, per client IP, and per user for TOTP codes.
The database rather than the cache: counts are shared by every web process whatever cache
is configured, and a test's rows roll back with it. A locked username answers the same
message whether or not the account exists, and no password is even checked while locked.
Success clears the username's (or code's) count; an IP's count only ages out, so signing
in to one's own account cannot wipe the record of guesses at others.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicedesk.exceptions import ApplicationError, ValidationFailed
from servicedesk.models import LoginFailure

USERNAME = "username"
IP = "ip"
CODE = "code"

LOCKED_MESSAGE = _("Too many failed attempts. Wait 15 minutes and try again.")


class TooManyAttempts(ApplicationError):
    """Sign-in refused for now: too many recent failures."""

    status_code = 429
    default_code = "too_many_attempts"
    default_message = LOCKED_MESSAGE


def client_ip(request: HttpRequest | None) -> str:
    # REMOTE_ADDR, not X-Forwarded-For: a client can write that header itself. Behind a
    # proxy, the proxy must set REMOTE_ADDR (gunicorn's --forwarded-allow-ips).
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "")


def _normal(username: str) -> str:
    return username.strip().lower()[:255]


def _since() -> Any:
    window: timedelta = settings.LOGIN_FAILURE_WINDOW
    return timezone.now() - window


def _count(scope: str, key: str) -> int:
    return LoginFailure.objects.filter(scope=scope, key=key, created_at__gte=_since()).count()


def _record(scope: str, key: str) -> None:
    LoginFailure.objects.filter(scope=scope, key=key, created_at__lt=_since()).delete()
    LoginFailure.objects.create(scope=scope, key=key)


def is_locked(*, username: str, ip: str) -> bool:
    """Whether sign-in for ``username`` or from ``ip`` is locked out right now."""
    if _count(USERNAME, _normal(username)) >= settings.LOGIN_FAILURE_LIMIT_PER_USERNAME:
        return True
    return bool(ip) and _count(IP, ip) >= settings.LOGIN_FAILURE_LIMIT_PER_IP


def check_allowed(*, username: str, ip: str) -> None:
    """Raise ``TooManyAttempts`` while ``username`` or ``ip`` is locked out."""
    if is_locked(username=username, ip=ip):
        raise TooManyAttempts()


def record_failure(*, username: str, ip: str) -> None:
    _record(USERNAME, _normal(username))
    if ip:
        _record(IP, ip)


def record_success(*, username: str) -> None:
    LoginFailure.objects.filter(scope=USERNAME, key=_normal(username)).delete()


def check_code_allowed(*, user_id: int) -> None:
    """Raise ``TooManyAttempts`` while second-factor codes for the user are locked out."""
    if _count(CODE, str(user_id)) >= settings.LOGIN_FAILURE_LIMIT_PER_CODE:
        raise TooManyAttempts()


def record_code_failure(*, user_id: int) -> None:
    _record(CODE, str(user_id))


def record_code_success(*, user_id: int) -> None:
    LoginFailure.objects.filter(scope=CODE, key=str(user_id)).delete()


Obtain = TypeVar("Obtain", bound=Callable[..., Any])


def guard_token_obtain(obtain: Obtain) -> Obtain:
    """Wrap ``api_token_obtain`` in the same lockout as the sign-in page.

    It wraps the service from outside its transaction: a refused attempt rolls the
    service's transaction back, and the failure must still be counted.
    """

    @wraps(obtain)
    def guarded(*, username: str, password: str, request: HttpRequest | None = None, **kw: Any):
        ip = client_ip(request)
        check_allowed(username=username, ip=ip)
        try:
            result = obtain(username=username, password=password, request=request, **kw)
        except ValidationFailed as exc:
            if exc.code == "invalid_credentials":
                record_failure(username=username, ip=ip)
            raise
        record_success(username=username)
        return result

    return guarded  # type: ignore[return-value]
