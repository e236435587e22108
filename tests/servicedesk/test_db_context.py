"""The actor reaches PostgreSQL as transaction-local settings, and never leaks.

Each request below is served on the same database connection (the test client keeps it
open, like a pooled connection), and its transactions commit for real, so a value that
outlived its transaction would show up in the next one.
"""

from __future__ import annotations

import pytest
from celery import shared_task
from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import include, path
from rest_framework.decorators import api_view

from audit.models import AuditEntry
from servicedesk.db_context import DbContext, db_context
from servicedesk.models import User
from tests.conftest import api_client_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.servicedesk.test_db_context"),
]

_READ = (
    "SELECT current_setting('servicedesk.user_id', true),"
    " current_setting('servicedesk.organisation_id', true),"
    " current_setting('servicedesk.role', true),"
    " current_setting('servicedesk.request_id', true),"
    " pg_backend_pid()"
)


def database_context() -> dict[str, object]:
    """What a transaction opened now is told about its actor ('' or None: nothing)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_READ)
        user_id, org, role, request_id, pid = cursor.fetchone()
    return {"user_id": user_id, "org": org, "role": role, "request_id": request_id, "pid": pid}


@api_view(["GET"])
def api_context(request):
    return JsonResponse(database_context())


def html_context(request):
    return JsonResponse(database_context())


def html_rename(request):
    # Outside any atomic block: the UPDATE runs in autocommit mode.
    User.objects.filter(pk=request.user.pk).update(first_name="Renamed")
    return JsonResponse({})


@shared_task(name="tests.db_context_probe")
def context_probe_task() -> dict[str, object]:
    return database_context()


urlpatterns = [
    path("api/v1/ctx/", api_context),
    path("ctx/", html_context),
    path("rename/", html_rename),
    path("", include("servicedesk.urls")),  # the site's own routes stay reversible
]


def _empty(value: object) -> bool:
    return value in (None, "")


def test_a_token_request_tells_every_transaction_its_actor(world):
    # given a dispatcher calling the API with a token (the actor is known only in the view)
    dispatcher = world.actor("dispatcher")
    client = api_client_for(world.users["dispatcher"])

    # when a transaction runs inside the request
    response = client.get("/api/v1/ctx/")

    # then it carries the token's actor and the request's id
    body = response.json()
    assert body["user_id"] == str(dispatcher.user_id)
    assert body["org"] == str(dispatcher.organisation_id)
    assert body["role"] == "dispatcher"
    assert body["request_id"] == response["X-Request-ID"]


def test_a_session_request_resolves_its_actor_lazily(client, world):
    client.force_login(world.users["client_manager_a"])

    body = client.get("/ctx/").json()

    actor = world.actor("client_manager_a")
    assert (body["user_id"], body["org"], body["role"]) == (
        str(actor.user_id),
        str(actor.organisation_id),
        "client_manager",
    )


def test_sequential_requests_on_one_connection_never_see_each_other(client, world):
    # given one request by a dispatcher
    first = api_client_for(world.users["dispatcher"]).get("/api/v1/ctx/").json()

    # when the next request on the same connection comes from nobody signed in
    second = client.get("/ctx/").json()

    # then it sees no trace of the first one's actor
    assert second["pid"] == first["pid"]
    assert first["role"] == "dispatcher"
    assert _empty(second["user_id"]) and _empty(second["org"]) and _empty(second["role"])
    assert second["request_id"] != first["request_id"]


def test_a_transaction_after_a_request_sees_no_actor(world):
    during = api_client_for(world.users["provider_admin"]).get("/api/v1/ctx/").json()

    after = database_context()

    assert after["pid"] == during["pid"]
    assert during["role"] == "provider_admin"
    assert all(_empty(after[key]) for key in ("user_id", "org", "role", "request_id"))


def test_an_autocommit_write_in_a_request_is_attributed(client, world):
    # given a signed-in store employee whose request writes outside transaction.atomic
    user = world.users["store_staff_a1"]
    client.force_login(user)

    response = client.get("/rename/")

    # then the audit trigger saw the request's actor in that statement's transaction
    entry = AuditEntry.objects.filter(
        table_name="servicedesk_user", row_pk=str(user.pk), action="UPDATE"
    ).latest("id")
    assert entry.changed_columns == ["first_name"]
    assert entry.user_id == user.pk
    assert entry.role == "store_staff"
    assert entry.request_id == response["X-Request-ID"]


def test_a_task_without_an_actor_runs_as_system_under_its_own_id(world):
    result = context_probe_task.apply_async()

    body = result.get()
    assert body["role"] == "system"
    assert _empty(body["user_id"])
    assert body["request_id"] == result.id
    assert all(_empty(value) for key, value in database_context().items() if key != "pid")


def test_a_task_published_for_someone_acts_for_them(world):
    header = {"user_id": 42, "organisation_id": 7, "role": "dispatcher", "request_id": "req-1"}

    body = context_probe_task.apply_async(headers={"servicedesk_context": header}).get()

    assert (body["user_id"], body["org"], body["role"], body["request_id"]) == (
        "42",
        "7",
        "dispatcher",
        "req-1",
    )


def test_contexts_nest_and_the_innermost_wins(world):
    outer = DbContext(user_id=1, organisation_id=2, role="provider_admin", request_id="outer")
    inner = DbContext(user_id=3, organisation_id=4, role="dispatcher", request_id="inner")

    with db_context(lambda: outer):
        with db_context(lambda: inner):
            seen_inner = database_context()
        seen_outer = database_context()

    assert seen_inner["request_id"] == "inner" and seen_inner["role"] == "dispatcher"
    assert seen_outer["request_id"] == "outer" and seen_outer["user_id"] == "1"
    assert _empty(database_context()["request_id"])
