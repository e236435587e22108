"""The field loop in a real browser: the dispatcher offers a job from the ranking, the partner
manager accepts it in the portal, the engineer checks in from a phone (its position from the
browser's geolocation), and the dispatcher's board shows the job on site."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.tickets.dispatch_support import field_world, open_field_ticket
from tickets import dispatch
from tickets.models import Visit

pytestmark = pytest.mark.e2e

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit].btn--primary")
    page.wait_for_url(base_url + "/")


def card(page, lane: str, ticket):
    return page.locator(f'[data-lane="{lane}"] [data-ticket="{ticket.pk}"]')


def test_dispatch_accept_check_in_and_the_board_shows_on_site(
    transactional_db, world, live_server, new_page, artifacts
):
    fw = field_world(world, auto_dispatch=False)
    job = open_field_ticket(fw, when=timezone.now())
    store = job.store
    base = live_server.url

    # The dispatcher opens the board, the ranking, and offers the job to the top partner.
    board = new_page()
    sign_in(board, base, "dispatcher")
    board.click('a.mainnav__link[href="/dispatch/"]')
    board.wait_for_url(re.compile(r"/dispatch/$"))
    card(board, "unassigned", job).wait_for()
    board.screenshot(path=str(artifacts / "field-board.png"), full_page=True)
    card(board, "unassigned", job).locator(f'a[href="/dispatch/tickets/{job.pk}/"]').click()
    board.wait_for_url(re.compile(rf"/dispatch/tickets/{job.pk}/$"))
    top = board.locator(".ranking__item").first
    assert top.get_attribute("data-partner") == str(fw.partner_p.pk)
    board.screenshot(path=str(artifacts / "field-ranking.png"), full_page=True)
    top.locator("button[type=submit]").click()
    board.wait_for_url(re.compile(r"/dispatch/$"))
    card(board, "offered", job).wait_for()

    # The partner manager accepts it in the portal, naming the engineer and an ETA.
    portal = new_page()
    sign_in(portal, base, "partner_manager_p")
    portal.goto(base + "/portal/")
    offer = portal.locator(".offer-card").first
    offer.wait_for()
    assert job.reference in offer.inner_text()
    eta = (timezone.now() + timedelta(hours=1)).astimezone(ZoneInfo(store.time_zone))
    offer.locator("select[name$='-engineer']").select_option(str(fw.users["engineer_p"].pk))
    offer.locator("input[name$='-eta']").fill(eta.strftime("%Y-%m-%dT%H:%M"))
    portal.screenshot(path=str(artifacts / "field-portal.png"), full_page=True)
    offer.locator(".offer-card__accept button[type=submit]").click()
    portal.locator(f'tr[data-ticket="{job.pk}"]').first.wait_for()

    # The engineer, on a phone, sets off and checks in; the browser gives the position.
    phone = new_page(
        width=375,
        height=740,
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation={"latitude": float(store.latitude), "longitude": float(store.longitude)},
    )
    sign_in(phone, base, "engineer_p")
    phone.click('a.mainnav__link[href="/field/"]')
    phone.wait_for_url(re.compile(r"/field/$"))
    phone.click(f'a.field-card[data-ticket="{job.pk}"]')
    phone.wait_for_url(re.compile(rf"/field/{job.pk}/$"))
    phone.click('button[data-step="en_route"]')
    phone.locator(".ticket-head .badge--status-en_route").wait_for()
    phone.screenshot(path=str(artifacts / "field-engineer-375.png"), full_page=True)
    phone.click('button[data-step="check_in"]')
    phone.locator(".ticket-head .badge--status-on_site").wait_for()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the engineer's page scrolls sideways on a phone ({width}px)"
    phone.screenshot(path=str(artifacts / "field-engineer-on-site-375.png"), full_page=True)

    visit = Visit.objects.get(ticket=job)
    assert visit.checked_in_at is not None and not visit.check_in_flagged
    assert visit.check_in_distance_m is not None and visit.check_in_distance_m < 50

    # The dispatcher's board, left open, shows the job on site at its next poll.
    card(board, "on_site", job).wait_for(timeout=30_000)
    assert card(board, "offered", job).count() == 0
    board.screenshot(path=str(artifacts / "field-board-on-site.png"), full_page=True)


def test_check_in_falls_back_to_typed_coordinates_when_the_position_is_denied(
    transactional_db, world, live_server, new_page
):
    fw = field_world(world, auto_dispatch=False)
    job = open_field_ticket(fw, when=timezone.now())
    offer = dispatch.offer_make(
        actor=fw.actor("dispatcher"), ticket_id=job.pk, partner_id=fw.partner_p.pk
    )
    dispatch.offer_accept(
        actor=fw.actor("partner_manager_p"),
        offer_id=offer.pk,
        engineer_id=fw.users["engineer_p"].pk,
        eta=timezone.now() + timedelta(hours=1),
    )
    phone = new_page(width=375, height=740, is_mobile=True, has_touch=True)  # no permission

    sign_in(phone, live_server.url, "engineer_p")
    phone.goto(f"{live_server.url}/field/{job.pk}/")
    phone.click('button[data-step="check_in"]')
    status = phone.locator("[data-geo-status]")
    status.filter(has_text="отметьтесь снова").wait_for()
    assert phone.locator("#id_latitude").evaluate("el => el === document.activeElement")
    phone.fill("#id_latitude", str(job.store.latitude))
    phone.fill("#id_longitude", str(job.store.longitude))
    phone.click('button[data-step="check_in"]')
    phone.locator(".ticket-head .badge--status-on_site").wait_for()
