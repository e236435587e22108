"""Filters of the SLA policy list. They narrow what the selector already scoped."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from sla.choices import Category, Priority
from sla.models import SlaPolicy


class SlaPolicyFilterSet(django_filters.FilterSet):
    client = django_filters.NumberFilter(field_name="contract__client_id", label=_("Client id"))
    contract = django_filters.NumberFilter(field_name="contract_id", label=_("Contract id"))
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    category = django_filters.ChoiceFilter(choices=Category.choices)

    class Meta:
        model = SlaPolicy
        fields: list[str] = []
