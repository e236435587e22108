"""Webhooks end to end against real receivers on 127.0.0.1: fan-out, signing, retries,
timeouts, giving up, replay, redirects, send-time SSRF checks and tenant isolation.

Committed for real (``transaction=True``): fan-out reads the event feed, which shows only
finished transactions. Time is driven with time_machine, never slept.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from integrations.choices import DeliveryStatus
from integrations.models import WebhookDelivery
from integrations.services import (
    webhook_deliveries_send,
    webhook_endpoint_create,
    webhook_fanout,
)
from tests.integrations.conftest import settle
from tests.integrations.receiver import HANG, verify
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db(transaction=True)


def _endpoint(world, user: str, url: str, types: list[str] | None = None):
    return webhook_endpoint_create(
        actor=world.actor(user), url=url, event_types=types or ["ticket.created"]
    )


def _new_ticket(world, store=None, subject="Till 3 is dead"):
    store = store or world.store_a1
    return ticket_services.ticket_create(
        actor=world.actor("dispatcher"), store_id=store.pk, subject=subject
    )


def _fan_out() -> int:
    settle()
    return webhook_fanout()


def test_a_new_ticket_reaches_the_receiver_signed_with_the_secret_shown_once(
    world, receivers, private_targets
):
    receiver = receivers()
    endpoint, secret = _endpoint(world, "client_manager_a", receiver.url)
    ticket = _new_ticket(world)

    assert _fan_out() == 1
    assert webhook_deliveries_send() == 1

    [received] = receiver.requests
    assert verify(secret, received)
    assert not verify(secret + "x", received)
    body = json.loads(received.body)
    assert body["type"] == "ticket.created"
    assert body["data"]["ticket"]["id"] == ticket.pk
    assert body["data"]["ticket"]["reference"] == ticket.reference
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert received.webhook_id == delivery.webhook_id
    assert received.headers["Content-Type"] == "application/json"
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 1
    assert delivery.last_response_code == 200 and delivery.last_response_ms is not None
    assert delivery.response_body == "ok" and delivery.delivered_at is not None
    # fan-out and sending again change nothing: the event is delivered once
    assert _fan_out() == 0
    assert webhook_deliveries_send() == 0
    assert len(receiver.requests) == 1


def test_failures_are_retried_with_growing_backoff_until_success(world, receivers, private_targets):
    receiver = receivers(script=[500, 503])
    endpoint, secret = _endpoint(world, "dispatcher", receiver.url)
    _new_ticket(world)
    _fan_out()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        assert webhook_deliveries_send() == 1
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert delivery.status == DeliveryStatus.FAILED and delivery.last_response_code == 500
        first_wait = delivery.next_attempt_at - start
        assert timedelta(seconds=27) <= first_wait <= timedelta(seconds=33)
        assert webhook_deliveries_send() == 0  # not due yet

        clock.move_to(delivery.next_attempt_at)
        assert webhook_deliveries_send() == 1
        delivery.refresh_from_db()
        assert delivery.last_response_code == 503 and delivery.attempts == 2
        second_wait = delivery.next_attempt_at - timezone.now()
        assert timedelta(seconds=54) <= second_wait <= timedelta(seconds=66)
        assert second_wait > first_wait

        clock.move_to(delivery.next_attempt_at)
        assert webhook_deliveries_send() == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3
    assert [r.webhook_id for r in receiver.requests] == [delivery.webhook_id] * 3
    assert all(verify(secret, r) for r in receiver.requests)
    stamps = [int(r.headers["Webhook-Timestamp"]) for r in receiver.requests]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3  # a fresh timestamp each time


def test_a_receiver_that_hangs_does_not_hold_up_a_healthy_one(world, receivers, private_targets):
    private_targets.WEBHOOK_READ_TIMEOUT_SECONDS = 3.0
    healthy = receivers()
    seen = {}

    def hang_watching_healthy(received):
        # Sent one after the other, the healthy request could only start after this one
        # timed out (3 s); sent in parallel, it arrives while this one is still open.
        seen["healthy_while_open"] = healthy.arrived.wait(2.0)
        return HANG

    stuck = receivers(script=[hang_watching_healthy])
    stuck_endpoint, _ = _endpoint(world, "dispatcher", stuck.url)
    healthy_endpoint, _ = _endpoint(world, "dispatcher", healthy.url)
    _new_ticket(world)
    _fan_out()
    # the stuck receiver's delivery is first in line
    WebhookDelivery.objects.filter(endpoint=stuck_endpoint).update(
        next_attempt_at=timezone.now() - timedelta(minutes=1)
    )

    assert webhook_deliveries_send() == 2

    assert seen == {"healthy_while_open": True}
    ok = WebhookDelivery.objects.get(endpoint=healthy_endpoint)
    assert ok.status == DeliveryStatus.SUCCEEDED
    timed_out = WebhookDelivery.objects.get(endpoint=stuck_endpoint)
    assert timed_out.status == DeliveryStatus.FAILED
    assert timed_out.last_response_code is None and "timeout" in timed_out.last_error.lower()


def test_a_delivery_is_given_up_a_day_after_its_first_attempt(world, receivers, private_targets):
    receiver = receivers(default=500)
    endpoint, _ = _endpoint(world, "dispatcher", receiver.url)
    _new_ticket(world)
    _fan_out()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        webhook_deliveries_send()
        clock.move_to(start + timedelta(hours=23, minutes=59))
        assert webhook_deliveries_send() == 1
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert delivery.status == DeliveryStatus.FAILED  # still trying
        assert delivery.next_attempt_at - timezone.now() <= timedelta(hours=1, minutes=7)
        clock.move_to(start + timedelta(days=1, minutes=2))  # past that retry, whatever jitter
        assert webhook_deliveries_send() == 1
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.GIVEN_UP and delivery.next_attempt_at is None
        clock.move_to(start + timedelta(days=2))
        assert webhook_deliveries_send() == 0
    assert len(receiver.requests) == 3


def test_replay_resends_the_same_payload_with_a_fresh_signature(
    world, receivers, private_targets, api_for
):
    receiver = receivers()
    endpoint, secret = _endpoint(world, "client_manager_a", receiver.url)
    _new_ticket(world)
    _fan_out()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        webhook_deliveries_send()
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        clock.shift(timedelta(minutes=5))
        response = api_for(world.users["client_manager_a"]).post(
            f"/api/v1/webhook-deliveries/{delivery.pk}/replay/"
        )
        assert response.status_code == 202, response.content
        assert response.json()["status"] == "pending"
        assert webhook_deliveries_send() == 1
    first, second = receiver.requests
    assert first.body == second.body and first.webhook_id == second.webhook_id
    assert int(second.headers["Webhook-Timestamp"]) == int(first.headers["Webhook-Timestamp"]) + 300
    assert second.headers["Webhook-Signature"] != first.headers["Webhook-Signature"]
    assert verify(secret, second)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2


def test_a_redirect_is_not_followed(world, receivers, private_targets):
    elsewhere = receivers()
    receiver = receivers(script=[(302, {"Location": elsewhere.url})])
    endpoint, _ = _endpoint(world, "dispatcher", receiver.url)
    _new_ticket(world)
    _fan_out()
    webhook_deliveries_send()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_response_code == 302
    assert len(receiver.requests) == 1 and elsewhere.requests == []


def test_a_name_resolving_to_loopback_is_refused_at_send_time(world, receivers, private_targets):
    # Given an endpoint whose name resolves to 127.0.0.1 by the time it is sent to
    # (saved while private targets were allowed, as a rebinding name would pass the check)
    receiver = receivers()
    url = receiver.url.replace("127.0.0.1", "localhost")
    endpoint, _ = _endpoint(world, "dispatcher", url)
    _new_ticket(world)
    _fan_out()
    # When private targets are not allowed (production; the port is let through so that the
    # address is what gets checked)
    private_targets.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    private_targets.WEBHOOK_ALLOWED_PORTS = (80, 443, receiver.server.server_port)
    webhook_deliveries_send()
    # Then no connection is made, and the refusal is recorded
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert receiver.requests == []
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_response_code is None
    assert delivery.last_error.startswith("Refused") and "127.0.0.1" in delivery.last_error


ALL_TYPES = ["ticket.created", "ticket.comment_added", "ticket.status_changed", "ticket.assigned"]


def test_each_endpoint_receives_only_what_its_owner_may_see(world, receivers, private_targets):
    listening = {name: receivers() for name in ("a", "b", "p", "q", "staff")}
    urls = {name: receiver.url for name, receiver in listening.items()}
    endpoints = {
        "a": _endpoint(world, "client_manager_a", urls["a"], ALL_TYPES)[0],
        "b": _endpoint(world, "client_manager_b", urls["b"], ALL_TYPES)[0],
        "p": _endpoint(world, "partner_manager_p", urls["p"], ALL_TYPES)[0],
        "q": _endpoint(world, "partner_manager_q", urls["q"], ALL_TYPES)[0],
        "staff": _endpoint(world, "dispatcher", urls["staff"], ALL_TYPES)[0],
    }
    dispatcher = world.actor("dispatcher")
    a1, a2, b1 = (world.tickets[k] for k in ("a1", "a2", "b1"))
    for ticket in (a1, a2, b1):
        ticket_services.ticket_comment(actor=dispatcher, ticket_id=ticket.pk, body="public")
        ticket_services.ticket_comment(
            actor=dispatcher, ticket_id=ticket.pk, body="internal", is_internal=True
        )
    new_a = _new_ticket(world, world.store_a2, "A's new one")
    new_b = _new_ticket(world, world.store_b1, "B's new one")
    _fan_out()
    webhook_deliveries_send(limit=100)

    def got(name: str) -> set[tuple[int, str, bool]]:
        rows = WebhookDelivery.objects.filter(endpoint=endpoints[name])
        assert all(r.status == DeliveryStatus.SUCCEEDED for r in rows)
        return {
            (
                r.payload["data"]["ticket"]["id"],
                r.event_type,
                r.payload["data"]["event"]["is_internal"],
            )
            for r in rows
        }

    public, internal = ("ticket.comment_added", False), ("ticket.comment_added", True)
    created = ("ticket.created", False)
    assert got("a") == {(a1.pk, *public), (a2.pk, *public), (new_a.pk, *created)}
    assert got("b") == {(b1.pk, *public), (new_b.pk, *created)}
    assert got("p") == {(a1.pk, *public)}  # its job only, no internal note
    assert got("q") == {(b1.pk, *public)}
    assert got("staff") == {
        *((t.pk, *kind) for t in (a1, a2, b1) for kind in (public, internal)),
        (new_a.pk, *created),
        (new_b.pk, *created),
    }
    # and what reached each receiver is exactly what was recorded for it
    for name, receiver in listening.items():
        sent = {json.loads(r.body)["data"]["event"]["id"] for r in receiver.requests}
        recorded = set(
            WebhookDelivery.objects.filter(endpoint=endpoints[name]).values_list(
                "event_id", flat=True
            )
        )
        assert sent == recorded and len(receiver.requests) == len(recorded), name
