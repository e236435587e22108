"""Filters of the client-side lists. They narrow what the selector already scoped."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from clients.choices import EquipmentKind
from clients.models import ClientContract, Equipment, Region, Store


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
    code = django_filters.CharFilter(lookup_expr="iexact", label=_("Store code (exact)"))
    external_id = django_filters.CharFilter(label=_("The client's own id of the store"))
    time_zone = django_filters.CharFilter(label=_("IANA time zone, e.g. Asia/Kamchatka"))
    city = django_filters.CharFilter(lookup_expr="icontains", label=_("City contains"))
    is_active = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="filter_search", label=_("Code, name, city or address"))

    class Meta:
        model = Store
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__iexact=value)
            | Q(name__icontains=value)
            | Q(city__icontains=value)
            | Q(address__icontains=value)
        )


class EquipmentFilterSet(django_filters.FilterSet):
    store = django_filters.NumberFilter(field_name="store_id", label=_("Store id"))
    client = django_filters.NumberFilter(field_name="store__client_id", label=_("Client id"))
    region = django_filters.CharFilter(
        field_name="store__region__code", lookup_expr="iexact", label=_("Region code of the store")
    )
    kind = django_filters.ChoiceFilter(choices=EquipmentKind.choices)
    serial_number = django_filters.CharFilter(lookup_expr="iexact", label=_("Serial number"))
    warranty_until_before = django_filters.DateFilter(
        field_name="warranty_until", lookup_expr="lt", label=_("Warranty ends before (date)")
    )
    q = django_filters.CharFilter(method="filter_search", label=_("Model or serial number"))

    class Meta:
        model = Equipment
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(model__icontains=value) | Q(serial_number__iexact=value))


class ClientContractFilterSet(django_filters.FilterSet):
    client = django_filters.NumberFilter(field_name="client_id", label=_("Client id"))
    number = django_filters.CharFilter(lookup_expr="iexact", label=_("Contract number"))
    is_active = django_filters.BooleanFilter()
    in_force_on = django_filters.DateFilter(
        method="filter_in_force", label=_("In force on this date (started, not ended)")
    )

    class Meta:
        model = ClientContract
        fields: list[str] = []

    def filter_in_force(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(starts_on__lte=value).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=value)
        )
