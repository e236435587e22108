"""``Idempotency-Key`` on API POSTs: a retried write happens once, per caller, per request."""

from __future__ import annotations

import hashlib
import sys
import threading
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import include, path
from django.utils import timezone
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from servicedesk.api.errors import error_body
from servicedesk.models import ApiToken, IdempotencyRecord
from tickets.models import Attachment, Comment, Ticket

TICKETS = "/api/v1/tickets/"
KEY = "HTTP_IDEMPOTENCY_KEY"


def new_key() -> str:
    return str(uuid.uuid4())


def ticket_body(world, subject: str = "Till is down") -> dict:
    return {"store": world.store_a1.pk, "subject": subject}


# -- test-only endpoints under /api/v1/, to make a view fail or wait on demand ----------------

calls: list[str] = []
entered = threading.Event()
release = threading.Event()


class FlakyView(APIView):
    """Fails the first time (503, then an unhandled error), succeeds afterwards."""

    def post(self, request, *args, **kwargs):
        calls.append("flaky")
        if len(calls) == 1:
            return Response(error_body("unavailable", "try again"), status=503)
        if len(calls) == 2:
            raise RuntimeError("a bug")
        return Response({"call": len(calls)}, status=status.HTTP_201_CREATED)


class SlowView(APIView):
    """Holds the request until the test releases it, so a duplicate arrives mid-way."""

    def post(self, request, *args, **kwargs):
        calls.append("slow")
        entered.set()
        assert release.wait(timeout=30)
        return Response({"call": len(calls)}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("api/v1/test-flaky/", FlakyView.as_view()),
    path("api/v1/test-slow/", SlowView.as_view()),
    path("", include("servicedesk.urls")),
]


@pytest.fixture
def test_views(settings):
    calls.clear()
    entered.clear()
    release.clear()
    settings.ROOT_URLCONF = sys.modules[__name__]
    yield
    release.set()


# -- retries --------------------------------------------------------------------------------


def test_retry_with_the_same_key_and_body_replays_the_first_answer_and_creates_once(world, api_for):
    # given
    client = api_for(world.users["dispatcher"])
    key = new_key()
    before = Ticket.objects.count()

    # when the same request is sent twice
    first = client.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=key)
    second = client.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=key)

    # then one ticket exists and the retry got the first answer, marked as replayed
    assert first.status_code == 201, first.content
    assert second.status_code == 201
    assert Ticket.objects.count() == before + 1
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    for header in ("Location", "ETag"):
        assert second.get(header) == first.get(header)
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"


def test_a_new_key_is_a_new_request(world, api_for):
    client = api_for(world.users["dispatcher"])
    before = Ticket.objects.count()

    client.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=new_key())
    client.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=new_key())

    assert Ticket.objects.count() == before + 2


def test_a_validation_error_is_final_and_replayed(world, api_for):
    # given a request the API refuses
    client = api_for(world.users["dispatcher"])
    key = new_key()
    bad = {"store": world.store_a1.pk}

    first = client.post(TICKETS, bad, HTTP_IDEMPOTENCY_KEY=key)
    second = client.post(TICKETS, bad, HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == second.status_code == 400
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"


def test_same_key_with_a_different_body_is_422_and_creates_nothing(world, api_for):
    # given a key used once
    client = api_for(world.users["dispatcher"])
    key = new_key()
    client.post(TICKETS, ticket_body(world, "Till is down"), HTTP_IDEMPOTENCY_KEY=key)
    before = Ticket.objects.count()

    # when it comes back with another body
    response = client.post(TICKETS, ticket_body(world, "Printer jam"), HTTP_IDEMPOTENCY_KEY=key)

    # then
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in error["fields"]
    assert Ticket.objects.count() == before
    assert not Ticket.objects.filter(subject="Printer jam").exists()


def test_same_key_on_a_different_path_is_422_and_writes_nothing(world, api_for):
    # given a key used to create a ticket
    client = api_for(world.users["dispatcher"])
    key = new_key()
    client.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=key)
    comments = Comment.objects.count()

    # when the same key is sent with a comment
    response = client.post(
        f"{TICKETS}{world.tickets['a1'].pk}/comments/",
        {"body": "On my way"},
        HTTP_IDEMPOTENCY_KEY=key,
    )

    # then
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Comment.objects.count() == comments


