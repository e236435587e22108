"""One FilterSet per list, shared by the API and the HTML pages."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.choices import Category, Priority, TicketKind, TicketStatus
from tickets.models import Ticket


class IdFilter(django_filters.NumberFilter):
    """An integer id (NumberFilter would accept and document a decimal)."""

    field_class = forms.IntegerField


_REFERENCE = re.compile(r"^(?P<code>[A-Za-z]{2,5})-?(?P<number>\d{1,9})$")


class TicketFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    category = django_filters.MultipleChoiceFilter(choices=Category.choices)
    kind = django_filters.ChoiceFilter(choices=TicketKind.choices)
    client = IdFilter(field_name="client_id")
    store = IdFilter(field_name="store_id")
    region = django_filters.CharFilter(field_name="store__region__code", label=_("Region code"))
    partner = IdFilter(field_name="partner_id")
    needs_visit = django_filters.BooleanFilter()
    is_open = django_filters.BooleanFilter(method="filter_is_open", label=_("Open"))
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    external_id = django_filters.CharFilter()
    q = django_filters.CharFilter(method="filter_search", label=_("Search"))

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_is_open(self, queryset, name, value):
        from tickets.constants import OPEN_STATUSES

        if value is None:
            return queryset
        return (
            queryset.filter(status__in=OPEN_STATUSES)
            if value
            else queryset.exclude(status__in=OPEN_STATUSES)
        )

    def filter_search(self, queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        match = _REFERENCE.match(value)
        if match:
            return queryset.filter(client__code=match["code"].upper(), number=int(match["number"]))
        if value.isdigit():
            return queryset.filter(Q(number=int(value)) | Q(subject__icontains=value))
        return queryset.filter(Q(subject__icontains=value) | Q(store__code__iexact=value))
