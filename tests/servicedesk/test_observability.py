"""Request ids, JSON log lines and the Prometheus endpoint."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.test import override_settings

from servicedesk.models import OutboxMessage
from tickets.tasks import sla_sweep_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """What the configured console handler writes, line by line (the real LOGGING setup)."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield lambda: [line for line in stream.getvalue().splitlines() if line]
    finally:
        handler.setStream(previous)


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or None if it is absent."""
    for line in text.splitlines():
        if not line.startswith(name + ("{" if labels else " ")):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_every_log_line_is_json_with_the_request_id_of_the_response(client, world, log_lines):
    client.force_login(world.users["dispatcher"])

    response = client.get("/tickets/")

    request_id = response["X-Request-ID"]
    records = [json.loads(line) for line in log_lines()]
    request_line = next(r for r in records if r["logger"] == "servicedesk.request")
    assert request_line["request_id"] == request_id
    assert request_line["method"] == "GET" and request_line["path"] == "/tickets/"
    assert request_line["status"] == 200 and request_line["duration_ms"] >= 0
    assert request_line["user_id"] == world.users["dispatcher"].pk
    assert request_line["org"] == world.provider.pk
    assert {"time", "level", "logger", "message"} <= set(request_line)


def test_a_log_line_written_inside_a_view_carries_the_request_id(client, world, log_lines):
    client.force_login(world.users["dispatcher"])

    response = client.get("/no-such-page/")  # Django logs the 404 from inside the handler

    records = [json.loads(line) for line in log_lines()]
    assert response.status_code == 404
    not_found = next(r for r in records if r["logger"] == "django.request")
    assert not_found["request_id"] == response["X-Request-ID"]
    assert not_found["level"] == "WARNING"


@pytest.mark.parametrize(
    "given",
    ["", "x" * 65, "bad id with spaces", "<script>", "id\r\nSet-Cookie: a=b", "ключ"],
)
def test_an_unusable_request_id_is_replaced(client, given):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)

    assert response["X-Request-ID"] != given
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", response["X-Request-ID"]
    )


@pytest.mark.parametrize("given", ["3f1c2b9e-8d7a-4c4b-9a51-2f0e6d3c1b7a", "lb-7781:edge.2"])
def test_a_sane_request_id_is_kept(client, given):
    assert client.get("/healthz", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given


def test_metrics_show_request_latency_by_route_after_a_request(client):
    client.get("/healthz")

    response = client.get("/metrics")

    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    count = _sample(
        text,
        "servicedesk_http_request_duration_seconds_count",
        route="healthz",
        method="GET",
        status="200",
    )
    assert count is not None and count >= 1
    assert "# TYPE servicedesk_http_request_duration_seconds histogram" in text


def test_metrics_show_the_sweep_and_its_breaches_after_a_sweep(client):
    def sweeps() -> float:
        text = client.get("/metrics").content.decode()
        return _sample(text, "servicedesk_sla_sweep_duration_seconds_count") or 0.0

    before = sweeps()
    sla_sweep_task.apply().get()

    assert sweeps() == before + 1
    text = client.get("/metrics").content.decode()
    assert _sample(text, "servicedesk_sla_breaches_total") is not None
    assert _sample(text, "servicedesk_sla_warnings_total") is not None


def test_metrics_show_the_outbox_backlog_and_no_queue_in_eager_mode(client):
    OutboxMessage.objects.create(topic="tickets.escalate", key="k-1", payload={})
    OutboxMessage.objects.create(topic="tickets.escalate", key="k-2", payload={})

    text = client.get("/metrics").content.decode()

    assert _sample(text, "servicedesk_outbox_backlog") == 2
    assert "servicedesk_celery_queue_depth{" not in text


def test_metrics_show_the_broker_queue_depth(client, redis_broker):
    import redis

    broker = redis.Redis.from_url(redis_broker)
    broker.rpush("celery", "task-1", "task-2", "task-3")
    with override_settings(CELERY_BROKER_URL=redis_broker, CELERY_TASK_ALWAYS_EAGER=False):
        text = client.get("/metrics").content.decode()
    broker.close()

    assert _sample(text, "servicedesk_celery_queue_depth", queue="celery") == 3


@pytest.mark.parametrize("address", ["8.8.8.8", "203.0.113.9", "2001:db8::1", "unknown"])
def test_metrics_are_not_shown_to_outside_addresses(client, address):
    response = client.get("/metrics", REMOTE_ADDR=address)

    assert response.status_code == 404
    assert b"servicedesk_" not in response.content


@pytest.mark.parametrize("address", ["127.0.0.1", "10.2.3.4", "172.20.0.5", "192.168.1.9"])
def test_metrics_are_shown_to_internal_addresses(client, address):
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200


@override_settings(METRICS_TOKEN="s3cret-scrape")
def test_with_a_token_only_its_bearer_may_scrape(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    response = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape", REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 200
    assert b"servicedesk_outbox_backlog" in response.content


def test_a_task_published_while_serving_someone_carries_them_to_the_broker(redis_broker):
    import redis

    from servicedesk.celery import app
    from servicedesk.db_context import DbContext, db_context
    from servicedesk.observability import bind_request_id, unbind_request_id

    # given a request's actor and id
    acting = DbContext(user_id=5, organisation_id=9, role="dispatcher", request_id="req-77")
    token = bind_request_id("req-77")
    try:
        # when a task is published to a real broker
        with db_context(lambda: acting), app.connection_for_write(redis_broker) as conn:
            app.send_task("tickets.sla_sweep", connection=conn)
    finally:
        unbind_request_id(token)

    # then the message's headers name them
    broker = redis.Redis.from_url(redis_broker)
    message = json.loads(broker.lpop("celery"))
    broker.close()
    assert message["headers"]["servicedesk_context"] == {
        "user_id": 5,
        "organisation_id": 9,
        "role": "dispatcher",
        "request_id": "req-77",
    }
