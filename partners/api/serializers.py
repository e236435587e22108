"""Output representations of partners (read-only)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from calendars.api.serializers import CalendarRefSerializer
from clients.api.serializers import RegionRefSerializer
from partners.models import Certification, Competency, Coverage, Partner, PartnerContract


class PartnerRefSerializer(serializers.ModelSerializer):
    """A partner as a ticket shows it."""

    id = serializers.IntegerField(source="pk", read_only=True)

    class Meta:
        model = Partner
        fields = ["id", "name"]
        read_only_fields = fields


class PartnerSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)

    class Meta:
        model = Partner
        fields = ["id", "name", "kind", "email", "phone", "is_active"]
        read_only_fields = fields


class CompetencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Competency
        fields = ["id", "code", "name", "equipment_kind"]
        read_only_fields = fields


class CoverageSerializer(serializers.ModelSerializer):
    """A region a partner serves and how many concurrent jobs it takes there."""

    partner = PartnerRefSerializer(read_only=True)
    region = RegionRefSerializer(read_only=True)

    class Meta:
        model = Coverage
        fields = ["id", "partner", "region", "capacity"]
        read_only_fields = fields


class CertificationSerializer(serializers.ModelSerializer):
    """A partner's certified competency; it counts until the day before ``expires_on``."""

    partner = PartnerRefSerializer(read_only=True)
    competency = CompetencySerializer(read_only=True)
    is_valid = serializers.SerializerMethodField(help_text=_("In force today."))

    class Meta:
        model = Certification
        fields = ["id", "partner", "competency", "number", "issued_on", "expires_on", "is_valid"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_valid(self, certification: Certification) -> bool:
        return certification.is_valid_on()


class PartnerContractSerializer(serializers.ModelSerializer):
    """The provider's contract with a partner: rates, penalty rule and OLA targets (working
    seconds on ``ola_calendar``, or on the client SLA's calendar when it is null)."""

    partner = PartnerRefSerializer(read_only=True)
    ola_calendar = CalendarRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = PartnerContract
        fields = [
            "id",
            "partner",
            "number",
            "starts_on",
            "ends_on",
            "currency",
            "visit_fee",
            "hourly_rate",
            "accept_within_seconds",
            "arrive_within_seconds",
            "resolve_within_seconds",
            "ola_calendar",
            "penalty_percent_per_hour",
            "penalty_cap_percent",
            "is_active",
        ]
        read_only_fields = fields
