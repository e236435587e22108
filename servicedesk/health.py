"""Liveness and readiness probes for load balancers, orchestrators and ``make demo``.

- ``/healthz`` answers 200 as long as the process serves requests; it touches neither the
  database nor the broker, so a database outage never makes an orchestrator restart healthy
  web processes.
- ``/readyz`` answers 200 only when the database answers ``SELECT 1`` and, when a broker is
  configured, the broker accepts a connection; otherwise 503, naming what is down.

Neither needs a login. Errors are reported by exception class only: the details (host names,
user names) go to the log, not to anonymous callers.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# Seconds a readiness probe may spend on the broker; probes usually time out after a few.
BROKER_CONNECT_TIMEOUT = 2
# Transports that live inside the process: nothing to reach, nothing to check.
IN_PROCESS_BROKERS = ("memory://",)


def broker_configured() -> bool:
    """Whether Celery talks to a real broker (no broker means tasks run eagerly in-process)."""
    url = getattr(settings, "CELERY_BROKER_URL", "") or ""
    return bool(url) and not url.startswith(IN_PROCESS_BROKERS)


def check_database() -> dict[str, object]:
    """``{"ok": True}`` when the default database answers ``SELECT 1``."""
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure means "not ready", whatever the driver raises
        logger.warning("readiness: database check failed: %s", error)
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


def check_broker(url: str) -> dict[str, object]:
    """``{"ok": True}`` when the broker at ``url`` accepts a connection within
    :data:`BROKER_CONNECT_TIMEOUT` seconds (one attempt, one quick retry)."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=BROKER_CONNECT_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2)
    except Exception as error:  # kombu wraps transport errors differently per transport
        logger.warning("readiness: broker check failed: %s", error)
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 ``{"status": "ok"}``; no database or broker access."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 with each check's result, or 503 with ``down`` listing the failed ones.

    Body: ``{"status": "ok" | "unavailable", "checks": {"database": {"ok": true}, ...},
    "down": [...]}``; ``broker`` appears only when a broker is configured.
    """
    checks = {"database": check_database()}
    if broker_configured():
        checks["broker"] = check_broker(settings.CELERY_BROKER_URL)
    down = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "unavailable" if down else "ok", "checks": checks, "down": down}
    return JsonResponse(body, status=503 if down else 200)
