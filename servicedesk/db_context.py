"""Who is acting, told to PostgreSQL: transaction-local settings for triggers (and, later,
row-level security policies).

Every transaction opened while serving a request or running a Celery task starts with::

    SELECT set_config('servicedesk.user_id', …, true),
           set_config('servicedesk.organisation_id', …, true),
           set_config('servicedesk.role', …, true),
           set_config('servicedesk.request_id', …, true)

``is_local = true`` scopes the values to that one transaction: when it ends they are gone,
so a pooled connection never carries one request's actor into the next transaction.
SQL reads them with ``NULLIF(current_setting('servicedesk.user_id', true), '')``.

How: one ``connection.execute_wrapper`` looks at each statement. When it is the first one
of a transaction (Django is inside ``atomic`` and the server connection is still idle),
the context statement goes first, on the same connection. The actor is read *then*, from a
provider, because it is not known when a request starts: DRF token authentication sets
``request.actor`` inside the view.

A block that starts or ends while a transaction is already open (a task run in-process
inside a request's transaction; a test wrapped in one) re-tells that transaction: the
innermost block's actor while it runs, the outer one's (or none) after it.

Statements in autocommit mode (outside ``atomic``) are their own transactions, so no
``set_config(..., true)`` can precede them. A data-changing one (``INSERT``, ``UPDATE``,
``DELETE``, ``MERGE``, a writing ``WITH``) is therefore wrapped in a short transaction of its
own that starts with the context; plain reads in autocommit go through untouched (one round
trip, not four). Services write inside ``transaction.atomic`` anyway; this catches
``Model.save()`` and ``QuerySet.update()`` called outside one (e.g. ``last_login``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connections
from django.utils.functional import empty
from psycopg.pq import TransactionStatus

SYSTEM_ROLE = "system"

_SET_CONTEXT_SQL = (
    "SELECT set_config('servicedesk.user_id', %s, true),"
    " set_config('servicedesk.organisation_id', %s, true),"
    " set_config('servicedesk.role', %s, true),"
    " set_config('servicedesk.request_id', %s, true)"
)
# Statements that change no table rows: they need no actor. Anything else in autocommit is
# treated as a write (the safe side: it costs a BEGIN/COMMIT, never a missing actor).
_READ_ONLY_STARTS = (
    "SELECT",
    "SHOW",
    "SET",
    "EXPLAIN",
    "VALUES",
    "DECLARE",
    "FETCH",
    "MOVE",
    "CLOSE",
    "SAVEPOINT",
    "RELEASE",
    "ROLLBACK",
)


@dataclass(frozen=True)
class DbContext:
    """What the database is told about the actor of the current transaction."""

    user_id: int | None
    organisation_id: int | None
    role: str
    request_id: str | None

    def as_params(self) -> list[str]:
        return [
            "" if self.user_id is None else str(self.user_id),
            "" if self.organisation_id is None else str(self.organisation_id),
            self.role,
            self.request_id or "",
        ]

    def as_header(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "organisation_id": self.organisation_id,
            "role": self.role,
            "request_id": self.request_id,
        }

    @classmethod
    def from_header(cls, header: Any) -> DbContext | None:
        """The context a task was published with, or ``None`` if the header is unusable."""
        if not isinstance(header, dict):
            return None
        try:
            return cls(
                user_id=_int_or_none(header.get("user_id")),
                organisation_id=_int_or_none(header.get("organisation_id")),
                role=str(header.get("role") or SYSTEM_ROLE)[:32],
                request_id=(str(header["request_id"])[:64] if header.get("request_id") else None),
            )
        except (TypeError, ValueError):
            return None


def _int_or_none(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def system_context(request_id: str | None = None) -> DbContext:
    """Work nobody asked for in person: beat's sweep, the outbox relay, commands."""
    return DbContext(user_id=None, organisation_id=None, role=SYSTEM_ROLE, request_id=request_id)


def context_for_actor(actor: Any, request_id: str | None) -> DbContext:
    """The context of ``actor`` (an ``Actor``) or, with no actor, an anonymous one."""
    if not actor:
        return DbContext(user_id=None, organisation_id=None, role="", request_id=request_id)
    return DbContext(
        user_id=actor.user_id,
        organisation_id=actor.organisation_id,
        role=actor.role,
        request_id=request_id,
    )


Provider = Callable[[], DbContext | None]

_provider: ContextVar[Provider | None] = ContextVar("servicedesk_db_context", default=None)
# Set while a provider runs: the queries it makes to find the actor pass straight through.
_resolving: ContextVar[bool] = ContextVar("servicedesk_db_context_resolving", default=False)
_may_resolve: ContextVar[bool] = ContextVar("servicedesk_db_context_may_resolve", default=True)


def current_context(*, resolve: bool = True) -> DbContext | None:
    """The context the next transaction would get. With ``resolve=False`` a provider may
    answer ``None`` ("not known without a query") instead of resolving a lazy actor."""
    provider = _provider.get()
    if provider is None:
        return None
    token = _resolving.set(True)
    may_resolve = _may_resolve.set(resolve)
    try:
        return provider()
    finally:
        _may_resolve.reset(may_resolve)
        _resolving.reset(token)


