"""Forms of the import and export pages (they only collect input; rules live in services)."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from clients.selectors import client_list
from integrations.imports import KINDS, MAX_IMPORT_BYTES
from servicedesk.actors import Actor
from tickets.choices import Priority, TicketStatus

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ImportForm(forms.Form):
    """What to import, into which client, and the file (checked first, imported after);
    ``sha256`` names a file a dry run already checked (kept server-side), so applying it
    needs no second upload."""

    kind = forms.ChoiceField(label=_("What to import"), choices=list(KINDS.items()))
    client = forms.ModelChoiceField(label=_("Client"), queryset=None, empty_label=None)
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        required=False,
        help_text=_("UTF-8 CSV separated by “,” or “;”, or an XLSX workbook, up to %(mb)s MB.")
        % {"mb": MAX_IMPORT_BYTES // (1024 * 1024)},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    sha256 = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, actor: Actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A client manager imports into its own client only (a disabled field ignores what
        # is posted); the provider picks one explicitly.
        self.fields["client"].queryset = client_list(actor=actor).order_by("name")
        if not actor.is_provider:
            self.fields["client"].disabled = True
            self.fields["client"].initial = actor.organisation_id

    def clean_sha256(self) -> str:
        value = self.cleaned_data["sha256"]
        if value and not _SHA256.match(value):
            raise forms.ValidationError(_("Upload the file again."))
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("file")
        if not upload and not cleaned.get("sha256"):
            self.add_error("file", _("Choose a file to check."))
        elif upload and upload.size > MAX_IMPORT_BYTES:
            self.add_error(
                "file",
                _("The file is larger than %(mb)s MB.") % {"mb": MAX_IMPORT_BYTES // (1024 * 1024)},
            )
        return cleaned


class ExportForm(forms.Form):
    """The ticket list's main filters, named as ``tickets.filtersets.TicketFilterSet`` names
    them, so the export links pass them through unchanged."""

    q = forms.CharField(label=_("Search"), required=False)
    status = forms.MultipleChoiceField(
        label=_("Status"), choices=TicketStatus.choices, required=False
    )
    priority = forms.MultipleChoiceField(
        label=_("Priority"), choices=Priority.choices, required=False
    )
    client = forms.ModelChoiceField(label=_("Client"), queryset=None, required=False)
    created_after = forms.DateField(
        label=_("Created from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_before = forms.DateField(
        label=_("Created before"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_open = forms.BooleanField(label=_("Open only"), required=False)
    breached = forms.BooleanField(label=_("Client SLA breached"), required=False)

    def __init__(self, *args, actor: Actor, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if actor.is_provider:
            self.fields["client"].queryset = client_list(actor=actor).order_by("name")
        else:
            del self.fields["client"]
