"""The webhook form of the settings page; the rules (URL safety, types) are the services'.

(Kept apart from ``integrations/forms.py``, which holds the import form.)
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.choices import WebhookEventType


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        # A text box (keyboards still offer URL keys): the page styles text inputs.
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "url"}),
        help_text=_("An https address on the internet (port 443 or 80)."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[WebhookEventType.TICKET_CREATED, WebhookEventType.TICKET_STATUS_CHANGED],
    )