def may_resolve() -> bool:
    """For providers: whether this call may run queries to find the actor."""
    return _may_resolve.get()


@contextmanager
def db_context(provider: Provider) -> Iterator[None]:
    """Give every transaction opened inside the block the context ``provider()`` returns
    at that transaction's start. Blocks nest: the innermost provider wins."""
    token = _provider.set(provider)
    installed = _install()
    try:
        yield
    finally:
        _provider.reset(token)
        _restore()
        _uninstall(installed)


def activate(provider: Provider) -> Callable[[], None]:
    """``db_context`` for callers with separate start and end hooks (Celery signals);
    returns the function that ends it."""
    manager = db_context(provider)
    manager.__enter__()
    return lambda: manager.__exit__(None, None, None)


# The context last told to each connection's open transaction, so a block that begins or
# ends *inside* a transaction (a task run in-process by a request, a test's transaction)
# re-tells it, and the values never outlive the block within that transaction.
_APPLIED = "_servicedesk_db_context"
_CLEARED = DbContext(user_id=None, organisation_id=None, role="", request_id=None)


def _install() -> list[Any]:
    installed = []
    for conn in connections.all():
        if _wrapper not in conn.execute_wrappers:
            conn.execute_wrappers.append(_wrapper)
            installed.append(conn)
    return installed


def _uninstall(installed: list[Any]) -> None:
    for conn in installed:
        if _wrapper in conn.execute_wrappers:
            conn.execute_wrappers.remove(_wrapper)


def _restore() -> None:
    """On leaving a block: a transaction still open gets the outer block's context back
    (or none); one in error is rolled back anyway."""
    for conn in connections.all(initialized_only=True):
        applied = getattr(conn, _APPLIED, None)
        setattr(conn, _APPLIED, None)
        raw = conn.connection
        if applied is None or raw is None or raw.info.transaction_status != _INTRANS:
            continue
        outer = current_context(resolve=False) or _CLEARED
        if outer != applied:
            try:
                raw.execute(_SET_CONTEXT_SQL, outer.as_params())
            except psycopg.Error:
                continue  # the transaction is broken; it will be rolled back, values and all
            setattr(conn, _APPLIED, outer)


def _writes(sql: str) -> bool:
    head = sql.lstrip(" \t\r\n(").upper()
    if head.startswith("WITH"):
        return any(word in head for word in ("INSERT", "UPDATE", "DELETE", "MERGE"))
    return not head.startswith(_READ_ONLY_STARTS)


_IDLE = TransactionStatus.IDLE
_INTRANS = TransactionStatus.INTRANS


def _wrapper(execute, sql, params, many, context):
    if _provider.get() is None or _resolving.get():
        return execute(sql, params, many, context)
    conn = context["connection"]
    raw = conn.connection
    if not conn.get_autocommit():
        status = raw.info.transaction_status
        if status == _IDLE:
            _apply(conn, raw, current_context())
        elif status == _INTRANS:
            # Already inside a transaction (the block began inside it): tell it when the
            # actor became known or changed. Never resolve a lazy actor here: its own
            # resolution may be what is running this statement.
            wanted = current_context(resolve=False)
            if wanted is not None and wanted != getattr(conn, _APPLIED, None):
                _apply(conn, raw, wanted)
        return execute(sql, params, many, context)
    if _writes(sql):
        try:
            with raw.transaction():
                _apply(conn, raw, current_context())
                return execute(sql, params, many, context)
        finally:
            setattr(conn, _APPLIED, None)  # that transaction is over
    return execute(sql, params, many, context)


def _apply(conn: Any, raw: Any, context: DbContext | None) -> None:
    if context is None:
        return
    raw.execute(_SET_CONTEXT_SQL, context.as_params())
    setattr(conn, _APPLIED, context if raw.info.transaction_status == _INTRANS else None)


def request_context_provider(request: Any) -> Provider:
    """The provider for a request: its actor as known at each transaction's start (token
    authentication replaces ``request.actor`` inside the view)."""

    def provide() -> DbContext | None:
        actor = getattr(request, "actor", None)
        if getattr(actor, "_wrapped", None) is empty:
            # ActorMiddleware's lazy actor, not asked for yet. Resolving it caches it for the
            # rest of the request, so do that only for a signed-in user: while signing in, an
            # early write must not pin the actor to "anonymous" before login() runs.
            user = getattr(request, "user", None)
            if not may_resolve() and getattr(user, "_wrapped", None) is empty:
                return None
            if not may_resolve() and user is not None and user.is_authenticated:
                return None
            if user is None or not user.is_authenticated:
                actor = None
        return context_for_actor(actor if actor else None, getattr(request, "request_id", None))

    return provide


class DbContextMiddleware:
    """After ``ActorMiddleware``: every transaction of the request carries its actor."""

    def __init__(self, get_response: Callable[[Any], Any]):
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        with db_context(request_context_provider(request)):
            return self.get_response(request)
