"""Security headers (a strict CSP everywhere but the API docs), templates without inline code,
production settings that refuse to start insecure, and no credentials in logs or error
reports."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory
from django.views.debug import ExceptionReporter
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk.models import ApiToken

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "secret-pass-123"  # tests.factories.UserFactory
STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def directives(policy: str) -> dict[str, str]:
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


# --- headers ----------------------------------------------------------------------------------


def test_html_pages_carry_the_strict_policy_and_the_other_headers(world):
    client = Client()
    pages = {"/login/": client.get("/login/")}
    client.force_login(world.users["dispatcher"])
    ticket = world.tickets["a1"]
    for path in ("/", "/tickets/", f"/tickets/{ticket.pk}/", "/dispatch/", "/missing-page/"):
        pages[path] = client.get(path)

    for path, response in pages.items():
        assert response["Content-Security-Policy"] == STRICT, path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", path
        assert response["X-Frame-Options"] == "DENY", path
        assert "microphone=()" in response["Permissions-Policy"], path
        assert "geolocation=(self)" in response["Permissions-Policy"], path


def test_only_the_api_docs_may_run_inline_scripts(world):
    client = Client()
    for path in ("/api/v1/docs/", "/api/v1/redoc/"):
        response = client.get(path)
        assert response.status_code == 200
        policy = directives(response["Content-Security-Policy"])
        assert "'unsafe-inline'" in policy["script-src"], path
        assert policy["frame-ancestors"] == "'none'"
        assert policy["object-src"] == "'none'"
    for path in ("/api/v1/", "/admin/login/"):
        policy = directives(client.get(path, HTTP_ACCEPT="text/html")["Content-Security-Policy"])
        assert policy["script-src"] == "'self'", path


# --- templates and static files: nothing inline -----------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTR = re.compile(r"\sstyle\s*=|<style\b", re.I)
JS_URL = re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)


def project_markup() -> list[Path]:
    files = list((ROOT / "templates").rglob("*.html"))
    files += [p for p in (ROOT / "static").rglob("*.js") if "vendor" not in p.parts]
    return files


def test_templates_have_no_inline_scripts_handlers_or_styles():
    found = []
    for path in project_markup():
        if path.suffix != ".html":
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, HANDLER, STYLE_ATTR, JS_URL):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert found == []


def test_scripts_do_not_build_code_from_strings_or_inline_styles():
    for path in project_markup():
        if path.suffix != ".js":
            continue
        text = path.read_text(encoding="utf-8")
        assert "eval(" not in text and "new Function" not in text, path
        assert "innerHTML" not in text or "<script" not in text, path
        assert '.setAttribute("style"' not in text and "cssText" not in text, path


def test_htmx_is_configured_not_to_inject_styles_or_eval():
    base = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    assert '"includeIndicatorStyles": false' in base
    assert '"allowEval": false' in base


# --- production settings ----------------------------------------------------------------------

GOOD_ENV = {
    "SECRET_KEY": "k3J9-vQz7Lm2Xw8Rt5Yp1Nc6Hb4Gd0Fs_aE",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "desk.example.ru",
    "DATABASE_URL": "postgres://desk@db/desk",
}
PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.REQUIRE_STAFF_TOTP, s.PASSWORD_HASHERS[0], s.DEBUG]))"
)


def start_production(**overrides: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in GOOD_ENV and k != "REQUIRE_STAFF_TOTP"}
    env.update(GOOD_ENV)
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env["DJANGO_SETTINGS_MODULE"] = "servicedesk.settings.production"
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_production_settings_start_secure():
    result = start_production()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        '[31536000, true, true, true, "django.contrib.auth.hashers.Argon2PasswordHasher", false]'
    )


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": "insecure-local-development-key-change-me" * 2}, "SECRET_KEY"),
        ({"DEBUG": "1"}, "DEBUG"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"REQUIRE_STAFF_TOTP": "0"}, "REQUIRE_STAFF_TOTP"),
    ],
)
def test_production_settings_refuse_to_start_insecure(overrides, complaint):
    result = start_production(**overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


# --- secrets stay out of logs and error reports -----------------------------------------------


def test_no_credential_reaches_the_logs(world, caplog):
    caplog.set_level(logging.DEBUG)
    raw_token = "Zx" + "9" * 40
    user = world.users["dispatcher"]
    device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    totp = TOTP(device.bin_key)
    code = f"{totp.token():06d}"

    client = Client()
    client.post(
        "/api/v1/auth/token/",
        {"username": "dispatcher", "password": "Wrong-Secret-771"},
        content_type="application/json",
    )
    client.get("/api/v1/tickets/?status=nonsense", HTTP_AUTHORIZATION=f"Token {raw_token}")
    client.post("/login/", {"username": "dispatcher", "password": PASSWORD})
    client.post("/login/verify/", {"code": "9" + code[1:]})
    client.post("/login/verify/", {"code": code})
    session_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    client.get("/tickets/?q=x")
    obtained = Client().post(
        "/api/v1/auth/token/",
        {"username": "client_manager_a", "password": PASSWORD},
        content_type="application/json",
    )
    issued = obtained.json()["token"]
    Client().get("/api/v1/stores/?page=999", HTTP_AUTHORIZATION=f"Token {issued}")
    assert ApiToken.objects.filter(prefix=issued[:8]).exists()

    logged = caplog.text + "\n".join(repr(r.__dict__) for r in caplog.records)
    for secret in (raw_token, issued, "Wrong-Secret-771", PASSWORD, session_key, code):
        assert secret not in logged, secret


def test_error_reports_hide_the_authorization_header_and_sign_in_secrets(world):
    raw_token = "Qy" + "7" * 40
    request = RequestFactory().post(
        "/login/verify/",
        {"code": "482913", "password": "Wrong-Secret-771", "otp_token": "739164"},
        HTTP_AUTHORIZATION=f"Token {raw_token}",
        HTTP_COOKIE="sessionid=abcdefsessionkey123",
    )
    request.user = world.users["dispatcher"]
    try:
        raise ValueError("boom")
    except ValueError:
        report = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    for secret in (raw_token, "Wrong-Secret-771", "abcdefsessionkey123", "482913", "739164"):
        assert secret not in report, secret
