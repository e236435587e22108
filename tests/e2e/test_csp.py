"""The strict Content-Security-Policy in a real browser: the main pages of every role load
without a single CSP violation, and their JavaScript (htmx forms, the board's polling, the
language of the page) still works under ``script-src 'self'``."""

from __future__ import annotations

import re

import pytest

from tickets import services

pytestmark = pytest.mark.e2e

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory


def watch_csp(page) -> list[str]:
    """Collect CSP violations the browser reports on the console."""
    violations: list[str] = []

    def on_console(message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            violations.append(f"{page.url}: {text}")

    page.on("console", on_console)
    return violations


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit].btn--primary")
    page.wait_for_url(base_url + "/")


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")


def test_every_role_s_pages_load_without_csp_violations(
    transactional_db, world, live_server, new_page
):
    ticket = world.tickets["a1"]
    services.ticket_transition(
        actor=world.actor("partner_manager_p"), ticket_id=ticket.pk, to_status="accepted"
    )
    base = live_server.url
    pages_by_role = {
        "provider_admin": ["/", "/tickets/", f"/tickets/{ticket.pk}/", "/dispatch/"],
        "dispatcher": ["/", "/tickets/", f"/tickets/{ticket.pk}/", "/dispatch/", "/tickets/new/"],
        "client_manager_a": ["/", "/tickets/", f"/tickets/{ticket.pk}/"],
        "store_staff_a1": ["/", "/tickets/"],
        "partner_manager_p": ["/", "/portal/", f"/tickets/{ticket.pk}/"],
        "engineer_p": ["/", "/field/", f"/field/{ticket.pk}/"],
    }
    violations: list[str] = []

    login = new_page()
    violations += watch_csp(login)
    visit(login, base + "/login/")
    visit(login, base + "/login/?next=/tickets/")

    for username, paths in pages_by_role.items():
        page = new_page()
        violations += watch_csp(page)
        sign_in(page, base, username)
        for path in paths:
            visit(page, base + path)
        visit(page, base + "/settings/2fa/")
        assert page.locator(".totp-qr svg").count() == 1

    assert violations == []


def test_htmx_forms_and_the_board_poll_work_under_the_policy(
    transactional_db, world, live_server, new_page
):
    ticket = world.tickets["a1"]
    page = new_page()
    violations = watch_csp(page)
    sign_in(page, live_server.url, "dispatcher")

    # An htmx form: the comment is posted without a reload, with the CSRF header app.js adds.
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    page.fill("#id_body", "Под строгой CSP")
    page.click(".comment-form button[type=submit]")
    page.locator(".timeline").get_by_text("Под строгой CSP").wait_for()
    assert ticket.comments.filter(body="Под строгой CSP").exists()

    # The list filters through htmx too.
    page.goto(live_server.url + "/tickets/")
    page.select_option("#id_status", "new")
    page.wait_for_url(re.compile(r"status=new"))
    page.locator("#ticket-results").get_by_text("A2 cctv").wait_for()

    # The dispatch board refreshes itself on its own timer.
    page.goto(live_server.url + "/dispatch/")
    with page.expect_request(
        lambda request: "/dispatch/" in request.url and request.headers.get("hx-request") == "true",
        timeout=25_000,
    ):
        pass

    assert violations == []


def test_an_inline_script_would_be_blocked(transactional_db, world, live_server, new_page):
    """The policy really is enforced by the browser: the same check that keeps the pages
    clean sees an injected inline script refused."""
    page = new_page()
    violations = watch_csp(page)
    visit(page, live_server.url + "/login/")
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(
            """() => { const s = document.createElement('script');
                       s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"""
        )
    assert page.evaluate("() => window.__ran === true") is False
    assert any("Content Security Policy" in v for v in violations)


def test_the_api_docs_render_under_their_relaxed_policy(
    transactional_db, world, live_server, new_page
):
    page = new_page()
    violations = watch_csp(page)
    sign_in(page, live_server.url, "dispatcher")  # the schema is for signed-in callers
    visit(page, live_server.url + "/api/v1/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    visit(page, live_server.url + "/api/v1/redoc/")
    # ReDoc's script ran (under script-src 'self') once it has drawn into its element.
    page.wait_for_function(
        "() => document.querySelector('redoc').children.length > 0", timeout=30_000
    )
    # ReDoc's "powered by" logo comes from its CDN: blocking it is the policy doing its job.
    assert [v for v in violations if "https://cdn.redoc.ly/" not in v] == []
