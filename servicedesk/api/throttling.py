"""Rate limits per caller (request body sizes: ``servicedesk.api.idempotency``).

Rates are DRF throttles over the ``default`` cache, which every worker process shares
(Redis, or a database table without it), so a limit holds however many gunicorn workers
answer. A refused request gets 429 in the uniform error body with ``Retry-After`` in whole
seconds (``servicedesk.api.errors`` keeps the header DRF sets).

This module must not import ``servicedesk.api.errors``: DRF imports it while building
``APIView``, which that module imports.

The rates come from ``settings.API_THROTTLE_RATES`` at request time rather than from DRF's
class attribute, which is read once at import: an operator's env change and a test's
``override_settings`` both take effect.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from servicedesk.models import ApiToken

TOKEN_OBTAIN_VIEW = "api:auth-token"


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Any, view: Any) -> bool:
        # Re-read per request: DRF reads the rate once, in __init__, and views build their
        # throttles per request, but a test may change the rate between two requests.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def wait(self) -> float | None:
        # Whole seconds, never 0: "Retry-After: 0" would invite an immediate retry storm.
        seconds = super().wait()
        return None if seconds is None else max(1, math.ceil(seconds))


class PrincipalRateThrottle(_SettingsRateThrottle):
    """One bucket per API token, or per user for session callers (the browser UI's htmx).

    Anonymous requests are not counted here: the only anonymous write is the token
    endpoint, which has its own, stricter limit below.
    """

    scope = "principal"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenObtainRateThrottle(_SettingsRateThrottle):
    """Password guessing: a few token requests a minute per client IP and username."""

    scope = "token_obtain"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        match = getattr(request._request, "resolver_match", None)
        if request.method != "POST" or match is None or match.view_name != TOKEN_OBTAIN_VIEW:
            return None
        data = request.data
        username = data.get("username", "") if hasattr(data, "get") else ""
        username = str(username).strip().lower()[:150]
        # Hashed: the key stays short and cache-safe whatever was typed as a username.
        ident = hashlib.sha256(f"{self.get_ident(request)}|{username}".encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
