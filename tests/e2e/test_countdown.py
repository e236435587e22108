"""SLA countdowns in a real browser, and screenshots of the SLA panel for people to look at.

The clocks count on the 24×7 calendar, so the countdown moves whatever the hour the suite
runs at; the past of a ticket is written with time_machine before the page is opened.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from calendars.services import calendar_presets_ensure
from partners.models import PartnerContract
from sla import services as sla
from sla.models import SlaPolicy
from tests.factories import ClientContractFactory
from tickets import services

pytestmark = pytest.mark.e2e

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit].btn--primary")
    page.wait_for_url(base_url + "/")


@pytest.fixture
def round_the_clock(world):
    """Client A's P2 tickets count round the clock: respond in 1 h, on site in 4 h, resolve
    in 12 h. Partner P's OLA: accept in 30 min, arrive in 3 h, resolve in 6 h."""
    presets = calendar_presets_ensure()
    contract = ClientContractFactory(client=world.client_a, starts_on="2025-01-01")
    SlaPolicy.objects.create(
        contract=contract,
        priority="p2",
        response_seconds=3600,
        arrival_seconds=4 * 3600,
        resolution_seconds=12 * 3600,
        calendar=presets["24x7"],
    )
    PartnerContract.objects.filter(partner=world.partner_p).update(
        arrive_within_seconds=3 * 3600, resolve_within_seconds=6 * 3600
    )
    return world


def _at(when: datetime, action, **kwargs):
    with time_machine.travel(when, tick=False):
        return action(**kwargs)


def _ticket(world, when: datetime, store, subject: str, needs_visit: bool = False):
    return _at(
        when,
        services.ticket_create,
        actor=world.actor("dispatcher"),
        store_id=store.pk,
        subject=subject,
        priority="p2",
        needs_visit=needs_visit,
    )


def _move(world, ticket, when: datetime, status: str) -> None:
    _at(
        when,
        services.ticket_transition,
        actor=world.actor("dispatcher"),
        ticket_id=ticket.pk,
        to_status=status,
    )


def _assign(world, ticket, when: datetime) -> None:
    _at(
        when,
        services.ticket_assign,
        actor=world.actor("dispatcher"),
        ticket_id=ticket.pk,
        partner_id=world.partner_p.pk,
    )


def test_running_countdown_ticks_and_a_paused_one_does_not(
    transactional_db, round_the_clock, live_server, new_page
):
    world = round_the_clock
    now = timezone.now()
    running = _ticket(world, now - timedelta(minutes=5), world.store_a1, "Running")
    paused = _ticket(world, now - timedelta(minutes=30), world.store_a1, "Paused")
    _move(world, paused, now - timedelta(minutes=10), "waiting_client")
    page = new_page()
    sign_in(page, live_server.url, "dispatcher")

    page.goto(f"{live_server.url}/tickets/{running.pk}/")
    countdown = page.locator(".clock--running [data-countdown]").first
    first = countdown.inner_text()
    # Within a few seconds the response countdown (about 0:55:00 left) has moved down.
    page.wait_for_function(
        "([el, text]) => el.textContent !== text",
        arg=[countdown.element_handle(), first],
        timeout=5000,
    )
    assert countdown.inner_text() < first

    page.goto(f"{live_server.url}/tickets/{paused.pk}/")
    frozen = page.locator(".clock--paused .clock__count").first
    before = frozen.inner_text()
    assert page.locator("[data-countdown]").count() == 0
    page.wait_for_timeout(2500)
    assert frozen.inner_text() == before == "0:40:00"  # 1 h response, 20 min used


def _sla_scenes(world) -> tuple[object, object]:
    """Two tickets whose clocks show every state.

    ``field``: at the Kamchatka store, opened 5 h ago, needs a visit; partner P offered the
    job at -4:50 and accepted at -4:40 (response met, 40 min to spare; acceptance met); no
    engineer on site yet: arrival overdue (SLA 4 h, OLA 3 h); resolution running (SLA 7 h
    left; OLA 1 h left, past its warning).
    ``waiting``: opened 3 h ago, offered at -2:55 and accepted 2 h later (response missed
    by 1 h, acceptance by 1 h 25 min), waiting for the client for the last 30 min
    (resolution paused with 2 h 30 min used).
    """
    now = timezone.now()
    field = _ticket(
        world, now - timedelta(hours=5), world.store_a2, "Не печатает касса №2", needs_visit=True
    )
    _assign(world, field, now - timedelta(hours=4, minutes=50))
    _move(world, field, now - timedelta(hours=4, minutes=40), "accepted")
    waiting = _ticket(world, now - timedelta(hours=3), world.store_a1, "Нет связи с ОФД")
    _assign(world, waiting, now - timedelta(hours=2, minutes=55))
    _move(world, waiting, now - timedelta(hours=1), "accepted")
    _move(world, waiting, now - timedelta(minutes=30), "waiting_client")
    sla.sweep_batch(now=now)
    return field, waiting


def test_sla_panel_screenshots(transactional_db, round_the_clock, live_server, new_page, artifacts):
    world = round_the_clock
    field, waiting = _sla_scenes(world)

    for width, height, suffix in [(1366, 900, "desktop"), (375, 812, "375")]:
        options = {"is_mobile": True, "has_touch": True} if width < 600 else {}
        page = new_page(width=width, height=height, **options)
        sign_in(page, live_server.url, "dispatcher")

        page.goto(f"{live_server.url}/tickets/{field.pk}/")
        panel = page.locator("#ticket-clocks")
        assert panel.locator(".clock--met").count() == 2  # SLA response, OLA acceptance
        assert panel.locator(".clock--overdue").count() == 2  # SLA and OLA arrival
        assert panel.locator(".clock--at_risk").count() == 1  # OLA resolution
        assert panel.locator(".clock--running").count() == 1  # SLA resolution
        assert "UTC+12" in panel.inner_text()
        width_now = page.evaluate("document.documentElement.scrollWidth")
        assert width_now <= width, f"the ticket page scrolls sideways ({width_now}px)"
        panel.screenshot(path=str(artifacts / f"sla-panel-running-{suffix}.png"))
        page.screenshot(path=str(artifacts / f"sla-ticket-running-{suffix}.png"), full_page=True)

        page.goto(f"{live_server.url}/tickets/{waiting.pk}/")
        panel = page.locator("#ticket-clocks")
        assert panel.locator(".clock--paused").count() >= 2  # SLA and OLA resolution
        assert panel.locator(".clock--breached").count() == 2  # SLA response, OLA acceptance
        panel.screenshot(path=str(artifacts / f"sla-panel-paused-{suffix}.png"))

        page.goto(f"{live_server.url}/tickets/?ordering=due")
        page.locator("#ticket-results").wait_for()
        assert page.locator('select[name="ordering"]').input_value() == "due"
        page.screenshot(path=str(artifacts / f"sla-list-due-{suffix}.png"), full_page=True)