def test_keys_belong_to_their_caller(world, api_for):
    # given two tokens (of two users, and two of one user) sending the same key
    key = new_key()
    dispatcher = api_for(world.users["dispatcher"])
    dispatcher_again = api_for(world.users["dispatcher"])
    client_manager = api_for(world.users["client_manager_a"])
    before = Ticket.objects.count()

    # when
    answers = [
        caller.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=key)
        for caller in (dispatcher, dispatcher_again, client_manager)
    ]

    # then each created its own ticket: no caller sees another's stored answer
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert all("Idempotent-Replayed" not in answer for answer in answers)
    assert len({answer.json()["id"] for answer in answers}) == 3
    assert Ticket.objects.count() == before + 3


def test_session_callers_get_replays_too(world):
    client = APIClient()
    client.force_login(world.users["dispatcher"])
    key = new_key()
    before = Ticket.objects.count()

    first = client.post(TICKETS, ticket_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key)
    second = client.post(TICKETS, ticket_body(world), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == before + 1
    assert IdempotencyRecord.objects.get().principal.startswith("user:")


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "tab\there", "ключ", '""'],
    ids=["empty", "too-long", "control-character", "non-ascii", "empty-quoted"],
)
def test_an_invalid_key_is_400_and_creates_nothing(world, api_for, key):
    before = Ticket.objects.count()

    response = api_for(world.users["dispatcher"]).post(
        TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=key
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_invalid"
    assert "Idempotency-Key" in error["fields"]
    assert Ticket.objects.count() == before


def test_a_quoted_structured_field_key_is_the_same_key(world, api_for):
    # The IETF draft writes the key as a structured-field string: "…" in double quotes.
    client = api_for(world.users["dispatcher"])
    key = new_key()
    before = Ticket.objects.count()

    client.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=f'"{key}"')
    second = client.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=key)

    assert second["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == before + 1


def test_the_token_endpoint_never_stores_its_secret(world):
    # given a caller that sends a key when asking for a token
    world.users["dispatcher"].set_password("s3cret-pass")
    world.users["dispatcher"].save()
    client = APIClient()
    key = new_key()
    body = {"username": "dispatcher", "password": "s3cret-pass"}

    first = client.post("/api/v1/auth/token/", body, HTTP_IDEMPOTENCY_KEY=key)
    second = client.post("/api/v1/auth/token/", body, HTTP_IDEMPOTENCY_KEY=key)

    # then each call issued its own token and no answer was kept
    assert first.status_code == second.status_code == 201
    assert first.json()["token"] != second.json()["token"]
    assert not IdempotencyRecord.objects.exists()


def test_multipart_retry_with_a_new_boundary_is_the_same(world, api_for, settings, tmp_path):
    # given an upload sent twice, as a client library would: a new random boundary each time
    settings.MEDIA_ROOT = str(tmp_path)
    client = api_for(world.users["dispatcher"])
    key = new_key()
    url = f"{TICKETS}{world.tickets['a1'].pk}/attachments/"
    before = Attachment.objects.count()

    def send(boundary: str):
        body = (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="notes.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n"
            "till 3 is down\r\n"
            f"--{boundary}--\r\n"
        ).encode()
        return client.generic(
            "POST",
            url,
            body,
            content_type=f"multipart/form-data; boundary={boundary}",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    first = send("a1b2c3")
    second = send("z9y8x7")

    # then one file, and the retry is the replay
    assert first.status_code == 201, first.content
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert Attachment.objects.count() == before + 1


# -- what is not kept ------------------------------------------------------------------------


def test_server_errors_are_not_kept_so_a_retry_really_runs(world, api_for, test_views):
    # given an endpoint that fails twice (503, then a crash) before it works
    client = api_for(world.users["dispatcher"])
    client.raise_request_exception = False
    key = new_key()

    # when the client retries with the same key
    first = client.post("/api/v1/test-flaky/", {"a": 1}, HTTP_IDEMPOTENCY_KEY=key)
    second = client.post("/api/v1/test-flaky/", {"a": 1}, HTTP_IDEMPOTENCY_KEY=key)
    third = client.post("/api/v1/test-flaky/", {"a": 1}, HTTP_IDEMPOTENCY_KEY=key)
    fourth = client.post("/api/v1/test-flaky/", {"a": 1}, HTTP_IDEMPOTENCY_KEY=key)

    # then every failure ran the view again; the first success is kept and replayed
    assert [first.status_code, second.status_code, third.status_code] == [503, 500, 201]
    assert fourth.status_code == 201
    assert fourth["Idempotent-Replayed"] == "true"
    assert fourth.json() == third.json() == {"call": 3}
    assert calls == ["flaky", "flaky", "flaky"]


def test_records_expire_after_a_day(world, api_for):
    client = api_for(world.users["dispatcher"])
    key = new_key()
    before = Ticket.objects.count()
    client.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=key)

    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1)):
        again = client.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=key)

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Ticket.objects.count() == before + 2
    assert IdempotencyRecord.objects.count() == 1  # the expired record was cleaned up


