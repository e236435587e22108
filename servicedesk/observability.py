"""Operations: request ids, one-JSON-object-per-line logs, Prometheus metrics.

- Every request gets an id: a sane incoming ``X-Request-ID`` (a UUID or up to 64 safe
  characters) is kept, anything else is replaced by a fresh UUID. The id is echoed in the
  response header, stamped on every log record (a context variable read by a logging
  filter), written into the database context (``servicedesk.db_context``) and carried to
  Celery tasks in their headers.
- ``JsonFormatter`` writes one JSON object per line: time, level, logger, message,
  request_id, user_id, org, and for the request line method, path, status, duration_ms.
- Metrics: request latency by route name, method and status; the SLA sweep's duration,
  warnings and breaches; the Celery queue depth and the outbox backlog read at scrape time.
  With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn workers, Celery workers) every process
  writes its samples there and ``/metrics`` aggregates them; see docs/OPERATIONS.md.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)
request_logger = logging.getLogger("servicedesk.request")

REQUEST_ID_HEADER = "X-Request-ID"
# A UUID, or a short token of characters that cannot break a header, a log line or a CSV.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

_request_id: ContextVar[str | None] = ContextVar("servicedesk_request_id", default=None)
_log_actor: ContextVar[Callable[[], tuple[int | None, int | None]] | None] = ContextVar(
    "servicedesk_log_actor", default=None
)


# --- Request ids ------------------------------------------------------------------------


def clean_request_id(raw: str | None) -> str:
    """``raw`` when it is a sane id, otherwise a new UUID4 (hex with dashes)."""
    if raw and _SAFE_REQUEST_ID.match(raw):
        return raw
    return str(uuid.uuid4())


def current_request_id() -> str | None:
    """The id of the request or task being served in this context, if any."""
    return _request_id.get()


def bind_request_id(request_id: str | None) -> object:
    """Make ``request_id`` current; returns the token for :func:`unbind_request_id`."""
    return _request_id.set(request_id)


def unbind_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]


def resolved_actor(request: HttpRequest) -> Any:
    """``request.actor`` if it is already known, without resolving a lazy one: a log line or
    a metric must never cost a database query."""
    actor = getattr(request, "actor", None)
    wrapped = getattr(actor, "_wrapped", actor)
    if wrapped is None or wrapped is empty:  # anonymous, or a lazy actor nobody asked for
        return None
    return wrapped


# --- Logging --------------------------------------------------------------------------------

_STANDARD_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
_EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "task", "task_id")


class RequestContextFilter(logging.Filter):
    """Stamps the current request id, user and organisation on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        if getattr(record, "user_id", None) is None:
            provider = _log_actor.get()
            user_id, org = provider() if provider else (None, None)
            record.user_id = user_id
            record.org = org
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; never raises on odd values (they become strings)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
            "org": getattr(record, "org", None),
        }
        for name in _EXTRA_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        for name, value in vars(record).items():
            if name not in _STANDARD_RECORD_FIELDS and name not in entry and name != "org":
                entry.setdefault(name, value)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(*, level: str, fmt: str = "json") -> dict[str, Any]:
    """The ``LOGGING`` dict: everything to stderr through the context filter, as JSON
    (``fmt="json"``) or as a plain line for a developer's terminal (``fmt="plain"``)."""
    formatter = (
        {"()": "servicedesk.observability.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "servicedesk.observability.RequestContextFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Our request line replaces Django's own "GET /path 200" access lines.
            "django.server": {"level": "WARNING"},
        },
    }


# --- Metrics --------------------------------------------------------------------------------

REQUEST_LATENCY = Histogram(
    "servicedesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name, method and status.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SWEEP_DURATION = Histogram(
    "servicedesk_sla_sweep_duration_seconds",
    "Time one SLA sweep took (all its batches).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)
SWEEP_WARNINGS = Counter("servicedesk_sla_warnings", "SLA warning thresholds the sweep recorded.")
SWEEP_BREACHES = Counter("servicedesk_sla_breaches", "SLA breaches the sweep recorded.")


def record_sweep(*, seconds: float, warnings: int, breaches: int) -> None:
    """Account for one finished SLA sweep."""
    SWEEP_DURATION.observe(seconds)
    SWEEP_WARNINGS.inc(warnings)
    SWEEP_BREACHES.inc(breaches)


class ScrapeTimeCollector:
    """Gauges read when Prometheus scrapes, not kept in memory: they describe shared state
    (the broker's queue, the outbox table), the same whichever process answers."""

    def describe(self) -> list[GaugeMetricFamily]:
        # Registering must not query anything: the database may not be configured yet.
        return [
            GaugeMetricFamily("servicedesk_outbox_backlog", ""),
            GaugeMetricFamily("servicedesk_celery_queue_depth", "", labels=["queue"]),
        ]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        backlog = _outbox_backlog()
        if backlog is not None:
            yield GaugeMetricFamily(
                "servicedesk_outbox_backlog", "Outbox messages not yet published.", value=backlog
            )
        depth = _queue_depth()
        if depth is not None:
            gauge = GaugeMetricFamily(
                "servicedesk_celery_queue_depth",
                "Tasks waiting in the broker's queue (absent when tasks run in-process).",
                labels=["queue"],
            )
            gauge.add_metric([depth[0]], depth[1])
            yield gauge


def _outbox_backlog() -> int | None:
    from servicedesk.models import OutboxMessage

    try:
        return OutboxMessage.objects.filter(dispatched_at__isnull=True).count()
    except Exception:  # a scrape must answer even with the database down
        logger.warning("metrics: outbox backlog not readable", exc_info=True)
        return None


def _queue_depth() -> tuple[str, int] | None:
    url = getattr(settings, "CELERY_BROKER_URL", "") or ""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) or not url.startswith(
        ("redis://", "rediss://")
    ):
        return None
    import redis

    queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return queue, int(client.llen(queue))
        finally:
            client.close()
    except Exception:
        logger.warning("metrics: broker queue length not readable", exc_info=True)
        return None


