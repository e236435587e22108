"""Conditional requests on versioned records: ``ETag``, ``If-None-Match`` and ``If-Match``.

A record with a ``version`` column (bumped by every service that changes it) has the strong
entity tag ``"<id>-<version>"``. Reads send it as ``ETag`` and answer ``304 Not Modified``
when ``If-None-Match`` names it. Writes honour ``If-Match``: the version it names goes into
the service's ``expected_version``, which compares it under the row lock the write itself
takes, so the check and the write are one step (no read-then-write race). A stale tag is
``412 Precondition Failed`` and nothing is written.

``If-Match`` is optional (a client that sends none writes unconditionally, as before) and
``If-Match: *`` matches any existing record. Weak tags (``W/"…"``) never match ``If-Match``
(RFC 9110 compares strongly there); ``If-None-Match`` compares weakly.

The tag follows the record's stored state (its ``version``), not what is computed at read
time (e.g. SLA readings "remaining seconds"): those change every second without an edit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from servicedesk.api.serializers import ErrorSerializer
from servicedesk.exceptions import Conflict, NotFound, PreconditionFailed, ValidationFailed

# The codes services give a stale ``expected_version`` (``tickets.lock_objects``).
STALE_VERSION_CODES = frozenset({"stale_version"})

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')
_OUR_TAG = re.compile(r"^(\d+)-(\d+)$")


def etag_for(obj: Any) -> str:
    """The strong, quoted entity tag of a versioned record: ``"<id>-<version>"``."""
    return f'"{obj.pk}-{obj.version}"'


def _parse(header: str, name: str) -> tuple[bool, list[tuple[bool, str]]]:
    """``(any, [(weak, opaque), …])`` of an ``If-Match``/``If-None-Match`` value."""
    value = header.strip()
    if value == "*":
        return True, []
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(value):
        match = _TAG.match(value, position)
        if match is None or match.end() == position:
            raise ValidationFailed(
                _("The entity tag list is malformed: send tags as the ETag header gave them."),
                fields={name: [_('Expected e.g. "12-3".')]},
            )
        tags.append((bool(match.group(1)), match.group(2)))
        position = match.end()
    return False, tags


def is_not_modified(request: Request, obj: Any) -> bool:
    """True when ``If-None-Match`` names ``obj``'s current tag (or is ``*``): answer 304."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    try:
        any_tag, tags = _parse(header, "If-None-Match")
    except ValidationFailed:
        return False  # a tag list we cannot read names nothing we hold: a plain read
    current = etag_for(obj).strip('"')
    return any_tag or any(opaque == current for _weak, opaque in tags)


def if_match_version(request: Request, pk: int) -> int | None:
    """The version ``If-Match`` expects for record ``pk``; None when there is no header or
    it is ``*``. A header that names no strong tag of this record cannot match: 412."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    any_tag, tags = _parse(header, "If-Match")
    if any_tag:
        return None
    versions = set()
    for weak, opaque in tags:
        match = _OUR_TAG.match(opaque)
        if not weak and match and int(match.group(1)) == int(pk):
            versions.add(int(match.group(2)))
    if not versions:
        raise PreconditionFailed(
            _("If-Match names no current entity tag of this record: read it again.")
        )
    if len(versions) > 1:
        # Only one version can be current, and the service compares one: say which.
        raise ValidationFailed(
            _("If-Match names several versions of this record; send the one you read."),
            fields={"If-Match": [_("One entity tag of this record.")]},
        )
    return versions.pop()


def merge_expected_version(header_version: int | None, body_version: int | None) -> int | None:
    """One expected version from ``If-Match`` and a body ``version`` (kept for the older
    clients): equal or only one given. Two different ones cannot both be current: 412."""
    if header_version is not None and body_version not in (None, header_version):
        raise PreconditionFailed(
            _("If-Match and the body's version disagree; at most one can be current.")
        )
    return header_version if header_version is not None else body_version


@contextmanager
def precondition(header_version: int | None) -> Iterator[None]:
    """Run a service call; when the expectation came from ``If-Match``, a stale version is
    412 Precondition Failed (a body ``version`` keeps its 409 Conflict)."""
    try:
        yield
    except Conflict as exc:
        if header_version is not None and exc.code in STALE_VERSION_CODES:
            raise PreconditionFailed(exc.message) from None
        raise


@contextmanager
def version_held(*, queryset: QuerySet, pk: int, expected_version: int | None) -> Iterator[None]:
    """For a write whose service takes no ``expected_version``: one transaction that locks
    the row (``SELECT … FOR UPDATE``) and compares its version before the body runs. The
    lock is held until the body's writes commit, so nobody changes the row in between.

    ``queryset`` is the actor's scope (a row outside it is NotFound). The lock is taken on
    the record first, as the services lock it first, so the lock order stays the same.
    """
    with transaction.atomic():
        if expected_version is not None:
            current = (
                queryset.select_for_update(of=("self",))
                .filter(pk=pk)
                .values_list("version", flat=True)
                .first()
            )
            if current is None:
                raise NotFound()
            if current != expected_version:
                raise PreconditionFailed(
                    _("The record was changed by someone else (version %(cur)s, you had %(had)s).")
                    % {"cur": current, "had": expected_version}
                )
        yield


def with_etag(response: Response, obj: Any) -> Response:
    """``response`` carrying ``obj``'s current tag."""
    response["ETag"] = etag_for(obj)
    return response


def conditional_read(request: Request, obj: Any, render) -> Response:
    """A read of ``obj``: 304 with its tag when ``If-None-Match`` names it, else ``render()``
    with the tag."""
    if is_not_modified(request, obj):
        return with_etag(Response(status=status.HTTP_304_NOT_MODIFIED), obj)
    return with_etag(render(), obj)


# --- OpenAPI --------------------------------------------------------------------------------


def etag_header(*codes: int) -> OpenApiParameter:
    """The ``ETag`` response header, documented on the given status codes."""
    return OpenApiParameter(
        "ETag",
        type=str,
        location=OpenApiParameter.HEADER,
        response=list(codes),
        description=gettext_lazy(
            'The ticket\'s entity tag, "<id>-<version>"; send it back in If-Match to write '
            "only if nobody changed it since, or in If-None-Match to re-read cheaply."
        ),
    )


IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy(
        'Write only if the record is still at this entity tag (e.g. "12-3" from ETag); '
        "otherwise 412 and nothing changes. * matches any version. Without the header the "
        "write is unconditional."
    ),
)
IF_NONE_MATCH_HEADER = OpenApiParameter(
    "If-None-Match",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=gettext_lazy("An entity tag you hold: 304 with no body while it is current."),
)
PRECONDITION_FAILED = OpenApiResponse(
    ErrorSerializer,
    description=gettext_lazy(
        "If-Match names a version that is no longer current: nothing was changed."
    ),
)
NOT_MODIFIED = OpenApiResponse(
    None, description=gettext_lazy("If-None-Match names the current entity tag: no body.")
)
