"""The desk in a real browser: a dispatcher's round trip and an engineer on a phone."""

from __future__ import annotations

import re

import pytest

from tickets import services

pytestmark = pytest.mark.e2e

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit].btn--primary")
    page.wait_for_url(base_url + "/")


def test_dispatcher_comments_and_moves_a_ticket(
    transactional_db, world, live_server, new_page, artifacts
):
    ticket = world.tickets["a1"]
    page = new_page()

    sign_in(page, live_server.url, "dispatcher")
    assert page.locator("html").get_attribute("lang") == "ru"  # the user's language
    page.click('a.mainnav__link[href="/tickets/"]')
    page.wait_for_url(re.compile(r"/tickets/$"))
    page.click(f"text={ticket.reference}")
    page.wait_for_url(re.compile(rf"/tickets/{ticket.pk}/$"))
    assert page.locator("#ticket-title").inner_text() == "A1 till"

    # A blank comment is refused next to the field (a 400 htmx still swaps in).
    page.fill("#id_body", "   ")
    page.click(".comment-form button[type=submit]")
    page.locator(".comment-form .field__error").wait_for()

    # A comment goes in through htmx; the page is not reloaded, the timeline is.
    page.fill("#id_body", "Проверено из браузера")
    page.click(".comment-form button[type=submit]")
    page.locator(".timeline").get_by_text("Проверено из браузера").wait_for()

    # The status buttons carry the version the comment just bumped: the move succeeds.
    page.click('button[name="to_status"][value="accepted"]')
    page.locator(".ticket-head .badge--status-accepted").wait_for()
    page.locator(".timeline").get_by_text("Статус: Назначена → Принята").wait_for()
    page.screenshot(path=str(artifacts / "e2e-dispatcher-ticket.png"), full_page=True)

    ticket.refresh_from_db()
    assert ticket.status == "accepted"
    assert ticket.comments.filter(body="Проверено из браузера").exists()


def test_dispatcher_filters_the_list_without_reloading(
    transactional_db, world, live_server, new_page
):
    page = new_page()
    sign_in(page, live_server.url, "dispatcher")

    page.goto(live_server.url + "/tickets/")
    page.select_option("#id_status", "new")
    page.wait_for_url(re.compile(r"status=new"))
    page.locator("#ticket-results").get_by_text("A2 cctv").wait_for()

    assert page.locator("#ticket-results").get_by_text("A1 till").count() == 0


def test_engineer_on_a_phone_sees_and_moves_its_job(
    transactional_db, world, live_server, new_page, artifacts
):
    ticket = world.tickets["a1"]
    services.ticket_transition(
        actor=world.actor("partner_manager_p"), ticket_id=ticket.pk, to_status="accepted"
    )
    page = new_page(width=375, height=740, is_mobile=True, has_touch=True)

    sign_in(page, live_server.url, "engineer_p")
    page.click("a.mainnav__link >> nth=1")  # "My jobs"
    page.wait_for_url(re.compile(r"/tickets/\?is_open=true$"))
    page.screenshot(path=str(artifacts / "e2e-engineer-jobs-375.png"), full_page=True)
    assert page.get_by_text("B1 net").count() == 0
    page.click(f"text={ticket.reference}")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the ticket page scrolls sideways on a phone ({width}px)"
    page.click('button[name="to_status"][value="en_route"]')
    page.locator(".ticket-head .badge--status-en_route").wait_for()
    page.screenshot(path=str(artifacts / "e2e-engineer-ticket-375.png"), full_page=True)
