"""Output representations of clients, regions, stores and equipment (all read-only)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from calendars.api.serializers import CalendarRefSerializer
from clients.models import Client, ClientContract, Equipment, Region, Store


class ClientRefSerializer(serializers.ModelSerializer):
    """A client as other records show it."""

    id = serializers.IntegerField(source="pk", read_only=True)

    class Meta:
        model = Client
        fields = ["id", "code", "name"]
        read_only_fields = fields


class ClientSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)

    class Meta:
        model = Client
        fields = ["id", "code", "name", "time_zone", "locale", "is_active"]
        read_only_fields = fields


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name_ru", "name_en", "country", "time_zone"]
        read_only_fields = fields


class RegionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name_ru", "name_en"]
        read_only_fields = fields


class StoreRefSerializer(serializers.ModelSerializer):
    """A store as a ticket shows it: enough to find it and to read its local times."""

    class Meta:
        model = Store
        fields = ["id", "code", "name", "time_zone"]
        read_only_fields = fields


class StoreSerializer(serializers.ModelSerializer):
    """A store with its client, region and access hours nested (joined in the same query,
    so an integrator needs no second call per store)."""

    client = ClientRefSerializer(read_only=True)
    region = RegionSerializer(read_only=True)
    access_calendar = CalendarRefSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("When an engineer can get in; null: any time the SLA calendar counts."),
    )

    class Meta:
        model = Store
        fields = [
            "id",
            "client",
            "code",
            "name",
            "region",
            "city",
            "address",
            "time_zone",
            "latitude",
            "longitude",
            "phone",
            "external_id",
            "access_calendar",
            "is_active",
        ]
        read_only_fields = fields


class EquipmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Equipment
        fields = ["id", "kind", "model", "serial_number"]
        read_only_fields = fields


class EquipmentSerializer(serializers.ModelSerializer):
    store = StoreRefSerializer(read_only=True)

    class Meta:
        model = Equipment
        fields = [
            "id",
            "store",
            "kind",
            "model",
            "serial_number",
            "installed_on",
            "warranty_until",
        ]
        read_only_fields = fields


class ClientContractSerializer(serializers.ModelSerializer):
    """A service contract between the provider and a client (SLA policies hang off it)."""

    client = ClientRefSerializer(read_only=True)

    class Meta:
        model = ClientContract
        fields = ["id", "client", "number", "starts_on", "ends_on", "is_active", "created_at"]
        read_only_fields = fields
