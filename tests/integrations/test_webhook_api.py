"""Managing webhooks through the API: who may, what is shown, which URLs are refused."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations import crypto
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services import webhook_endpoint_create
from tickets.models import TicketEvent

PUBLIC_URL = "https://93.184.215.14/hooks/desk"  # a public address: no DNS needed
TYPES = ["ticket.created", "ticket.comment_added"]


def _create(client, **body):
    return client.post(
        "/api/v1/webhooks/", {"url": PUBLIC_URL, "event_types": TYPES, **body}, format="json"
    )


@pytest.mark.parametrize(
    "user", ["provider_admin", "dispatcher", "client_manager_a", "partner_manager_p"]
)
def test_a_manager_registers_an_endpoint_and_sees_its_secret_once(world, api_for, user):
    client = api_for(world.users[user])
    response = _create(client, description="ERP")
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.organisation_id == world.actor(user).organisation_id
    assert body["event_types"] == sorted(TYPES)
    # stored sealed, never in the clear; and never shown again
    assert secret not in endpoint.secret_sealed and crypto.unseal(endpoint.secret_sealed) == secret
    assert "secret" not in client.get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    assert "secret" not in client.get("/api/v1/webhooks/").json()["results"][0]


def test_rotating_the_secret_shows_the_new_one_once(world, api_for):
    client = api_for(world.users["client_manager_a"])
    first = _create(client).json()
    response = client.post(f"/api/v1/webhooks/{first['id']}/rotate-secret/")
    assert response.status_code == 200
    second = response.json()["secret"]
    assert second != first["secret"]
    assert crypto.unseal(WebhookEndpoint.objects.get(pk=first["id"]).secret_sealed) == second


def test_update_and_delete(world, api_for):
    client = api_for(world.users["partner_manager_p"])
    created = _create(client).json()
    response = client.patch(
        f"/api/v1/webhooks/{created['id']}/",
        {"is_active": False, "event_types": ["offer.made"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    assert response.json()["event_types"] == ["offer.made"]
    assert client.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize("user", ["store_staff_a1", "engineer_p"])
def test_other_roles_may_not_manage_webhooks(world, api_for, user):
    client = api_for(world.users[user])
    assert _create(client).status_code == 403
    assert client.get("/api/v1/webhooks/").json()["results"] == []
    assert not WebhookEndpoint.objects.exists()


def test_another_organisations_endpoint_does_not_exist_for_you(world, api_for):
    endpoint, _ = webhook_endpoint_create(
        actor=world.actor("client_manager_a"), url=PUBLIC_URL, event_types=TYPES
    )
    ticket = world.tickets["a1"]
    event = TicketEvent.objects.filter(ticket=ticket).first()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event=event, event_type="ticket.created", payload={}
    )
    sealed = endpoint.secret_sealed
    for user in ["client_manager_b", "partner_manager_p", "dispatcher", "store_staff_a1"]:
        client = api_for(world.users[user])
        base = f"/api/v1/webhooks/{endpoint.pk}/"
        assert client.get(base).status_code == 404, user
        assert client.patch(base, {"is_active": False}, format="json").status_code == 404
        assert client.post(f"{base}rotate-secret/").status_code == 404
        assert client.get(f"{base}deliveries/").status_code == 404
        assert client.get(f"/api/v1/webhook-deliveries/{delivery.pk}/").status_code == 404
        assert client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/").status_code == 404
        assert client.delete(base).status_code == 404
        assert client.get("/api/v1/webhooks/").json()["results"] == []
    # nothing was written
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert endpoint.is_active and endpoint.secret_sealed == sealed
    assert delivery.attempts == 0 and delivery.next_attempt_at is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.5.5.5/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::]/hook",
        "http://[fc00::1]/hook",
        "http://[fd12:3456::1]/hook",
        "http://[fe80::1]/hook",
        "http://[ff02::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost/hook",
        "ftp://93.184.215.14/hook",
        "https://user:pass@93.184.215.14/hook",
        "https://93.184.215.14:8443/hook",
    ],
)
def test_unsafe_urls_are_refused_on_create(world, api_for, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = _create(api_for(world.users["dispatcher"]), url=url)
    assert response.status_code == 400, url
    assert "url" in response.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_bad_event_types_are_refused(world, api_for):
    client = api_for(world.users["dispatcher"])
    for types in ([], ["ticket.exploded"]):
        response = _create(client, event_types=types)
        assert response.status_code == 400
        fields = response.json()["error"]["fields"]
        assert any(name.startswith("event_types") for name in fields), fields


def test_delivery_list_query_count_does_not_grow(world, api_for):
    endpoint, _ = webhook_endpoint_create(
        actor=world.actor("dispatcher"), url=PUBLIC_URL, event_types=TYPES
    )
    client = api_for(world.users["dispatcher"])
    events = list(TicketEvent.objects.all())

    def add(n: int) -> None:
        for event in events[:n]:
            WebhookDelivery.objects.get_or_create(
                endpoint=endpoint, event=event, defaults={"event_type": "x", "payload": {}}
            )

    url = f"/api/v1/webhooks/{endpoint.pk}/deliveries/"
    add(1)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(url).json()["results"]) == 1
    add(len(events))
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url, {"status": "pending"}).json()["results"]) == len(events) > 3
    assert len(many) == len(few)
