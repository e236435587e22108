"""Forms of the field screens: the partner portal's answers and the engineer's visit steps.

They parse input and show it back with errors; the rules live in ``tickets.dispatch`` and
``tickets.visits``. Local date-times (``<input type="datetime-local">``) are read in the
*store's* zone, which the page names next to the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.constants import VISIT_CHECKLISTS

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
PART_ROWS = 3


class LocalDateTimeField(forms.CharField):
    """A ``datetime-local`` value read in ``zone`` (set by the form), returned aware."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)

    def __init__(self, *args, **kwargs) -> None:
        self.zone = "UTC"
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        for fmt in (LOCAL_FORMAT, LOCAL_FORMAT + ":%S", "%Y-%m-%d %H:%M"):
            try:
                naive = datetime.strptime(value.strip(), fmt)
            except ValueError:
                continue
            return naive.replace(tzinfo=ZoneInfo(self.zone))
        raise forms.ValidationError(_("Enter a date and time, e.g. 2026-12-07 14:30."))


class ZonedForm(forms.Form):
    def __init__(self, *args, zone: str = "UTC", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, LocalDateTimeField):
                field.zone = zone


class AcceptForm(ZonedForm):
    engineer = forms.TypedChoiceField(label=_("Engineer"), coerce=int)
    eta = LocalDateTimeField(label=_("Arrival (ETA)"))

    def __init__(self, *args, engineers: Iterable[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engineer"].choices = [("", _("Choose an engineer…")), *engineers]


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for declining"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why you decline the job.")},
    )


class EtaForm(ZonedForm):
    eta = LocalDateTimeField(label=_("New arrival time (ETA)"))


class CheckInForm(forms.Form):
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, min_value=-90, max_value=90
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=10, decimal_places=6, min_value=-180, max_value=180
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("latitude", "longitude"):
            self.fields[name].widget.attrs.update(
                {"inputmode": "decimal", "step": "any", "data-geo": name}
            )


class ReportForm(forms.Form):
    """The work report: a yes/no per checklist item of the visit's equipment kind, up to
    ``PART_ROWS`` parts (name, quantity, serial) and what was done."""

    text = forms.CharField(
        label=_("What was done"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say what was done.")},
    )

    def __init__(self, *args, kind: str = "other", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind if kind in VISIT_CHECKLISTS else "other"
        for key, question in VISIT_CHECKLISTS[self.kind]:
            self.fields[f"check_{key}"] = forms.TypedChoiceField(
                label=question,
                choices=[("yes", _("Yes")), ("no", _("No"))],
                coerce=lambda v: v == "yes",
                widget=forms.RadioSelect,
                error_messages={"required": _("Answer this item.")},
            )
        for i in range(PART_ROWS):
            self.fields[f"part_{i}_name"] = forms.CharField(
                label=_("Part"), max_length=200, required=False
            )
            self.fields[f"part_{i}_qty"] = forms.IntegerField(
                label=_("Qty"), min_value=1, max_value=1000, required=False
            )
            self.fields[f"part_{i}_serial"] = forms.CharField(
                label=_("Serial number"), max_length=120, required=False
            )

    def check_fields(self):
        return [self[f"check_{key}"] for key, _q in VISIT_CHECKLISTS[self.kind]]

    def part_rows(self):
        return [
            (self[f"part_{i}_name"], self[f"part_{i}_qty"], self[f"part_{i}_serial"])
            for i in range(PART_ROWS)
        ]

    def clean(self):
        data = super().clean()
        for i in range(PART_ROWS):
            name = data.get(f"part_{i}_name")
            qty = data.get(f"part_{i}_qty")
            if name and not qty:
                self.add_error(f"part_{i}_qty", _("How many?"))
            elif qty and not name:
                self.add_error(f"part_{i}_name", _("Name the part."))
        return data

    def checklist(self) -> dict[str, bool]:
        return {key: self.cleaned_data[f"check_{key}"] for key, _q in VISIT_CHECKLISTS[self.kind]}

    def parts(self) -> list[dict]:
        rows = []
        for i in range(PART_ROWS):
            name = self.cleaned_data.get(f"part_{i}_name")
            if name:
                rows.append(
                    {
                        "name": name,
                        "qty": self.cleaned_data[f"part_{i}_qty"],
                        "serial": self.cleaned_data.get(f"part_{i}_serial") or "",
                    }
                )
        return rows


class PhotoForm(forms.Form):
    file = forms.FileField(
        label=_("Photo"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )


class SignOffForm(forms.Form):
    username = forms.CharField(
        label=_("Store employee's username"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Their password"), widget=forms.PasswordInput(attrs={"autocomplete": "off"})
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("Note for the resolution"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