def test_a_claim_left_by_a_crashed_worker_frees_the_key_after_a_minute(world, api_for):
    # given an in-progress claim whose worker died (no answer was ever written)
    client = api_for(world.users["dispatcher"])
    token = ApiToken.objects.latest("id")
    key = new_key()
    now = timezone.now()
    IdempotencyRecord.objects.create(
        principal=f"token:{token.pk}",
        key=key,
        method="POST",
        path=TICKETS,
        body_sha256=hashlib.sha256(JSONRenderer().render(ticket_body(world))).hexdigest(),
        created_at=now,
        expires_at=now + timedelta(seconds=60),
    )
    before = Ticket.objects.count()

    # when the client retries while it is fresh, then after it went stale
    with time_machine.travel(now + timedelta(seconds=30)):
        blocked = client.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=key)
    with time_machine.travel(now + timedelta(seconds=61)):
        retried = client.post(TICKETS, ticket_body(world), HTTP_IDEMPOTENCY_KEY=key)

    # then the fresh claim held the key, the stale one did not
    assert blocked.status_code == 409
    assert retried.status_code == 201
    assert Ticket.objects.count() == before + 1


# -- concurrent duplicates (real threads, real connections) ------------------------------------


def _post_in_thread(client: APIClient, url: str, body: dict, key: str, out: list) -> None:
    try:
        out.append(client.post(url, body, HTTP_IDEMPOTENCY_KEY=key))
    finally:
        connection.close()


def test_a_duplicate_while_the_first_still_runs_is_409_then_the_replay(
    transactional_db, world, api_for, test_views
):
    # given a first request held inside its view
    client = api_for(world.users["dispatcher"])
    key = new_key()
    results: list = []
    first = threading.Thread(
        target=_post_in_thread, args=(client, "/api/v1/test-slow/", {"a": 1}, key, results)
    )
    first.start()
    assert entered.wait(timeout=30)

    # when the duplicate arrives meanwhile
    duplicate = client.post("/api/v1/test-slow/", {"a": 1}, HTTP_IDEMPOTENCY_KEY=key)

    # then it is told to come back, and after the first finished it gets the replay
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "idempotency_request_in_progress"
    assert int(duplicate["Retry-After"]) >= 1
    release.set()
    first.join(timeout=30)
    assert results[0].status_code == 201
    later = client.post("/api/v1/test-slow/", {"a": 1}, HTTP_IDEMPOTENCY_KEY=key)
    assert later.status_code == 201
    assert later["Idempotent-Replayed"] == "true"
    assert later.json() == results[0].json()
    assert calls == ["slow"]


def test_two_simultaneous_creates_with_one_key_make_one_ticket(transactional_db, world, api_for):
    # given two threads sending the same create at the same moment
    client = api_for(world.users["dispatcher"])
    key = new_key()
    before = Ticket.objects.count()
    barrier = threading.Barrier(2)
    results: list = []

    def send() -> None:
        barrier.wait(timeout=30)
        _post_in_thread(client, TICKETS, ticket_body(world), key, results)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then exactly one ticket; one answer is the 201, the other a 409 or its replay
    assert Ticket.objects.count() == before + 1
    codes = sorted(result.status_code for result in results)
    assert codes in ([201, 201], [201, 409])
    created = [r for r in results if r.status_code == 201 and "Idempotent-Replayed" not in r]
    assert len(created) == 1
