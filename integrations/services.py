"""Webhook use cases: manage endpoints, fan events out to deliveries, send and retry them.

Fan-out reads the event feed (``tickets.selectors``: ``(txid, id)`` order below the horizon
of running transactions, so no event committed late is ever skipped) from one cursor row
locked FOR UPDATE, and inserts one delivery per (endpoint, event) the endpoint's owner may
see, ON CONFLICT DO NOTHING, in the same transaction as the cursor's move.

Sending claims due deliveries with ``FOR UPDATE SKIP LOCKED`` in a short transaction that
moves their ``next_attempt_at`` forward by a lease and counts the attempt, then sends each
outside any transaction (in parallel threads, each with bounded timeouts) and records the
outcome in its own short transaction, fenced by the attempt number. A worker that dies
mid-send leaves the delivery to be retried when the lease runs out: delivery is at least
once, and ``Webhook-Id`` lets receivers drop repeats.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations import crypto
from integrations.choices import DeliveryStatus, WebhookEventType
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookFanoutCursor
from integrations.payloads import payload_body, signature, webhook_event_type, webhook_payload
from integrations.selectors import (
    may_manage_webhooks,
    webhook_delivery_get,
    webhook_endpoint_get,
)
from integrations.ssrf import UnsafeTarget, post_pinned, validate_webhook_url
from servicedesk.actors import Actor, actor_from_membership
from servicedesk.exceptions import PermissionDenied, ValidationFailed
from tickets.models import TicketEvent
from tickets.selectors import (
    FeedPosition,
    event_feed_horizon,
    event_feed_unscoped,
    ticket_event_feed,
)

logger = logging.getLogger("integrations.webhooks")

FANOUT_CURSOR = "webhooks"
SECRET_PREFIX = "whsec_"
_RETRYABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


# -- endpoints ---------------------------------------------------------------------------


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _checked_url(url: str) -> str:
    try:
        validate_webhook_url(url)
    except UnsafeTarget as exc:
        raise ValidationFailed(str(exc), fields={"url": [str(exc)]}) from None
    return url


def _checked_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(WebhookEventType.values))
    if not event_types or unknown:
        message = _("Choose at least one known event type.")
        raise ValidationFailed(message, fields={"event_types": [message]})
    return sorted(set(event_types))


def _require_manager(actor: Actor | None) -> Actor:
    if not may_manage_webhooks(actor):
        raise PermissionDenied(_("Only managers may manage webhooks."))
    return actor


@transaction.atomic
def webhook_endpoint_create(
    *,
    actor: Actor | None,
    url: str,
    event_types: list[str],
    description: str = "",
    is_active: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of the actor's organisation and its secret, returned this once."""
    actor = _require_manager(actor)
    secret = _new_secret()
    endpoint = WebhookEndpoint.objects.create(
        organisation_id=actor.organisation_id,
        created_by_id=actor.membership_id,
        url=_checked_url(url),
        description=description,
        event_types=_checked_types(event_types),
        secret_sealed=crypto.seal(secret),
        is_active=is_active,
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *,
    actor: Actor | None,
    endpoint_id: int,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change what was given; the secret and the owner stay."""
    actor = _require_manager(actor)
    endpoint = webhook_endpoint_get(actor=actor, endpoint_id=endpoint_id)
    changes = {
        "url": _checked_url(url) if url is not None else None,
        "event_types": _checked_types(event_types) if event_types is not None else None,
        "description": description,
        "is_active": is_active,
    }
    fields = [name for name, value in changes.items() if value is not None]
    for name in fields:
        setattr(endpoint, name, changes[name])
    endpoint.save(update_fields=[*fields, "updated_at"])
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor: Actor | None, endpoint_id: int) -> None:
    """Remove the endpoint and its delivery log."""
    actor = _require_manager(actor)
    webhook_endpoint_get(actor=actor, endpoint_id=endpoint_id).delete()


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, actor: Actor | None, endpoint_id: int
) -> tuple[WebhookEndpoint, str]:
    """A new secret, returned this once; sends from now on are signed with it."""
    actor = _require_manager(actor)
    endpoint = webhook_endpoint_get(actor=actor, endpoint_id=endpoint_id)
    secret = _new_secret()
    endpoint.secret_sealed = crypto.seal(secret)
    endpoint.save(update_fields=["secret_sealed", "updated_at"])
    return endpoint, secret


@transaction.atomic
def webhook_delivery_replay(*, actor: Actor | None, delivery_id: int) -> WebhookDelivery:
    """Send the delivery again now: same payload and ``Webhook-Id``, a fresh timestamp and
    signature; a delivery that had given up gets a new 24-hour retry window."""
    actor = _require_manager(actor)
    delivery = webhook_delivery_get(actor=actor, delivery_id=delivery_id)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.first_attempt_at = None
    delivery.save(update_fields=["status", "next_attempt_at", "first_attempt_at"])
    _kick_sender_after_commit()
    return delivery


def _kick_sender_after_commit() -> None:
    # Without a broker (demo) the in-process beat loop sends; an eager task here would make
    # the web request wait for the receiver.
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from integrations.tasks import webhook_deliveries_send_task

    transaction.on_commit(lambda: webhook_deliveries_send_task.delay())


# -- fan-out -----------------------------------------------------------------------------


def _locked_cursor() -> WebhookFanoutCursor:
    WebhookFanoutCursor.objects.bulk_create(
        [WebhookFanoutCursor(name=FANOUT_CURSOR)], ignore_conflicts=True
    )
    return WebhookFanoutCursor.objects.select_for_update().get(name=FANOUT_CURSOR)


def _subscribers() -> list[tuple[WebhookEndpoint, Actor]]:
    endpoints = WebhookEndpoint.objects.filter(
        is_active=True, created_by__is_active=True
    ).select_related("created_by__organisation", "created_by__user")
    return [(endpoint, actor_from_membership(endpoint.created_by)) for endpoint in endpoints]


def _deliveries_for(
    endpoint: WebhookEndpoint,
    actor: Actor,
    typed: dict[int, tuple[TicketEvent, str]],
    payloads: dict[int, dict],
    *,
    horizon: int,
    now: datetime,
) -> list[WebhookDelivery]:
    wanted = [
        pk
        for pk, (event, event_type) in typed.items()
        if event_type in endpoint.event_types and event.created_at >= endpoint.created_at
    ]
    if not wanted:
        return []
    # The same scoping as the actor's own feed and timeline: nothing it could not read.
    visible = ticket_event_feed(actor=actor, horizon=horizon).filter(pk__in=wanted)
    return [
        WebhookDelivery(
            endpoint=endpoint,
            event_id=pk,
            event_type=typed[pk][1],
            payload=payloads[pk],
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            created_at=now,
        )
        for pk in visible.values_list("pk", flat=True)
    ]


@transaction.atomic
def webhook_fanout(*, batch_size: int = 500, max_batches: int = 20) -> int:
    """Turn events past the cursor into deliveries; returns how many were written. Two
    runs at once serialise on the cursor row; a repeat writes nothing new."""
    cursor = _locked_cursor()
    horizon = event_feed_horizon()
    position: FeedPosition = (cursor.txid, cursor.event_id)
    subscribers = _subscribers()
    now = timezone.now()
    written = 0
    if not subscribers:
        # Nobody listens: skip to the newest settled event instead of walking history.
        last = (
            event_feed_unscoped(after=position, horizon=horizon)
            .order_by("-txid", "-pk")
            .values_list("txid", "pk")
            .first()
        )
        position = last or position
    for _batch in range(max_batches if subscribers else 0):
        events = list(
            event_feed_unscoped(after=position, horizon=horizon).select_related(
                "ticket__client", "ticket__store"
            )[:batch_size]
        )
        if not events:
            break
        typed = {e.pk: (e, t) for e in events if (t := webhook_event_type(e)) is not None}
        payloads = {pk: webhook_payload(event, t) for pk, (event, t) in typed.items()}
        rows = [
            row
            for endpoint, actor in subscribers
            for row in _deliveries_for(endpoint, actor, typed, payloads, horizon=horizon, now=now)
        ]
        written += len(WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True))
        position = (events[-1].txid, events[-1].pk)
        if len(events) < batch_size:
            break
    if position != (cursor.txid, cursor.event_id):
        cursor.txid, cursor.event_id = position
        cursor.updated_at = now
        cursor.save(update_fields=["txid", "event_id", "updated_at"])
    if written:
        _kick_sender_after_commit()
    return written


# -- sending -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    attempt: int


def retry_delay(attempt: int) -> timedelta:
    """Wait after failed attempt number ``attempt`` (1-based): 30 s doubling to an hour,
    +-10 % jitter so receivers that failed together are not retried in one burst."""
    base = settings.WEBHOOK_RETRY_FIRST_SECONDS * 2 ** min(attempt - 1, 20)
    jittered = base * random.uniform(0.9, 1.1)
    return timedelta(seconds=min(jittered, settings.WEBHOOK_RETRY_MAX_SECONDS))


def _claim_due(limit: int) -> list[_Claim]:
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status__in=_RETRYABLE, next_attempt_at__lte=now, endpoint__is_active=True)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        WebhookDelivery.objects.filter(pk__in=ids).update(
            attempts=F("attempts") + 1,
            next_attempt_at=now + timedelta(seconds=settings.WEBHOOK_CLAIM_LEASE_SECONDS),
            last_attempt_at=now,
            first_attempt_at=Coalesce("first_attempt_at", now),
        )
        claimed = WebhookDelivery.objects.filter(pk__in=ids).values_list("pk", "attempts")
        return [_Claim(pk, attempt) for pk, attempt in claimed]


@dataclass(frozen=True)
class _Outcome:
    code: int | None = None
    elapsed_ms: int | None = None
    body: str = ""
    error: str = ""


def _send(delivery: WebhookDelivery) -> _Outcome:
    body = payload_body(delivery.payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "servicedesk-webhooks/1",
        "Webhook-Id": delivery.webhook_id,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(
            crypto.unseal(delivery.endpoint.secret_sealed), timestamp, body
        ),
    }
    started = time.monotonic()
    try:
        result = post_pinned(
            delivery.endpoint.url,
            body=body,
            headers=headers,
            connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT_SECONDS,
            read_timeout=settings.WEBHOOK_READ_TIMEOUT_SECONDS,
        )
    except UnsafeTarget as exc:
        return _Outcome(error=_("Refused: %(reason)s") % {"reason": exc})
    except requests.Timeout as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return _Outcome(elapsed_ms=elapsed, error=f"timeout: {type(exc).__name__}")
    except requests.RequestException as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return _Outcome(elapsed_ms=elapsed, error=f"{type(exc).__name__}: {exc}"[:1000])
    return _Outcome(code=result.status_code, elapsed_ms=result.elapsed_ms, body=result.body_snippet)


def _record(claim: _Claim, outcome: _Outcome) -> None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(pk=claim.delivery_id, attempts=claim.attempt, status__in=_RETRYABLE)
            .first()
        )
        if delivery is None:  # replayed or re-claimed meanwhile: that attempt owns the row
            return
        delivery.last_response_code = outcome.code
        delivery.last_response_ms = outcome.elapsed_ms
        delivery.last_error = outcome.error
        delivery.response_body = outcome.body
        if outcome.code is not None and 200 <= outcome.code < 300:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif now - delivery.first_attempt_at >= timedelta(seconds=settings.WEBHOOK_GIVE_UP_SECONDS):
            delivery.status = DeliveryStatus.GIVEN_UP
            delivery.next_attempt_at = None
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = now + retry_delay(claim.attempt)
        delivery.save()


def _attempt(claim: _Claim) -> None:
    try:
        delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=claim.delivery_id)
        outcome = _send(delivery)
        if outcome.code is None:
            logger.info("webhook %s attempt %s: %s", delivery.pk, claim.attempt, outcome.error)
        _record(claim, outcome)
    except Exception:
        # The lease runs out and the delivery is retried; other deliveries go on.
        logger.exception("webhook delivery %s attempt %s crashed", *vars(claim).values())


def _attempt_in_thread(claim: _Claim) -> None:
    try:
        _attempt(claim)
    finally:
        connections.close_all()  # this thread's own connections


def webhook_deliveries_send(*, limit: int | None = None) -> int:
    """Claim the due deliveries and send them, in parallel so that a slow or failing
    receiver holds up nobody else; returns how many were attempted."""
    claims = _claim_due(limit or settings.WEBHOOK_DELIVERY_BATCH)
    if not claims:
        return 0
    workers = max(1, min(settings.WEBHOOK_DELIVERY_CONCURRENCY, len(claims)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook") as pool:
        list(pool.map(_attempt_in_thread, claims))
    return len(claims)
