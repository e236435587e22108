"""Accounts: Argon2 password storage, password rules, and two-factor sign-in (TOTP) with the
staff gate that sends provider staff to enrolment when a second factor is required."""

from __future__ import annotations

import importlib
import time

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk import login_guard
from servicedesk.models import ApiToken
from servicedesk.two_factor import secret_base32
from tests.factories import UserFactory

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory
BASE = importlib.import_module("servicedesk.settings.base")


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps_ahead`` 30-second steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def signed_in(client: Client, username: str) -> Client:
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def enrol(client: Client, user) -> TOTPDevice:
    page = client.get("/settings/2fa/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/settings/2fa/", {"code": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


# --- passwords -------------------------------------------------------------------------------


def test_base_settings_hash_new_passwords_with_argon2(db, settings):
    assert BASE.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = BASE.PASSWORD_HASHERS
    user = UserFactory(username="argon")
    user.set_password("correct horse battery")
    user.save()

    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert authenticate(username="argon", password="correct horse battery") == user


def test_an_older_hash_is_upgraded_to_argon2_at_the_next_sign_in(db, settings):
    settings.PASSWORD_HASHERS = BASE.PASSWORD_HASHERS
    user = UserFactory(username="legacy")
    user.password = make_password("old but long password", hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])

    assert authenticate(username="legacy", password="old but long password") == user
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


@pytest.mark.parametrize(
    "password",
    [
        "short-pass1",  # 11 characters
        "481516234200",  # numeric
        "q1w2e3r4t5y6",  # in the common passwords list
        "ivanovapetra",  # too like the user's own name
    ],
)
def test_weak_passwords_are_refused(db, settings, password):
    from django.contrib.auth.password_validation import validate_password

    settings.AUTH_PASSWORD_VALIDATORS = BASE.AUTH_PASSWORD_VALIDATORS
    user = UserFactory.build(username="ivanova", first_name="Petra", last_name="Ivanova")
    with pytest.raises(ValidationError):
        validate_password(password, user)
    validate_password("Lilac kettle on Tverskaya 7", user)


def test_the_demo_password_breaks_the_rules_but_demo_logins_still_sign_in(db, settings):
    """The demo seed stores its hash directly (validators apply when a password is *set*
    through a form), so README's documented logins keep working."""
    from django.contrib.auth.password_validation import validate_password

    from tickets.demo import DEMO_PASSWORD

    settings.AUTH_PASSWORD_VALIDATORS = BASE.AUTH_PASSWORD_VALIDATORS
    with pytest.raises(ValidationError):
        validate_password(DEMO_PASSWORD)
    user = UserFactory(username="dispatcher-demo")
    user.password = make_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])

    response = Client().post("/login/", {"username": "dispatcher-demo", "password": "demo"})
    assert response.status_code == 302


# --- two-factor enrolment and sign-in ---------------------------------------------------------


