"""Read-only endpoints for the partner network, scoped by the actor."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from partners import selectors
from partners.api.filtersets import (
    CertificationFilterSet,
    CoverageFilterSet,
    PartnerContractFilterSet,
    PartnerFilterSet,
)
from partners.api.serializers import (
    CertificationSerializer,
    CoverageSerializer,
    PartnerContractSerializer,
    PartnerSerializer,
)
from servicedesk.api.viewsets import ScopedViewSetMixin


class PartnerViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Partners the caller may see: the whole network for the provider, itself for a
    partner, and the partners working on its tickets for a client."""

    selector = selectors.partner_list
    serializer_class = PartnerSerializer
    filterset_class = PartnerFilterSet
    ordering_fields = ["name", "kind"]


@extend_schema_view(
    list=extend_schema(summary="Coverage (provider staff: every partner's; a partner: its own)"),
    retrieve=extend_schema(summary="One region a partner covers"),
)
class CoverageViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Regions partners serve with their capacity. Clients and engineers see none: where a
    partner works is the provider's and the partner's business."""

    selector = selectors.coverage_list
    serializer_class = CoverageSerializer
    filterset_class = CoverageFilterSet
    ordering_fields = ["capacity", "region__code", "partner__name"]


@extend_schema_view(
    list=extend_schema(
        summary="Certifications (provider staff: every partner's; a partner: its own)"
    ),
    retrieve=extend_schema(summary="A certification"),
)
class CertificationViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Partners' certified competencies with their expiry dates."""

    selector = selectors.certification_list
    serializer_class = CertificationSerializer
    filterset_class = CertificationFilterSet
    ordering_fields = ["expires_on", "issued_on", "partner__name", "competency__name"]


@extend_schema_view(
    list=extend_schema(
        summary="Partner contracts with OLA targets (provider staff: all; a partner: its own)"
    ),
    retrieve=extend_schema(summary="A partner contract"),
)
class PartnerContractViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The provider's contracts with partners: rates, penalties and OLA targets."""

    selector = selectors.contract_list_detailed
    serializer_class = PartnerContractSerializer
    filterset_class = PartnerContractFilterSet
    ordering_fields = ["number", "starts_on", "ends_on"]
