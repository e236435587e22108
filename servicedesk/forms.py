"""HTML forms of the core. They parse and re-display input; the rules live in the services
(``servicedesk.notifications.notification_preferences_set``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

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
