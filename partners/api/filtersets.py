"""Filters of the partner list. They narrow what the selector already scoped."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners import selectors
from partners.choices import PartnerKind
from partners.models import Certification, Coverage, Partner, PartnerContract
from servicedesk.api.permissions import request_actor


class PartnerFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=PartnerKind.choices)
    is_active = django_filters.BooleanFilter()
    region = django_filters.CharFilter(method="filter_region", label=_("Covers region (code)"))

    class Meta:
        model = Partner
        fields: list[str] = []

    def filter_region(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Partners covering the region, judged only by coverage the caller may see.

        Coverage is the provider's and the partner's business: a client filtering by region
        learns nothing about where partners work.
        """
        coverage = selectors.coverage_list(actor=request_actor(self.request)).filter(
            region__code__iexact=value.strip()
        )
        return queryset.filter(pk__in=coverage.values("partner_id"))


class CoverageFilterSet(django_filters.FilterSet):
    partner = django_filters.NumberFilter(field_name="partner_id", label=_("Partner id"))
    region = django_filters.CharFilter(
        field_name="region__code", lookup_expr="iexact", label=_("Region code, e.g. RU-MOW")
    )
    min_capacity = django_filters.NumberFilter(
        field_name="capacity", lookup_expr="gte", label=_("At least this many concurrent jobs")
    )

    class Meta:
        model = Coverage
        fields: list[str] = []


class CertificationFilterSet(django_filters.FilterSet):
    partner = django_filters.NumberFilter(field_name="partner_id", label=_("Partner id"))
    competency = django_filters.CharFilter(
        method="filter_competency", label=_("Competency id or code")
    )
    expires_before = django_filters.DateFilter(
        field_name="expires_on", lookup_expr="lt", label=_("Expires before (date)")
    )
    expires_after = django_filters.DateFilter(
        field_name="expires_on", lookup_expr="gt", label=_("Expires after (date)")
    )
    expired = django_filters.BooleanFilter(
        method="filter_expired", label=_("Already expired (true) or still in force (false)")
    )

    class Meta:
        model = Certification
        fields: list[str] = []

    def filter_competency(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if value.isdigit():
            return queryset.filter(competency_id=int(value))
        return queryset.filter(competency__code=value)

    def filter_expired(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        # A certificate counts until the day before ``expires_on`` (Certification.is_valid_on).
        if value is None:
            return queryset
        today = timezone.localdate()
        if value:
            return queryset.filter(expires_on__lte=today)
        return queryset.filter(expires_on__gt=today)


class PartnerContractFilterSet(django_filters.FilterSet):
    partner = django_filters.NumberFilter(field_name="partner_id", label=_("Partner id"))
    number = django_filters.CharFilter(lookup_expr="iexact", label=_("Contract number"))
    is_active = django_filters.BooleanFilter()
    in_force_on = django_filters.DateFilter(
        method="filter_in_force", label=_("In force on this date (started, not ended)")
    )

    class Meta:
        model = PartnerContract
        fields: list[str] = []

    def filter_in_force(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(starts_on__lte=value).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=value)
        )
