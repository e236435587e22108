"""Admin for the partner network: partners, competencies, certifications, coverage, OLAs."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from partners.models import Certification, Competency, Coverage, Partner, PartnerContract
from servicedesk.exceptions import ValidationFailed
from sla.services import validate_ola_against_sla


def _duration(seconds: int | None) -> str:
    return "—" if seconds is None else str(timedelta(seconds=seconds))


@admin.register(Competency)
class CompetencyAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "equipment_kind")
    list_filter = ("equipment_kind",)
    search_fields = ("name", "code")


class CoverageInline(admin.TabularInline):
    model = Coverage
    extra = 0
    fields = ("region", "capacity")
    autocomplete_fields = ("region",)


class CertificationInline(admin.TabularInline):
    model = Certification
    extra = 0
    fields = ("competency", "number", "issued_on", "expires_on")
    autocomplete_fields = ("competency",)


class PartnerContractForm(forms.ModelForm):
    """Refuses an OLA looser than the client SLA it underpins (``validate_ola_against_sla``),
    with the service's message on the offending field, before anything is saved."""

    class Meta:
        model = PartnerContract
        exclude: list[str] = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        candidate = copy.copy(self.instance)
        for name in ("arrive_within_seconds", "resolve_within_seconds", "is_active"):
            if name in cleaned:
                setattr(candidate, name, cleaned[name])
        try:
            validate_ola_against_sla(candidate)
        except ValidationFailed as exc:
            for name, messages in (exc.fields or {None: [exc.message]}).items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return cleaned


class PartnerContractInline(admin.StackedInline):
    model = PartnerContract
    form = PartnerContractForm
    extra = 0


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "tax_id", "phone", "email", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "tax_id", "email", "organisation__name")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (CoverageInline, CertificationInline, PartnerContractInline)


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ("partner", "competency", "number", "issued_on", "expires_on", "valid_today")
    list_filter = ("competency", "partner__kind", "expires_on")
    search_fields = ("partner__name", "competency__name", "number")
    list_select_related = ("partner", "competency")
    autocomplete_fields = ("partner", "competency")
    date_hierarchy = "expires_on"

    @admin.display(boolean=True, description=_("valid today"))
    def valid_today(self, obj: Certification) -> bool:
        return obj.is_valid_on()


@admin.register(Coverage)
class CoverageAdmin(admin.ModelAdmin):
    list_display = ("partner", "region", "capacity")
    list_filter = ("partner__kind", "region__country", ("region", admin.RelatedOnlyFieldListFilter))
    search_fields = ("partner__name", "region__code", "region__name_ru", "region__name_en")
    list_select_related = ("partner", "region")
    autocomplete_fields = ("partner", "region")


@admin.register(PartnerContract)
class PartnerContractAdmin(admin.ModelAdmin):
    form = PartnerContractForm
    list_display = (
        "number",
        "partner",
        "starts_on",
        "ends_on",
        "visit_fee",
        "hourly_rate",
        "currency",
        "accept_within",
        "arrive_within",
        "resolve_within",
        "is_active",
    )
    list_filter = ("is_active", "currency", "partner__kind")
    search_fields = ("number", "partner__name")
    list_select_related = ("partner",)
    autocomplete_fields = ("partner",)

    @admin.display(description=_("accept within"), ordering="accept_within_seconds")
    def accept_within(self, obj: PartnerContract) -> str:
        return _duration(obj.accept_within_seconds)

    @admin.display(description=_("arrive within"), ordering="arrive_within_seconds")
    def arrive_within(self, obj: PartnerContract) -> str:
        return _duration(obj.arrive_within_seconds)

    @admin.display(description=_("resolve within"), ordering="resolve_within_seconds")
    def resolve_within(self, obj: PartnerContract) -> str:
        return _duration(obj.resolve_within_seconds)
