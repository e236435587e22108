"""HTML forms of the core. They parse and re-display input; the rules live in the services
(``servicedesk.notifications.notification_preferences_set``)."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from servicedesk import login_guard
from servicedesk.exceptions import ApplicationError
from servicedesk.models import EmailChoice, NotificationPreference


def add_service_error(form: forms.Form, exc: ApplicationError) -> None:
    """Put a service refusal on ``form``: per field where it names one, else on the form."""
    placed = False
    for name, messages in (exc.fields or {}).items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
        placed = True
    if not placed:
        form.add_error(None, exc.message)


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class NotificationPreferenceForm(forms.Form):
    """A user's own notification preferences. ``on_duty`` is offered to provider staff only
    (``with_on_duty``); without it the form leaves the stored value alone."""

    email_sla = forms.ChoiceField(
        label=_("E-mail for SLA warnings and breaches"), choices=EmailChoice.choices
    )
    email_dispatch = forms.ChoiceField(
        label=_("E-mail for offers and escalations"), choices=EmailChoice.choices
    )
    quiet_start = forms.TimeField(label=_("Quiet hours from"), required=False, widget=_time_input())
    quiet_end = forms.TimeField(label=_("Quiet hours until"), required=False, widget=_time_input())
    on_duty = forms.BooleanField(
        label=_("On duty"),
        required=False,
        help_text=_("Take urgent alerts when the dispatchers are in their quiet hours."),
    )

    def __init__(self, *args, with_on_duty: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not with_on_duty:
            del self.fields["on_duty"]

    @staticmethod
    def initial_from(preference: NotificationPreference) -> dict[str, object]:
        return {
            "email_sla": preference.email_sla,
            "email_dispatch": preference.email_dispatch,
            "quiet_start": preference.quiet_start,
            "quiet_end": preference.quiet_end,
            "on_duty": preference.on_duty,
        }


class LockoutMixin:
    """Sign-in behind the brute-force lockout of ``servicedesk.login_guard``: while locked,
    the password is not even checked, and the answer is the same for names that do not
    exist. Mixed into an ``AuthenticationForm``."""

    def clean(self) -> dict:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        ip = login_guard.client_ip(self.request)
        if login_guard.is_locked(username=username, ip=ip):
            raise forms.ValidationError(login_guard.LOCKED_MESSAGE, code="locked")
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            login_guard.record_failure(username=username, ip=ip)
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        login_guard.record_success(username=username)
        return self.cleaned_data


class LoginForm(LockoutMixin, AuthenticationForm):
    """The sign-in page's form."""


class AdminLoginForm(LockoutMixin, AdminAuthenticationForm):
    """The admin site's own sign-in, under the same lockout (``servicedesk/admin.py``)."""


class CodeForm(forms.Form):
    """A six-digit code from an authenticator app."""

    code = forms.CharField(
        label=_("Code from the app"),
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
