"""The base every API viewset stands on: rows come from a selector, scoped by the actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import QuerySet

from servicedesk.actors import Actor
from servicedesk.api.permissions import request_actor


class ScopedViewSetMixin:
    """Scoping in one place: ``get_queryset`` is ``selector(actor=<the request's actor>)``.

    A viewset names its selector, serializer and filterset; nothing else decides which rows a
    caller sees, so an out-of-scope id is a plain 404 from ``get_object``. Lookups are ints
    unless a viewset says otherwise, so ``/tickets/abc/`` never reaches a query.
    """

    selector: ClassVar[Callable[..., QuerySet] | None] = None
    lookup_value_converter: ClassVar[str] = "int"
    request: Any

    @property
    def actor(self) -> Actor | None:
        """The caller's actor; ``None`` only where ``HasActor`` is not required."""
        return request_actor(self.request)

    def get_queryset(self) -> QuerySet:
        selector = type(self).selector
        if selector is None:  # pragma: no cover - a programming error, caught in development
            raise NotImplementedError(f"{type(self).__name__} must set `selector`.")
        return selector(actor=self.actor)
