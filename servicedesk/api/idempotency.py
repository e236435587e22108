"""``Idempotency-Key`` on every POST under ``/api/v1/``: a retried write happens once.

Semantics follow the IETF draft "The Idempotency-Key HTTP Header Field" and Stripe:

* The key is scoped to the caller: ``token:<id>`` for an API token, ``user:<id>@org:<id>``
  for a session user acting for an organisation. The same key from another caller is
  unrelated. A key is 1–255 printable ASCII characters (a structured-field string in
  double quotes, as the draft writes it, is accepted too); anything else is 400.
* The first request claims the key by inserting a unique row (``INSERT ... ON CONFLICT DO
  NOTHING``, committed at once), runs the view, then stores the response when it is final.
* A retry with the same method, path and body gets the stored response with
  ``Idempotent-Replayed: true``; the view does not run, so nothing is created twice.
* The same key with another path or body is 422; a duplicate arriving while the first is
  still running is 409 (the client retries later and then gets the replay).
* Final, hence stored: 2xx, 3xx and 4xx except those below. Not stored, so a retry really
  runs again: 5xx (the failure may be transient, and an atomic service wrote nothing),
  401/403 (credentials or roles can change), 408, 409 and 423 (a conflict with the current
  state, which can pass), 412 and 428 (a retry sends a fresh ``If-Match``), 425 and 429
  (a rate limit passes by definition), and streaming responses.
* Records live 24 hours. A claim whose request never finished (a worker killed mid-way)
  expires after ``IDEMPOTENCY_LOCK_SECONDS`` and frees the key. Expired rows are deleted in
  small batches whenever a key is claimed; no periodic task is needed.

Why a middleware rather than a DRF hook: it covers every POST under the API, viewsets,
``@action`` routes, plain ``APIView`` s and whatever an app adds later, with no base class
to remember and nothing in the apps' views; and it wraps the finished response, including
the exception handler's error bodies, so what is replayed is byte for byte what was sent.
The price is that the principal is resolved here, before the view does it again: the view's
own DRF authentication classes are run on a wrapper of the request (one token lookup more,
and only for requests that carry a key). The same middleware first refuses bodies over the
size limit (413), because it must read the body to fingerprint it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from servicedesk.api.errors import error_response, too_large_body
from servicedesk.models import ApiToken, IdempotencyRecord

API_PREFIX = "/api/v1/"
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# What a replay repeats besides the body: where the created thing is, its version, its type.
STORED_HEADERS = ("Content-Type", "Location", "ETag", "Last-Modified", "Content-Language")
NOT_FINAL = frozenset({401, 403, 408, 409, 412, 423, 425, 428, 429})
_PURGE_BATCH = 100
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def parse_key(raw: str) -> str:
    """The key in ``raw`` (quotes of a structured-field string removed) or ValueError."""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(_("An Idempotency-Key has 1 to 255 characters."))
    if any(not (" " <= char <= "~") for char in key):
        raise ValueError(_("An Idempotency-Key has printable ASCII characters only."))
    return key


def is_final(status_code: int) -> bool:
    """Whether a response with this status is stored and replayed (see the module doc)."""
    return 200 <= status_code < 500 and status_code not in NOT_FINAL


def request_principal(request: HttpRequest, view_func: Callable) -> str | None:
    """Who the view will see as the caller, or ``None`` (anonymous, or bad credentials: the
    view then answers 401 itself, and nothing is claimed)."""
    view_class = getattr(view_func, "cls", None)
    classes = getattr(view_class, "authentication_classes", None)
    if classes is None:
        classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    wrapper = Request(request, authenticators=[cls() for cls in classes])
    try:
        user, auth = wrapper.user, wrapper.auth
    except APIException:
        return None
    if isinstance(auth, ApiToken):
        return f"token:{auth.pk}"
    if user is None or not user.is_authenticated:
        return None
    actor = getattr(request, "actor", None)
    return f"user:{user.pk}@org:{actor.organisation_id if actor else '-'}"


def body_fingerprint(request: HttpRequest) -> str:
    """SHA-256 of what the request asks for.

    Multipart bodies are fingerprinted by their fields and files, not their bytes: a client
    picks a new random boundary on every retry, so the raw bytes always differ.
    """
    digest = hashlib.sha256()
    if request.content_type != "multipart/form-data":
        digest.update(request.body)
        return digest.hexdigest()
    for name in sorted(request.POST):
        for value in request.POST.getlist(name):
            digest.update(f"field\0{name}\0{len(value)}\0{value}\0".encode())
    for name in sorted(request.FILES):
        for uploaded in request.FILES.getlist(name):
            digest.update(f"file\0{name}\0{uploaded.name}\0{uploaded.size}\0".encode())
            for chunk in uploaded.chunks():
                digest.update(chunk)
            uploaded.seek(0)
    return digest.hexdigest()


def _table() -> str:
    return connection.ops.quote_name(IdempotencyRecord._meta.db_table)


def _claim(*, principal: str, key: str, method: str, path: str, body_sha256: str) -> int | None:
    """Insert the in-progress row and commit it; its id, or ``None`` if the key is taken."""
    now = timezone.now()
    table = _table()
    with transaction.atomic(), connection.cursor() as cursor:
        # Expired records of this key first (so it can be reused), then a small batch of
        # everyone's: the clean-up rides on the writes instead of a periodic task.
        cursor.execute(
            f"DELETE FROM {table} WHERE principal = %s AND key = %s AND expires_at <= %s",
            [principal, key, now],
        )
        cursor.execute(
            f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE expires_at <= %s "
            f"ORDER BY expires_at LIMIT {_PURGE_BATCH} FOR UPDATE SKIP LOCKED)",
            [now],
        )
        cursor.execute(
            f"INSERT INTO {table} (principal, key, method, path, body_sha256, created_at, "
            "expires_at, response_headers, response_body) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, '{}', '') "
            "ON CONFLICT (principal, key) DO NOTHING RETURNING id",
            [
                principal,
                key,
                method,
                path,
                body_sha256,
                now,
                now + timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS),
            ],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _answer_existing(
    *, principal: str, key: str, method: str, path: str, body_sha256: str
) -> HttpResponse | None:
    """The answer to a request whose key is taken: 422, 409 or the replay.

    ``None`` when the row vanished in between (its request ended without a final answer),
    so the caller may claim the key again.
    """
    record = (
        IdempotencyRecord.objects.filter(
            principal=principal, key=key, expires_at__gt=timezone.now()
        )
        .only("method", "path", "body_sha256", "completed_at", "response_status")
        .first()
    )
    if record is None:
        return None
    if (record.method, record.path, record.body_sha256) != (method, path, body_sha256):
        message = _(
            "This Idempotency-Key was already used for a different request; "
            "use a new key for a new request."
        )
        return error_response(422, "idempotency_key_reused", message, {HEADER: [message]})
    if record.completed_at is None:
        return _in_progress()
    record.refresh_from_db(fields=["response_headers", "response_body"])
    replay = HttpResponse(bytes(record.response_body), status=record.response_status)
    for name, value in record.response_headers.items():
        replay[name] = value
    replay[REPLAYED_HEADER] = "true"
    return replay


def _finish(record_id: int, response: HttpResponse) -> None:
    """Store a final response for replay, or free the key so a retry runs again."""
    records = IdempotencyRecord.objects.filter(pk=record_id, completed_at__isnull=True)
    if response.streaming or not is_final(response.status_code):
        records.delete()
        return
    now = timezone.now()
    records.update(
        completed_at=now,
        expires_at=now + timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS),
        response_status=response.status_code,
        response_headers={name: response[name] for name in STORED_HEADERS if name in response},
        response_body=response.content,
    )


def oversized_response(request: HttpRequest) -> JsonResponse | None:
    """413 before the body is read when its declared length is over the limit.

    DRF's JSON parser reads the stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    never applies to it; this check does. Multipart bodies may carry a file up to
    MAX_UPLOAD_BYTES plus their form fields.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None  # the parser answers a malformed length
    if request.content_type == "multipart/form-data":
        limit = settings.MAX_MULTIPART_REQUEST_BYTES
    else:
        limit = settings.MAX_REQUEST_BYTES
    if length <= limit:
        return None
    body = too_large_body()["error"]
    return error_response(413, body["code"], body["message"])


