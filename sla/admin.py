"""Admin for SLA policies (editable, validated like the API) and clocks (read-only).

Policies are checked by ``sla.services.sla_policy_validate``, the rules the API applies:
positive targets, a threshold between 0 and 1, known pause statuses including
``waiting_client``, one policy per contract × priority × category, and no partner OLA
looser than the target it underpins. Clocks and thresholds are written only by the SLA
engine; here they can be searched and read.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from servicedesk.exceptions import ValidationFailed
from sla.models import ClockThreshold, SlaClock, SlaPolicy
from sla.services import sla_policy_validate
from tickets.choices import TicketStatus

REFERENCE = re.compile(r"^(?P<code>[A-Za-z]{2,5})-0*(?P<number>\d{1,9})$")


def _duration(seconds: int | None) -> str:
    return "—" if seconds is None else str(timedelta(seconds=seconds))


def form_errors(form: forms.BaseForm, exc: ValidationFailed) -> None:
    """Show a service's field messages on the form's fields (the rest at the top)."""
    if not exc.fields:
        form.add_error(None, exc.message)
    for name, field_messages in exc.fields.items():
        target = name if name in form.fields else None
        for message in field_messages:
            form.add_error(target, message)


class SlaPolicyForm(forms.ModelForm):
    pause_statuses = forms.MultipleChoiceField(
        label=_("pausing statuses"),
        choices=TicketStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=["waiting_client"],
        help_text=_("Ticket statuses that stop the clock; waiting for the client at least."),
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "contract",
            "priority",
            "category",
            "response_seconds",
            "arrival_seconds",
            "resolution_seconds",
            "calendar",
            "warning_threshold",
            "pause_statuses",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = SlaPolicy(pk=self.instance.pk, **cleaned_policy_fields(cleaned))
        try:
            sla_policy_validate(candidate, allowed_statuses=TicketStatus.values)
        except ValidationFailed as exc:
            form_errors(self, exc)
        return cleaned


def cleaned_policy_fields(cleaned: dict[str, Any]) -> dict[str, Any]:
    return {name: cleaned[name] for name in SlaPolicyForm.Meta.fields if name in cleaned}


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = (
        "contract",
        "priority",
        "category",
        "response",
        "arrival",
        "resolution",
        "calendar",
        "warning_threshold",
    )
    list_filter = ("priority", "category", "calendar", "contract__client")
    search_fields = ("contract__number", "contract__client__name", "contract__client__code")
    list_select_related = ("contract", "contract__client", "calendar")
    autocomplete_fields = ("contract", "calendar")

    @admin.display(description=_("response within"), ordering="response_seconds")
    def response(self, obj: SlaPolicy) -> str:
        return _duration(obj.response_seconds)

    @admin.display(description=_("on site within"), ordering="arrival_seconds")
    def arrival(self, obj: SlaPolicy) -> str:
        return _duration(obj.arrival_seconds)

    @admin.display(description=_("resolve within"), ordering="resolution_seconds")
    def resolution(self, obj: SlaPolicy) -> str:
        return _duration(obj.resolution_seconds)


class ReadOnlyAdmin(admin.ModelAdmin):
    """View and search only: the SLA engine is the only writer."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _by_ticket(queryset: QuerySet, term: str, prefix: str) -> QuerySet:
    """``MAG-000123`` finds the ticket's rows; a bare number is a ticket id."""
    term = term.strip()
    if not term:
        return queryset
    match = REFERENCE.match(term)
    if match:
        return queryset.filter(
            **{
                f"{prefix}ticket__client__code": match["code"].upper(),
                f"{prefix}ticket__number": int(match["number"]),
            }
        )
    if term.isdigit():
        return queryset.filter(**{f"{prefix}ticket_id": int(term)})
    return queryset.none()


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "agreement",
        "partner",
        "metric",
        "cycle",
        "state",
        "started_at",
        "due_at",
        "warn_at",
        "breached_at",
        "stopped_at",
    )
    list_filter = ("state", "agreement", "metric")
    list_select_related = ("ticket", "ticket__client", "partner")
    search_fields = ("ticket__number",)  # see get_search_results: reference or ticket id
    search_help_text = _("A ticket reference (MAG-000123) or a ticket id.")
    show_full_result_count = False
    ordering = ("-started_at", "-id")

    @admin.display(description=_("ticket"), ordering="ticket_id")
    def reference(self, obj: SlaClock) -> str:
        return obj.ticket.reference

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        return _by_ticket(queryset, search_term, ""), False


@admin.register(ClockThreshold)
class ClockThresholdAdmin(ReadOnlyAdmin):
    list_display = ("clock", "reference", "kind", "cycle", "reached_at", "recorded_at")
    list_filter = ("kind",)
    list_select_related = ("clock", "clock__ticket", "clock__ticket__client")
    search_fields = ("clock__ticket__number",)  # see get_search_results
    search_help_text = _("A ticket reference (MAG-000123) or a ticket id.")
    show_full_result_count = False
    ordering = ("-recorded_at", "-id")

    @admin.display(description=_("ticket"), ordering="clock__ticket_id")
    def reference(self, obj: ClockThreshold) -> str:
        return obj.clock.ticket.reference

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        return _by_ticket(queryset, search_term, "clock__"), False
