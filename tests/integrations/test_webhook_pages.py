"""The webhooks settings page: managers add endpoints (secret shown once), see deliveries,
replay them; nobody else gets in, and nobody reaches another organisation's rows."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services import webhook_endpoint_create
from tickets.models import TicketEvent

PUBLIC_URL = "https://93.184.215.14/hooks/desk"


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _no_inline_code(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html


def test_a_manager_adds_an_endpoint_and_sees_the_secret_only_on_that_answer(world):
    client = _signed_in(world.users["client_manager_a"])
    response = client.post(
        "/settings/webhooks/",
        {"url": PUBLIC_URL, "description": "ERP", "event_types": ["ticket.created"]},
    )
    assert response.status_code == 200
    html = response.content.decode()
    secret = re.search(r'value="(whsec_[^"]+)"', html).group(1)
    assert response["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.organisation_id == world.client_a.pk and endpoint.url == PUBLIC_URL
    again = client.get("/settings/webhooks/").content.decode()
    assert PUBLIC_URL in again and secret not in again
    _no_inline_code(html)


def test_an_unsafe_url_is_refused_with_the_reason_on_the_field(world, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    client = _signed_in(world.users["dispatcher"])
    response = client.post(
        "/settings/webhooks/",
        {"url": "http://169.254.169.254/latest/", "event_types": ["ticket.created"]},
    )
    assert response.status_code == 400
    assert "169.254" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("user", ["store_staff_a1", "engineer_p"])
def test_other_roles_are_refused(world, user):
    client = _signed_in(world.users[user])
    assert client.get("/settings/webhooks/").status_code == 403
    response = client.post(
        "/settings/webhooks/", {"url": PUBLIC_URL, "event_types": ["ticket.created"]}
    )
    assert response.status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_deliveries_are_listed_and_replayed_only_by_their_organisation(world):
    endpoint, _ = webhook_endpoint_create(
        actor=world.actor("client_manager_a"), url=PUBLIC_URL, event_types=["ticket.created"]
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=TicketEvent.objects.filter(ticket=world.tickets["a1"]).first(),
        event_type="ticket.created",
        payload={"x": 1},
        status="given_up",
        attempts=9,
        last_response_code=502,
        last_response_ms=1234,
    )
    own = _signed_in(world.users["client_manager_a"])
    page = own.get("/settings/webhooks/").content.decode()
    assert "HTTP 502" in page and "1234 ms" in page and delivery.webhook_id in page

    foreign = _signed_in(world.users["client_manager_b"])
    assert delivery.webhook_id not in foreign.get("/settings/webhooks/").content.decode()
    replay = f"/settings/webhooks/deliveries/{delivery.pk}/replay/"
    assert foreign.post(replay).status_code == 404
    assert foreign.post(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 404
    assert foreign.post(f"/settings/webhooks/{endpoint.pk}/rotate-secret/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == "given_up"
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()

    assert own.post(replay).status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at is not None


def test_rotate_pause_and_delete(world):
    endpoint, secret = webhook_endpoint_create(
        actor=world.actor("partner_manager_p"), url=PUBLIC_URL, event_types=["offer.made"]
    )
    client = _signed_in(world.users["partner_manager_p"])
    rotated = client.post(f"/settings/webhooks/{endpoint.pk}/rotate-secret/").content.decode()
    new_secret = re.search(r'value="(whsec_[^"]+)"', rotated).group(1)
    assert new_secret != secret
    assert client.post(f"/settings/webhooks/{endpoint.pk}/toggle/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert client.post(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()
