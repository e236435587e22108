"""Read-only endpoints for the partner network, scoped by the actor."""

from __future__ import annotations

from rest_framework import viewsets

from partners import selectors
from partners.api.filtersets import PartnerFilterSet
from partners.api.serializers import PartnerSerializer
from servicedesk.api.viewsets import ScopedViewSetMixin


class PartnerViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Partners the caller may see: the whole network for the provider, itself for a
    partner, and the partners working on its tickets for a client."""

    selector = selectors.partner_list
    serializer_class = PartnerSerializer
    filterset_class = PartnerFilterSet
    ordering_fields = ["name", "kind"]
