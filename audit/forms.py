"""The audit filters, shared by the page, the CSV export and the API."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.constants import WATCHED_TABLES


class AuditFilterForm(forms.Form):
    """``table``, ``row``, ``user`` (an id) and a date range in the viewer's zone."""

    table = forms.ChoiceField(
        label=_("Table"), required=False, choices=[("", _("Any")), *WATCHED_TABLES.items()]
    )
    row = forms.CharField(label=_("Row id"), required=False, max_length=64)
    user = forms.IntegerField(label=_("User id"), required=False, min_value=1, max_value=2**63 - 1)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, zone: str = "UTC", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(zone)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def selector_filters(self) -> dict[str, Any]:
        """The selector's keyword arguments; dates become the instants that bound whole days
        in the viewer's zone (``until`` includes its day)."""
        data = self.cleaned_data
        return {
            "table": data.get("table") or None,
            "row_pk": (data.get("row") or "").strip() or None,
            "user_id": data.get("user"),
            "since": self._start_of(data.get("since")),
            "until": self._end_of(data.get("until")),
        }

    def _start_of(self, day: date | None) -> datetime | None:
        return datetime.combine(day, time.min, tzinfo=self.zone) if day else None

    def _end_of(self, day: date | None) -> datetime | None:
        if not day or day >= date.max - timedelta(days=1):
            return None  # "until the end of time" filters nothing out
        return self._start_of(day + timedelta(days=1))
