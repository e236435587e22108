"""The integration tokens page (``/settings/tokens/``): list, issue (raw token shown once),
revoke (POST with CSRF). The rules are the services'; the page only shows and asks."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from servicedesk import services
from servicedesk.models import ApiToken, User, hash_token

pytestmark = pytest.mark.django_db

URL = "/settings/tokens/"


def text(response) -> str:
    return html.unescape(response.content.decode())


def issue(world, issuer: str, org, role: str, name: str, **kwargs):
    return services.integration_token_create(
        actor=world.actor(issuer), organisation_id=org.pk, role=role, name=name, **kwargs
    )


def test_the_urls_are_the_named_routes():
    assert reverse("integration_tokens") == URL
    assert reverse("integration_token_revoke", args=[7]) == "/settings/tokens/7/revoke/"


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("user", ["dispatcher", "store_staff_a1", "engineer_p"])
def test_roles_that_issue_no_tokens_get_403(client, world, user):
    client.force_login(world.users[user])

    response = client.get(URL)

    assert response.status_code == 403
    assert "integration tokens" in text(response)


def test_list_shows_own_tokens_in_the_viewers_zone(client, world):
    token, _raw = issue(world, "client_manager_a", world.client_a, "client_manager", "1C sync")
    issue(world, "client_manager_b", world.client_b, "client_manager", "B secret system")
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
        last_used_at=datetime(2026, 12, 7, 10, 30, tzinfo=UTC),
    )
    viewer = world.users["client_manager_a"]
    User.objects.filter(pk=viewer.pk).update(time_zone="Asia/Kamchatka")
    client.force_login(viewer)

    page = text(client.get(URL))

    assert "1C sync" in page
    assert "B secret system" not in page
    assert "Client A" in page and "Client manager" in page
    assert f"{token.prefix}…" in page
    # 10:30 UTC is 22:30 in Kamchatka (UTC+12).
    assert "07.12.2026 22:30 (UTC+12)" in page
    assert "07.12.2026 21:00 (UTC+12)" in page
    assert "active" in page


def test_issuing_shows_the_raw_token_once(client, world):
    client.force_login(world.users["client_manager_a"])

    created = client.post(
        URL, {"name": "POS bridge", "organisation": world.client_a.pk, "role": "client_manager"}
    )
    later = client.get(URL)

    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    raw = re.search(r'id="new-token"[^>]*value="([^"]+)"', created.content.decode()).group(1)
    token = ApiToken.objects.get(key_hash=hash_token(raw))
    assert token.name == "POS bridge"
    assert token.membership.organisation_id == world.client_a.pk
    assert raw not in later.content.decode()
    assert "POS bridge" in text(later)


def test_form_offers_only_grantable_roles_and_refuses_others(client, world):
    client.force_login(world.users["client_manager_a"])
    before = ApiToken.objects.count()

    form = client.get(URL).content.decode()
    escalation = client.post(
        URL, {"name": "X", "organisation": world.client_a.pk, "role": "provider_admin"}
    )
    foreign = client.post(
        URL, {"name": "X", "organisation": world.client_b.pk, "role": "client_manager"}
    )
    no_stores = client.post(
        URL, {"name": "X", "organisation": world.client_a.pk, "role": "store_staff"}
    )

    roles = set(re.findall(r'<option value="([a-z_]+)"', form))
    assert roles == {"client_manager", "store_staff"}
    assert escalation.status_code == 400
    assert foreign.status_code == 400
    assert no_stores.status_code == 400
    assert "A store-staff token needs at least one store." in text(no_stores)
    assert ApiToken.objects.count() == before


def test_revoke_needs_csrf_and_only_touches_own_tokens(world):
    own, _ = issue(world, "client_manager_a", world.client_a, "client_manager", "Mine")
    theirs, _ = issue(world, "client_manager_b", world.client_b, "client_manager", "Theirs")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.users["client_manager_a"])
    page = browser.get(URL).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    forged = browser.post(f"/settings/tokens/{own.pk}/revoke/")
    foreign = browser.post(f"/settings/tokens/{theirs.pk}/revoke/", {"csrfmiddlewaretoken": csrf})
    revoked = browser.post(f"/settings/tokens/{own.pk}/revoke/", {"csrfmiddlewaretoken": csrf})

    assert forged.status_code == 403
    assert foreign.status_code == 404
    assert revoked.status_code == 302 and revoked.url == URL
    own.refresh_from_db()
    theirs.refresh_from_db()
    assert own.revoked_at is not None
    assert theirs.revoked_at is None
    after = text(browser.get(URL))
    assert "revoked" in after
    assert f'action="/settings/tokens/{own.pk}/revoke/"' not in after


def test_page_has_no_inline_script_or_style(client, world):
    issue(world, "provider_admin", world.partner_p, "partner_manager", "ERP")
    client.force_login(world.users["provider_admin"])

    page = client.get(URL).content.decode()

    assert "style=" not in page
    assert "<style" not in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None