_scrape_collector = ScrapeTimeCollector()
REGISTRY.register(_scrape_collector)


def metrics_registry() -> CollectorRegistry:
    """The registry to expose: this process's, or every process's in multi-process mode."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(_scrape_collector)
    return registry


# Loopback and the RFC 1918 / unique-local ranges a cluster's scraper comes from (Python's
# ``is_private`` would also admit documentation and other special-purpose ranges).
_INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::1/128",
        "fc00::/7",
    )
)


def _internal_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _INTERNAL_NETWORKS)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``/metrics`` in Prometheus's text format.

    With ``METRICS_TOKEN`` set, only ``Authorization: Bearer <token>`` is let in; without
    it, only loopback and private addresses (the scraper inside the cluster). Others get a
    plain 404, so the endpoint does not advertise itself.
    """
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "")
        allowed = secrets.compare_digest(given.encode(), f"Bearer {token}".encode())
    else:
        allowed = _internal_address(request.META.get("REMOTE_ADDR", ""))
    if not allowed or request.method not in ("GET", "HEAD"):
        return HttpResponse("Not found\n", status=404, content_type="text/plain")
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


# --- Middleware -----------------------------------------------------------------------------


def _route_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"  # bounded label: 404s must not create a series per path
    return match.view_name or match.route or "unnamed"


class RequestIdMiddleware:
    """First in the chain: assigns the request id, times the request, writes the one
    request log line and the latency sample, and echoes ``X-Request-ID``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        started = time.perf_counter()
        # Cleared when the response is closed (request_finished), not on the way out of
        # here: Django logs 4xx/5xx responses after the middleware chain has returned.
        _request_id.set(request_id)
        _log_actor.set(lambda: _actor_fields(request))
        try:
            response = self.get_response(request)
        except Exception:
            self._account(request, 500, started)
            raise
        response[REQUEST_ID_HEADER] = request_id
        self._account(request, response.status_code, started)
        return response

    @staticmethod
    def _account(request: HttpRequest, status: int, started: float) -> None:
        seconds = time.perf_counter() - started
        REQUEST_LATENCY.labels(_route_name(request), request.method, str(status)).observe(seconds)
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
            },
        )


def _clear_request_context(**kwargs: Any) -> None:
    _request_id.set(None)
    _log_actor.set(None)


request_finished.connect(_clear_request_context, dispatch_uid="servicedesk_request_context")


def _actor_fields(request: HttpRequest) -> tuple[int | None, int | None]:
    actor = resolved_actor(request)
    if actor is None:
        return None, None
    return actor.user_id, actor.organisation_id


# --- Celery ---------------------------------------------------------------------------------

TASK_CONTEXT_HEADER = "servicedesk_context"
_running_tasks: dict[str, tuple[Callable[[], None] | None, object]] = {}


def _on_publish(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """A task published while serving someone carries that actor and request id."""
    from servicedesk import db_context

    if headers is None or TASK_CONTEXT_HEADER in headers:
        return
    context = db_context.current_context()
    if context is not None:
        headers[TASK_CONTEXT_HEADER] = context.as_header()
    elif _request_id.get():
        headers[TASK_CONTEXT_HEADER] = db_context.system_context(_request_id.get()).as_header()


def _task_header(task: Any) -> Any:
    request = getattr(task, "request", None)
    value = getattr(request, TASK_CONTEXT_HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(TASK_CONTEXT_HEADER)
    return value


def _on_task_start(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """Bind the task's actor and request id (its own id when it came without one). A task
    run in-process inside a request (eager mode) keeps the request's context."""
    from servicedesk import db_context

    if task_id is None:
        return
    context = db_context.DbContext.from_header(_task_header(task))
    if context is None and db_context.current_context() is not None:
        _running_tasks[task_id] = (None, _request_id.set(_request_id.get() or task_id))
        return
    if context is None:
        context = db_context.system_context(task_id)
    elif context.request_id is None:
        context = db_context.DbContext(
            context.user_id, context.organisation_id, context.role, task_id
        )
    end = db_context.activate(lambda: context)
    _log_actor.set(lambda: (context.user_id, context.organisation_id))
    _running_tasks[task_id] = (end, _request_id.set(context.request_id))


def _on_task_end(task_id: str | None = None, **kwargs: Any) -> None:
    entry = _running_tasks.pop(task_id or "", None)
    if entry is None:
        return
    end, token = entry
    _request_id.reset(token)  # type: ignore[arg-type]
    if end is not None:
        _log_actor.set(None)
        end()


def connect_celery_signals() -> None:
    """Hook the request id and the database context into Celery (publisher and worker)."""
    from celery import signals

    signals.before_task_publish.connect(_on_publish, weak=False, dispatch_uid="sd_ctx_publish")
    signals.task_prerun.connect(_on_task_start, weak=False, dispatch_uid="sd_ctx_start")
    signals.task_postrun.connect(_on_task_end, weak=False, dispatch_uid="sd_ctx_end")
