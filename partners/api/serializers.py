"""Output representations of partners (read-only)."""

from __future__ import annotations

from rest_framework import serializers

from partners.models import Partner


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
