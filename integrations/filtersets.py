"""Filters of the webhook delivery log, shared by the API and the settings page."""

from __future__ import annotations

import django_filters

from integrations.choices import DeliveryStatus, WebhookEventType
from integrations.models import WebhookDelivery
from tickets.filtersets import IdFilter


class WebhookDeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=DeliveryStatus.choices)
    event_type = django_filters.MultipleChoiceFilter(choices=WebhookEventType.choices)
    event = IdFilter(field_name="event_id")
    ticket = IdFilter(field_name="event__ticket_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = WebhookDelivery
        fields: list[str] = []
