"""Filters of the partner list. They narrow what the selector already scoped."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from partners import selectors
from partners.choices import PartnerKind
from partners.models import Partner
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
