"""Filters of the SLA policy list. They narrow what the selector already scoped."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from sla.choices import Agreement, Category, ClockState, Metric, Priority
from sla.models import SlaClock, SlaPolicy


class SlaPolicyFilterSet(django_filters.FilterSet):
    client = django_filters.NumberFilter(field_name="contract__client_id", label=_("Client id"))
    contract = django_filters.NumberFilter(field_name="contract_id", label=_("Contract id"))
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    category = django_filters.ChoiceFilter(choices=Category.choices)

    class Meta:
        model = SlaPolicy
        fields: list[str] = []


class SlaClockFilterSet(django_filters.FilterSet):
    ticket = django_filters.NumberFilter(field_name="ticket_id", label=_("Ticket id"))
    agreement = django_filters.ChoiceFilter(choices=Agreement.choices)
    partner = django_filters.NumberFilter(field_name="partner_id", label=_("Partner id (OLA)"))
    metric = django_filters.ChoiceFilter(choices=Metric.choices)
    state = django_filters.ChoiceFilter(choices=ClockState.choices)
    breached = django_filters.BooleanFilter(
        field_name="breached_at",
        lookup_expr="isnull",
        exclude=True,
        label=_("Past its target (true) or not (false)"),
    )
    due_before = django_filters.IsoDateTimeFilter(
        field_name="due_at", lookup_expr="lt", label=_("Due before (ISO 8601 with offset)")
    )
    due_after = django_filters.IsoDateTimeFilter(
        field_name="due_at", lookup_expr="gte", label=_("Due at or after (ISO 8601 with offset)")
    )

    class Meta:
        model = SlaClock
        fields: list[str] = []
