"""Filters of the client-side lists. They narrow what the selector already scoped."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from clients.choices import EquipmentKind
from clients.models import Equipment, Region, Store


class RegionFilterSet(django_filters.FilterSet):
    country = django_filters.CharFilter(lookup_expr="iexact", label=_("Country (ISO 3166-1)"))

    class Meta:
        model = Region
        fields: list[str] = []


class StoreFilterSet(django_filters.FilterSet):
    client = django_filters.NumberFilter(field_name="client_id", label=_("Client id"))
    region = django_filters.CharFilter(
        field_name="region__code", lookup_expr="iexact", label=_("Region code, e.g. RU-MOW")
    )
    is_active = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="filter_search", label=_("Code, name or city"))

    class Meta:
        model = Store
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__iexact=value) | Q(name__icontains=value) | Q(city__icontains=value)
        )


class EquipmentFilterSet(django_filters.FilterSet):
    store = django_filters.NumberFilter(field_name="store_id", label=_("Store id"))
    kind = django_filters.ChoiceFilter(choices=EquipmentKind.choices)

    class Meta:
        model = Equipment
        fields: list[str] = []
