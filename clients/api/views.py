"""Read-only endpoints for clients, regions, stores and equipment, scoped by the actor."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from clients import selectors
from clients.api.filtersets import (
    ClientContractFilterSet,
    EquipmentFilterSet,
    RegionFilterSet,
    StoreFilterSet,
)
from clients.api.serializers import (
    ClientContractSerializer,
    ClientSerializer,
    EquipmentSerializer,
    RegionSerializer,
    StoreSerializer,
)
from servicedesk.api.viewsets import ScopedViewSetMixin


class ClientViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Clients the caller may see: all for the provider, its own for a client's people."""

    selector = selectors.client_list
    serializer_class = ClientSerializer
    ordering_fields = ["code", "name"]


class RegionViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Federal subjects (and CIS capitals) with ISO 3166-2 codes: reference data."""

    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    lookup_field = "code"
    lookup_value_converter = "str"
    ordering_fields = ["code", "name_ru", "name_en"]

    def get_queryset(self) -> QuerySet:
        return selectors.region_list()


class StoreViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Stores the caller may see (store staff: their listed stores only)."""

    selector = selectors.store_list
    serializer_class = StoreSerializer
    filterset_class = StoreFilterSet
    ordering_fields = ["code", "name", "city", "time_zone", "created_at"]


class EquipmentViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Equipment at the stores the caller may see."""

    selector = selectors.equipment_list
    serializer_class = EquipmentSerializer
    filterset_class = EquipmentFilterSet
    ordering_fields = ["kind", "serial_number", "warranty_until", "installed_on"]


@extend_schema_view(
    list=extend_schema(
        summary="Client contracts (provider staff: all; client manager: its own client's)"
    ),
    retrieve=extend_schema(summary="A client contract"),
)
class ClientContractViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Service contracts between the provider and its clients; SLA policies hang off them.
    Store staff and partners read none: they are commercial terms."""

    selector = selectors.client_contract_list
    serializer_class = ClientContractSerializer
    filterset_class = ClientContractFilterSet
    ordering_fields = ["number", "starts_on", "ends_on", "created_at"]