class IdempotencyMiddleware:
    """Request size limit and ``Idempotency-Key`` for the API (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX) or request.method not in _BODY_METHODS:
            return self.get_response(request)
        refused = oversized_response(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        record_id = getattr(request, "_idempotency_record_id", None)
        if record_id is not None:
            _finish(record_id, response)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        raw = request.headers.get(HEADER)
        if raw is None or request.method != "POST" or not request.path.startswith(API_PREFIX):
            return None
        if request.resolver_match.view_name in settings.IDEMPOTENCY_EXEMPT_URL_NAMES:
            return None
        try:
            key = parse_key(raw)
        except ValueError as exc:
            return error_response(400, "idempotency_key_invalid", str(exc), {HEADER: [str(exc)]})
        principal = request_principal(request, view_func)
        if principal is None:
            return None
        try:
            body_sha256 = body_fingerprint(request)
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
            body = too_large_body()["error"]
            return error_response(413, body["code"], body["message"])
        except MultiPartParserError:
            return None  # the view's parser answers 400; nothing to make idempotent
        request_id = {
            "principal": principal,
            "key": key,
            "method": request.method,
            "path": request.get_full_path(),
            "body_sha256": body_sha256,
        }
        # Twice at most: a claim we lose to a request that then ends without a final answer
        # frees the key again.
        for _attempt in range(2):
            record_id = _claim(**request_id)
            if record_id is not None:
                request._idempotency_record_id = record_id
                return None
            answer = _answer_existing(**request_id)
            if answer is not None:
                return answer
        return _in_progress()


def _in_progress() -> JsonResponse:
    return error_response(
        409,
        "idempotency_request_in_progress",
        _("A request with this Idempotency-Key is in progress; retry after it finishes."),
        headers={"Retry-After": "1"},
    )
