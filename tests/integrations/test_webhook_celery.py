"""Webhooks through real Celery workers and beat on a real Redis broker.

A new ticket reaches the receiver exactly once; a worker SIGKILLed while its request is at
the receiver leaves the delivery claimed but unfinished, and after the claim's lease runs
out a new worker sends it again and records it succeeded, once.
"""

from __future__ import annotations

import json
import signal

import pytest

from integrations.choices import DeliveryStatus
from integrations.models import WebhookDelivery
from integrations.services import webhook_endpoint_create
from tests.celery_support import celery_env, celery_processes, connected_database_url
from tests.integrations.receiver import HANG, verify
from tests.tickets.celery_field_support import log_problems, task_ids, wait_until
from tickets import services as ticket_services

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

LIMIT = 90  # the feed waits for transactions anywhere on the server (other test runs too)
SEND_TASK = "integrations.webhook_deliveries_send"


def _env(redis_broker: str) -> dict[str, str]:
    return celery_env(
        database_url=connected_database_url(),
        broker_url=redis_broker,
        settings="tests.integrations.celery_webhook_settings",
    )


def _setup(world, receiver):
    endpoint, secret = webhook_endpoint_create(
        actor=world.actor("client_manager_a"), url=receiver.url, event_types=["ticket.created"]
    )
    return endpoint, secret


def _open_ticket(world):
    return ticket_services.ticket_create(
        actor=world.actor("dispatcher"), store_id=world.store_a1.pk, subject="Till 7 is dead"
    )


def _more_send_runs(worker, runs: int = 3) -> None:
    """Wait until the worker has finished ``runs`` more send runs (beat fires every 1 s)."""
    before = len(task_ids(worker.log(), SEND_TASK, "succeeded"))
    wait_until(
        lambda: len(task_ids(worker.log(), SEND_TASK, "succeeded")) >= before + runs,
        limit=LIMIT,
        what=f"{runs} more send runs",
    )


def test_a_new_ticket_is_delivered_exactly_once(
    world, receivers, private_targets, redis_broker, tmp_path
):
    receiver = receivers()
    endpoint, secret = _setup(world, receiver)
    with celery_processes(workers=2, beat=True, env=_env(redis_broker), log_dir=tmp_path) as c:
        ticket = _open_ticket(world)
        wait_until(lambda: receiver.requests, limit=LIMIT, what="the webhook")
        wait_until(
            lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists(),
            limit=LIMIT,
            what="the delivery recorded",
        )
        for worker in c.workers:
            _more_send_runs(worker)
        assert log_problems(c.all) == []
    [received] = receiver.requests
    assert verify(secret, received)
    assert json.loads(received.body)["data"]["ticket"]["id"] == ticket.pk
    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)
    assert received.webhook_id == delivery.webhook_id


def test_a_worker_killed_mid_send_is_retried_after_its_lease_and_recorded_once(
    world, receivers, private_targets, redis_broker, tmp_path
):
    # Given a receiver that holds the first request open
    receiver = receivers(script=[HANG])
    endpoint, secret = _setup(world, receiver)
    env = _env(redis_broker)
    with celery_processes(workers=1, beat=True, env=env, log_dir=tmp_path / "before") as c:
        ticket = _open_ticket(world)
        # When the worker's request is at the receiver, the worker is killed, pool and all
        assert receiver.arrived.wait(LIMIT), c.logs()
        worker = c.workers[0]
        worker.kill(signal.SIGKILL)
        worker.process.wait(10)
    receiver.release.set()  # the held request now answers a dead socket
    # Then the delivery is left claimed (attempt 1) and not recorded as sent
    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.delivered_at) == ("pending", 1, None)

    # When a new worker and beat run
    with celery_processes(workers=1, beat=True, env=env, log_dir=tmp_path / "after") as c:
        wait_until(
            lambda: WebhookDelivery.objects.filter(
                pk=delivery.pk, status=DeliveryStatus.SUCCEEDED
            ).exists(),
            limit=LIMIT,
            what="the delivery sent again after its lease",
        )
        _more_send_runs(c.workers[0])
        assert log_problems(c.all) == []
    # Then it is recorded succeeded once, on its second attempt
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 2)
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
    # The kill came after the request was sent, so the receiver saw it twice, with the
    # same Webhook-Id: at-least-once delivery, and the id is what receivers dedupe on.
    assert [r.webhook_id for r in receiver.requests] == [delivery.webhook_id] * 2
    assert all(verify(secret, r) for r in receiver.requests)
    assert {json.loads(r.body)["data"]["ticket"]["id"] for r in receiver.requests} == {ticket.pk}
