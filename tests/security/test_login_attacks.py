"""Attacks on signing in: password guessing (per name and per address, shared with the API
token exchange), session fixation and expiry, open redirects after login, and CSRF on every
HTML form."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from servicedesk import login_guard

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory
LOCKED = str(login_guard.LOCKED_MESSAGE)


def login(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password, **extra})


def token_obtain(client: Client, username: str, password: str = PASSWORD):
    return client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
    )


def fail_times(n: int, username: str, ip: str = "127.0.0.1") -> None:
    client = Client(REMOTE_ADDR=ip)
    for _ in range(n):
        response = login(client, username, "wrong-password-1")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session


# --- guessing ---------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_name_even_for_the_right_password(world):
    fail_times(5, "dispatcher")

    client = Client()
    response = login(client, "dispatcher")
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account is not affected.
    assert login(Client(), "client_manager_a").status_code == 302


def test_an_unknown_name_is_locked_with_the_same_answer(world):
    fail_times(4, "dispatcher")
    fail_times(4, "no-such-user")
    known = login(Client(), "dispatcher", "wrong-password-1").content.decode()
    unknown = login(Client(), "no-such-user", "wrong-password-1").content.decode()
    assert LOCKED not in known and LOCKED not in unknown

    known = login(Client(), "dispatcher", "wrong-password-1").content.decode()
    unknown = login(Client(), "no-such-user", "wrong-password-1").content.decode()
    assert LOCKED in known and LOCKED in unknown


def test_a_success_resets_the_count_for_the_name(world):
    fail_times(4, "dispatcher")
    assert login(Client(), "dispatcher").status_code == 302
    fail_times(4, "dispatcher")
    assert login(Client(), "dispatcher").status_code == 302


def test_failures_age_out_of_the_window(world):
    fail_times(5, "dispatcher")
    assert LOCKED in login(Client(), "dispatcher").content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert login(Client(), "dispatcher").status_code == 302


def test_one_address_guessing_many_names_is_locked_out(world):
    names = [f"guess{n}" for n in range(django_settings.LOGIN_FAILURE_LIMIT_PER_IP)]
    for name in names:
        fail_times(1, name, ip="203.0.113.7")

    from_attacker = login(Client(REMOTE_ADDR="203.0.113.7"), "client_manager_a")
    assert LOCKED in from_attacker.content.decode()
    assert login(Client(REMOTE_ADDR="198.51.100.1"), "client_manager_a").status_code == 302


def test_the_api_token_exchange_shares_the_lockout(world):
    client = Client()
    for _ in range(5):
        response = token_obtain(client, "dispatcher", "wrong-password-1")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_credentials"

    locked = token_obtain(client, "dispatcher")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert "token" not in locked.json()
    # ... and the failures made through the API lock the sign-in page too.
    assert LOCKED in login(Client(), "dispatcher").content.decode()


def test_failed_html_sign_ins_lock_the_api_token_exchange(world):
    fail_times(5, "engineer_p")
    assert token_obtain(Client(), "engineer_p").status_code == 429


# --- sessions ---------------------------------------------------------------------------------


def test_signing_in_rotates_the_session_key(world):
    client = Client()
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    planted_key = session.session_key
    client.cookies[django_settings.SESSION_COOKIE_NAME] = planted_key

    assert login(client, "dispatcher").status_code == 302
    new_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert new_key != planted_key
    assert not SessionStore().exists(planted_key)


def test_signing_out_invalidates_the_session(world):
    client = Client()
    login(client, "dispatcher")
    key = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    client.post("/logout/")

    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = key
    assert replay.get("/tickets/")["Location"].startswith("/login/")
    assert not SessionStore().exists(key)


def test_an_idle_session_expires(world):
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login(client, "dispatcher")
    with time_machine.travel(start + timedelta(hours=1, minutes=50), tick=False):
        assert client.get("/tickets/").status_code == 200  # activity keeps it alive
    with time_machine.travel(start + timedelta(hours=3, minutes=40), tick=False):
        assert client.get("/tickets/").status_code == 200
    with time_machine.travel(start + timedelta(hours=5, minutes=41), tick=False):
        assert client.get("/tickets/")["Location"].startswith("/login/")


def test_a_busy_session_still_ends_after_the_cookie_age(world):
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login(client, "dispatcher")
    hours = django_settings.SESSION_COOKIE_AGE // 3600
    for hour in range(1, hours + 1):
        with time_machine.travel(start + timedelta(hours=hour, minutes=-1), tick=False):
            assert client.get("/tickets/").status_code == 200, hour
    with time_machine.travel(start + timedelta(hours=hours, minutes=1), tick=False):
        assert client.get("/tickets/")["Location"].startswith("/login/")


# --- open redirects ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_may_not_leave_the_site(world, target):
    response = login(Client(), "dispatcher", next=target)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_next_within_the_site_is_followed(world):
    response = login(Client(), "dispatcher", next="/dispatch/")
    assert response["Location"] == "/dispatch/"


# --- CSRF on every HTML form ------------------------------------------------------------------

# Routes that take POSTs from outside a browser session and authenticate them otherwise.
CSRF_EXEMPT: dict[str, str] = {}
NOT_HTML = ("api/v1/", "admin/")


def html_routes() -> list[str]:
    """Every route of the project's URLconf outside the API and the admin, as a URL."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern):
                found.append(route)

    walk(get_resolver("servicedesk.urls").url_patterns, "")
    urls = []
    for route in found:
        if route.startswith(NOT_HTML) or route.startswith("^"):
            continue
        url = "/" + route
        for converter in ("<int:", "<str:", "<slug:", "<uuid:", "<path:", "<"):
            while converter in url:
                start = url.index(converter)
                end = url.index(">", start)
                filler = "00000000-0000-0000-0000-000000000001" if "uuid" in converter else "1"
                url = url[:start] + filler + url[end + 1 :]
        urls.append(url)
    return urls


def test_every_html_post_without_a_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["dispatcher"])
    urls = html_routes()
    assert "/login/" in urls and "/tickets/1/comments/" in urls and "/i18n/setlang/" in urls

    accepted = {}
    for url in urls:
        if url in CSRF_EXEMPT:
            continue
        response = client.post(url, {"body": "x", "code": "123456"})
        if response.status_code != 403 or b"CSRF" not in response.content:
            accepted[url] = response.status_code
    assert accepted == {}


def test_the_login_form_itself_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    response = login(client, "dispatcher")
    assert response.status_code == 403


def test_the_admin_sign_in_shares_the_lockout(world):
    admin_user = world.users["provider_admin"]
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    fail_times(5, "provider_admin")

    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "provider_admin", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
