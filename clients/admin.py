"""Admin for clients, regions, stores and equipment (provider admins)."""

from __future__ import annotations

from django.contrib import admin

from clients.models import (
    Client,
    ClientContract,
    Equipment,
    Region,
    Store,
    StoreStaffAssignment,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name_ru", "name_en", "country", "time_zone")
    list_filter = ("country", "time_zone")
    search_fields = ("code", "name_ru", "name_en")


class ClientContractInline(admin.TabularInline):
    model = ClientContract
    extra = 0
    fields = ("number", "starts_on", "ends_on", "is_active")


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "time_zone", "locale", "auto_dispatch", "is_active")
    list_filter = ("is_active", "auto_dispatch", "locale")
    search_fields = ("name", "code", "organisation__name")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    # Numbers are issued under a row lock by ticket_create; editing it would reuse numbers.
    readonly_fields = ("ticket_sequence", "created_at", "updated_at")
    inlines = (ClientContractInline,)


@admin.register(ClientContract)
class ClientContractAdmin(admin.ModelAdmin):
    list_display = ("number", "client", "starts_on", "ends_on", "is_active")
    list_filter = ("is_active", "client")
    search_fields = ("number", "client__name", "client__code")
    list_select_related = ("client",)
    autocomplete_fields = ("client",)


class EquipmentInline(admin.TabularInline):
    model = Equipment
    extra = 0
    fields = ("kind", "model", "serial_number", "installed_on", "warranty_until")


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "client", "region", "city", "time_zone", "is_active")
    list_filter = (
        "is_active",
        "client",
        "region__country",
        ("region", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("code", "name", "city", "address", "external_id")
    list_select_related = ("client", "region")
    autocomplete_fields = ("client", "region")
    readonly_fields = ("created_at", "updated_at")
    show_full_result_count = False
    inlines = (EquipmentInline,)


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = ("serial_number", "kind", "model", "store", "installed_on", "warranty_until")
    list_filter = ("kind", "store__client")
    search_fields = ("serial_number", "model", "store__code", "store__name")
    list_select_related = ("store",)
    autocomplete_fields = ("store",)
    readonly_fields = ("created_at", "updated_at")
    show_full_result_count = False


@admin.register(StoreStaffAssignment)
class StoreStaffAssignmentAdmin(admin.ModelAdmin):
    list_display = ("membership", "store")
    list_filter = ("store__client",)
    search_fields = ("membership__user__username", "membership__user__last_name", "store__code")
    list_select_related = ("membership__user", "membership__organisation", "store")
    autocomplete_fields = ("membership", "store")
