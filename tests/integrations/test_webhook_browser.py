"""The webhooks page in headless Chromium: a client manager adds an endpoint and copies the
secret, with the strict CSP in force and not one violation; screenshots kept as artifacts."""

from __future__ import annotations

import pytest

from integrations.models import WebhookDelivery
from integrations.services import webhook_endpoint_create
from tests.e2e.test_csp import sign_in, watch_csp
from tickets.models import TicketEvent

pytestmark = pytest.mark.e2e


def test_a_client_manager_adds_a_webhook_in_the_browser(
    transactional_db,
    world,
    live_server,
    new_page,
    artifacts,
):
    endpoint, _ = webhook_endpoint_create(
        actor=world.actor("client_manager_a"),
        url="https://93.184.215.14/erp/desk",
        event_types=["ticket.created", "ticket.status_changed"],
    )
    events = TicketEvent.objects.filter(ticket=world.tickets["a1"]).order_by("pk")[:2]
    outcomes = (("succeeded", 200, 87), ("failed", 503, 1204))
    for event, (status, code, ms) in zip(events, outcomes, strict=True):
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=event,
            event_type="ticket.created",
            payload={},
            status=status,
            attempts=1 if code == 200 else 2,
            last_response_code=code,
            last_response_ms=ms,
        )
    page = new_page()
    violations = watch_csp(page)
    sign_in(page, live_server.url, "client_manager_a")
    page.goto(live_server.url + "/settings/webhooks/")
    page.fill("#id_url", "https://93.184.215.15/second")
    page.fill("#id_description", "Stock system")
    page.click("form.form-card button[type=submit]")
    secret = page.input_value("#new-secret")
    assert secret.startswith("whsec_")
    page.screenshot(path=str(artifacts / "webhooks-created.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/settings/webhooks/")
    assert secret not in page.content()
    page.screenshot(path=str(artifacts / "webhooks-phone.png"), full_page=True)
    assert violations == []