def test_enrolment_shows_the_secret_and_a_local_qr_code_and_a_real_code_confirms_it(world):
    user = world.users["dispatcher"]
    client = signed_in(Client(), "dispatcher")

    page = client.get("/settings/2fa/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    body = page.content.decode()
    assert "<svg" in body  # drawn here, nothing fetched from a QR service
    assert 'src="http' not in body and "chart.googleapis" not in body
    assert secret_base32(device) in body

    wrong = client.post("/settings/2fa/", {"code": "000000"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    assert not device.confirmed

    device.throttling_failure_count = 0  # django-otp's own delay after a failure
    device.save(update_fields=["throttling_failure_count"])
    response = client.post("/settings/2fa/", {"code": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed


def test_with_a_device_the_password_alone_does_not_sign_in(world):
    user = world.users["dispatcher"]
    device = enrol(signed_in(Client(), "dispatcher"), user)

    client = Client()
    response = client.post("/login/", {"username": "dispatcher", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/login/verify/"
    assert client.get("/tickets/")["Location"].startswith("/login/")  # not signed in yet

    wrong = client.post("/login/verify/", {"code": "123456"})
    assert wrong.status_code == 400
    assert "_auth_user_id" not in client.session

    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.save(update_fields=["throttling_failure_count"])
    right = client.post("/login/verify/", {"code": code_for(device, steps_ahead=1)})
    assert right.status_code == 302
    assert right["Location"] == "/"
    assert client.get("/tickets/").status_code == 200


def test_a_used_code_cannot_be_replayed(world):
    user = world.users["dispatcher"]
    device = enrol(signed_in(Client(), "dispatcher"), user)
    code = code_for(device, steps_ahead=1)

    first = Client()
    first.post("/login/", {"username": "dispatcher", "password": PASSWORD})
    assert first.post("/login/verify/", {"code": code}).status_code == 302

    second = Client()
    second.post("/login/", {"username": "dispatcher", "password": PASSWORD})
    assert second.post("/login/verify/", {"code": code}).status_code == 400


def test_code_attempts_are_rate_limited(world):
    user = world.users["dispatcher"]
    device = enrol(signed_in(Client(), "dispatcher"), user)
    client = Client()
    client.post("/login/", {"username": "dispatcher", "password": PASSWORD})

    for _ in range(5):
        assert client.post("/login/verify/", {"code": "000000"}).status_code == 400
    device.refresh_from_db()
    device.throttling_failure_count = 0  # leave only our own lockout in the way
    device.save(update_fields=["throttling_failure_count"])

    response = client.post("/login/verify/", {"code": code_for(device, steps_ahead=1)})
    assert response.status_code == 400
    assert str(login_guard.LOCKED_MESSAGE) in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- the staff gate ---------------------------------------------------------------------------

GATED_PAGES = ["/", "/tickets/", "/dispatch/", "/organisation/", "/settings/notifications/"]


def test_without_the_setting_staff_sign_in_with_a_password_alone(world, settings):
    settings.REQUIRE_STAFF_TOTP = False
    client = signed_in(Client(), "dispatcher")
    assert client.get("/tickets/").status_code == 200


def test_required_totp_sends_staff_without_a_device_to_enrolment_first(world, settings):
    settings.REQUIRE_STAFF_TOTP = True
    user = world.users["dispatcher"]
    client = signed_in(Client(), "dispatcher")

    for path in GATED_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/settings/2fa/", path
    api = client.get("/api/v1/tickets/")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "second_factor_required"
    assert client.get("/static/css/app.css").status_code == 200

    enrol(client, user)
    for path in GATED_PAGES:
        assert client.get(path).status_code == 200, path


def test_required_totp_leaves_other_roles_and_api_tokens_alone(world, settings, api_for):
    settings.REQUIRE_STAFF_TOTP = True
    client = signed_in(Client(), "client_manager_a")
    assert client.get("/tickets/").status_code == 200

    assert api_for(world.users["dispatcher"]).get("/api/v1/stores/").status_code == 200
    token = Client().post(
        "/api/v1/auth/token/",
        {"username": "dispatcher", "password": PASSWORD},
        content_type="application/json",
    )
    assert token.status_code == 201
    assert ApiToken.objects.filter(membership__user=world.users["dispatcher"]).exists()


def test_required_totp_asks_an_enrolled_staff_session_for_a_code(world, settings):
    """A session from before the setting was on, without a code, must give one."""
    user = world.users["dispatcher"]
    device = enrol(signed_in(Client(), "dispatcher"), user)
    settings.REQUIRE_STAFF_TOTP = False
    client = Client()
    client.force_login(user)
    settings.REQUIRE_STAFF_TOTP = True

    assert client.get("/tickets/")["Location"] == "/settings/2fa/"
    response = client.post("/settings/2fa/", {"code": code_for(device, steps_ahead=1)})
    assert response.status_code == 302
    assert client.get("/tickets/").status_code == 200
