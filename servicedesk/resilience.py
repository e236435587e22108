"""Requests that find PostgreSQL unreachable fail cleanly: 503 with ``Retry-After``.

A database restart or failover cuts every connection. Without this, each request in flight
would end as a 500 "server error" page and an error report, which says "bug" to clients and
to monitoring. A lost database is an outage, not a bug: the answer is 503 (the uniform JSON
error body under ``/api/``, a static page elsewhere) and the client is told when to retry.
Nothing here reconnects: the connection pool checks a connection before lending it
(``servicedesk.settings.base.database_config``), so the first request after the server is
back gets a fresh one, without restarting the application.

Only connection-level failures count: ``OperationalError`` and ``InterfaceError`` raised
while the server cannot be reached. A statement or lock timeout (also an
``OperationalError``) is reported the same way; both mean "try again shortly".
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 in the caller's language of choice: the API's error body, or the static page."""
    if request.path.startswith("/api/"):
        from servicedesk.api.errors import error_body

        response: HttpResponse = JsonResponse(
            error_body(
                "service_unavailable",
                _("The database is not answering. Nothing saved is lost; retry shortly."),
            ),
            status=503,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        # The page must not touch the database: no context processors, no session.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a database outage met inside a view (DRF views re-raise it) into a 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.warning(
            "database unavailable during %s %s: %s: %s",
            request.method,
            request.path,
            type(exception).__name__,
            exception,
        )
        return unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the same 503 when the outage surfaced outside a view (a middleware
    reading the session, say); any other error keeps the plain 500 page."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        return unavailable_response(request)
    return HttpResponse(loader.render_to_string("500.html"), status=500)
