"""The user's own notification settings page (``/settings/notifications/``) and its service."""

from __future__ import annotations

import html
import re
from datetime import time

import pytest
from django.urls import reverse

from servicedesk.exceptions import ValidationFailed
from servicedesk.models import EmailChoice, NotificationPreference
from servicedesk.notifications import notification_preferences_set

pytestmark = pytest.mark.django_db

URL = "/settings/notifications/"
QUIET_MESSAGE = "Give both the start and the end of the quiet hours, or neither."


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_url_is_the_named_route():
    assert reverse("notification_settings") == URL


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("user", "on_duty_offered"),
    [
        ("provider_admin", True),
        ("dispatcher", True),
        ("client_manager_a", False),
        ("store_staff_a1", False),
        ("partner_manager_p", False),
        ("engineer_p", False),
        ("nobody", False),  # signed in, no organisation yet
    ],
)
def test_every_signed_in_user_gets_the_page_with_the_defaults(client, world, user, on_duty_offered):
    client.force_login(world.users[user])

    response = client.get(URL)

    assert response.status_code == 200
    page = text(response)
    assert "Notification settings" in page
    assert '<option value="urgent" selected>' in page  # the default, e-mail urgent only
    assert ('name="on_duty"' in page) is on_duty_offered
    assert f'href="{URL}"' in page  # the user menu links here


def test_the_page_shows_the_stored_values(client, world):
    user = world.users["dispatcher"]
    NotificationPreference.objects.create(
        user=user,
        email_sla=EmailChoice.ALL,
        email_dispatch=EmailChoice.OFF,
        quiet_start=time(22, 0),
        quiet_end=time(7, 0),
        on_duty=True,
    )
    client.force_login(user)

    page = text(client.get(URL))

    assert '<option value="all" selected>' in page
    assert '<option value="off" selected>' in page
    assert 'value="22:00"' in page and 'value="07:00"' in page
    assert re.search(r"<input[^>]*name=\"on_duty\"[^>]*checked", page)


def test_post_saves_and_redirects(client, world):
    user = world.users["dispatcher"]
    client.force_login(user)

    response = client.post(
        URL,
        {
            "email_sla": "all",
            "email_dispatch": "off",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "on_duty": "on",
        },
    )

    assert response.status_code == 302
    assert response.url == URL
    saved = NotificationPreference.objects.get(user=user)
    assert (saved.email_sla, saved.email_dispatch) == ("all", "off")
    assert (saved.quiet_start, saved.quiet_end) == (time(22, 0), time(7, 0))
    assert saved.on_duty is True
    assert "Your notification settings are saved." in text(client.get(URL))


def test_post_updates_an_existing_row_and_clears_quiet_hours(client, world):
    user = world.users["client_manager_a"]
    NotificationPreference.objects.create(user=user, quiet_start=time(22, 0), quiet_end=time(7, 0))
    client.force_login(user)

    response = client.post(
        URL, {"email_sla": "off", "email_dispatch": "all", "quiet_start": "", "quiet_end": ""}
    )

    assert response.status_code == 302
    saved = NotificationPreference.objects.get(user=user)
    assert (saved.email_sla, saved.email_dispatch) == ("off", "all")
    assert saved.quiet_start is None and saved.quiet_end is None


def test_half_quiet_hours_are_refused_inline_and_nothing_is_saved(client, world):
    user = world.users["dispatcher"]
    client.force_login(user)

    response = client.post(
        URL,
        {"email_sla": "all", "email_dispatch": "off", "quiet_start": "22:00", "quiet_end": ""},
    )

    assert response.status_code == 400
    page = text(response)
    assert QUIET_MESSAGE in page
    assert 'id="id_quiet_end_error"' in page  # next to the field it concerns
    assert 'value="22:00"' in page  # what was typed is kept
    assert '<option value="all" selected>' in page
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_an_unknown_email_choice_is_refused(client, world):
    user = world.users["engineer_p"]
    client.force_login(user)

    response = client.post(URL, {"email_sla": "sometimes", "email_dispatch": "off"})

    assert response.status_code == 400
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_a_partner_cannot_set_on_duty_through_the_page(client, world):
    user = world.users["partner_manager_p"]
    client.force_login(user)

    response = client.post(URL, {"email_sla": "all", "email_dispatch": "all", "on_duty": "on"})

    assert response.status_code == 302
    saved = NotificationPreference.objects.get(user=user)
    assert saved.email_sla == "all"
    assert saved.on_duty is False


# --- the service ------------------------------------------------------------------------------


def test_the_service_refuses_on_duty_for_a_partner(world):
    user = world.users["partner_manager_p"]

    with pytest.raises(ValidationFailed) as caught:
        notification_preferences_set(user=user, email_sla="all", on_duty=True)

    assert caught.value.fields == {"on_duty": ["Only provider staff can be on duty."]}
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_the_service_lets_provider_staff_go_on_and_off_duty(world):
    user = world.users["dispatcher"]

    assert notification_preferences_set(user=user, on_duty=True).on_duty is True
    assert notification_preferences_set(user=user, on_duty=False).on_duty is False
    assert NotificationPreference.objects.filter(user=user).count() == 1


def test_the_service_keeps_fields_not_given_and_checks_the_merged_quiet_hours(world):
    user = world.users["client_manager_a"]
    notification_preferences_set(user=user, quiet_start=time(22, 0), quiet_end=time(7, 0))

    saved = notification_preferences_set(user=user, email_dispatch="all")
    with pytest.raises(ValidationFailed) as caught:
        notification_preferences_set(user=user, quiet_end=None)

    assert (saved.quiet_start, saved.quiet_end, saved.email_dispatch) == (
        time(22, 0),
        time(7, 0),
        "all",
    )
    assert caught.value.fields == {"quiet_end": [QUIET_MESSAGE]}  # the missing end
    stored = NotificationPreference.objects.get(user=user)
    assert stored.quiet_end == time(7, 0)


def test_the_service_refuses_unknown_fields_and_choices(world):
    user = world.users["dispatcher"]

    with pytest.raises(ValidationFailed):
        notification_preferences_set(user=user, colour="blue")
    with pytest.raises(ValidationFailed) as caught:
        notification_preferences_set(user=user, email_sla="sometimes")

    assert set(caught.value.fields) == {"email_sla"}
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_the_page_and_its_refusal_speak_russian(client, world):
    user = world.users["dispatcher"]
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "ru", "next": URL})

    page = text(client.get(URL))
    refused = client.post(
        URL, {"email_sla": "all", "email_dispatch": "off", "quiet_start": "", "quiet_end": "07:00"}
    )

    assert "Настройки уведомлений" in page and "Тихие часы" in page and "Дежурный" in page
    assert refused.status_code == 400
    assert "Укажите и начало, и конец тихих часов" in text(refused)
