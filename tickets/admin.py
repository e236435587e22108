"""Admin for tickets and what hangs off them: a read-only back office view.

Tickets change only through ``tickets.services``, which check transitions, bump the
version, number the ticket and write the timeline in one transaction. An admin form would
skip all of that, so provider admins can search, filter and read everything here, and do
the changes in the dispatcher console or the API.
"""

from __future__ import annotations

import re

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from tickets.models import (
    Attachment,
    Comment,
    EscalationPolicy,
    EscalationStep,
    Offer,
    Ticket,
    TicketEvent,
    Visit,
)

REFERENCE = re.compile(r"^(?:(?P<code>[A-Za-z]{2,5})-)?0*(?P<number>\d{1,9})$")


class ReadOnlyMixin:
    """View and search only: no add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class EventInline(ReadOnlyMixin, admin.TabularInline):
    model = TicketEvent
    fields = ("created_at", "kind", "actor", "actor_role", "is_internal", "data")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TicketEvent]:
        return super().get_queryset(request).select_related("actor")


class CommentInline(ReadOnlyMixin, admin.StackedInline):
    model = Comment
    fields = ("created_at", "author", "author_role", "is_internal", "body")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Comment]:
        return super().get_queryset(request).select_related("author")


class OfferInline(ReadOnlyMixin, admin.TabularInline):
    model = Offer
    fields = ("partner", "status", "offered_at", "deadline", "responded_at", "decline_reason")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Offer]:
        return super().get_queryset(request).select_related("partner")


class VisitInline(ReadOnlyMixin, admin.StackedInline):
    model = Visit
    fields = (
        ("partner", "engineer"),
        ("eta", "en_route_at", "checked_in_at", "checked_out_at"),
        ("check_in_latitude", "check_in_longitude", "check_in_distance_m"),
        "work_report",
        "parts_used",
        ("signed_off_by", "signed_off_at"),
    )
    readonly_fields = (
        "partner",
        "engineer",
        "eta",
        "en_route_at",
        "checked_in_at",
        "checked_out_at",
        "check_in_latitude",
        "check_in_longitude",
        "check_in_distance_m",
        "work_report",
        "parts_used",
        "signed_off_by",
        "signed_off_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Visit]:
        return super().get_queryset(request).select_related("partner", "engineer")


@admin.register(Ticket)
class TicketAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "reference",
        "subject",
        "store",
        "status",
        "priority",
        "needs_visit",
        "partner",
        "engineer",
        "created_at",
    )
    list_filter = (
        "status",
        "priority",
        "category",
        "kind",
        "needs_visit",
        "client",
        ("partner", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("subject", "store__code", "store__name", "external_id")
    list_select_related = ("client", "store", "partner", "engineer")
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("client", "number", "store", "equipment", "subject", "description")}),
        (
            _("Classification"),
            {"fields": ("kind", "category", "competency", "priority", "needs_visit")},
        ),
        (_("State"), {"fields": ("status", "status_before_wait", "partner", "engineer")}),
        (
            _("Timeline"),
            {
                "fields": (
                    "created_by",
                    "created_at",
                    "first_response_at",
                    "resolved_at",
                    "closed_at",
                    "updated_at",
                    "version",
                    "external_id",
                )
            },
        ),
    )
    readonly_fields = [name for _label, box in fieldsets for name in box["fields"]]
    inlines = (OfferInline, VisitInline, CommentInline, EventInline)

    @admin.display(description=_("number"), ordering="number")
    def reference(self, obj: Ticket) -> str:
        return obj.reference

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Ticket], search_term: str
    ) -> tuple[QuerySet[Ticket], bool]:
        """Also find a ticket by its number, with or without the client prefix."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = REFERENCE.match(search_term.strip())
        if match:
            by_number = queryset.filter(number=int(match["number"]))
            if match["code"]:
                by_number = by_number.filter(client__code=match["code"].upper())
            found = found | by_number
        return found, may_have_duplicates


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "ticket", "kind", "actor", "actor_role", "is_internal")
    list_filter = ("kind", "is_internal", "actor_role")
    search_fields = ("ticket__subject", "actor__username")
    list_select_related = ("ticket__client", "actor")
    show_full_result_count = False
    fields = ("ticket", "created_at", "kind", "actor", "actor_role", "is_internal", "data")
    readonly_fields = fields


@admin.register(Comment)
class CommentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "ticket", "author", "author_role", "is_internal", "excerpt")
    list_filter = ("is_internal", "author_role")
    search_fields = ("body", "ticket__subject", "author__username")
    list_select_related = ("ticket__client", "author")
    show_full_result_count = False
    fields = ("ticket", "created_at", "author", "author_role", "is_internal", "body")
    readonly_fields = fields

    @admin.display(description=_("text"))
    def excerpt(self, obj: Comment) -> str:
        return Truncator(obj.body).chars(80)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "original_name",
        "ticket",
        "content_type",
        "size",
        "is_internal",
        "uploaded_by",
        "created_at",
    )
    list_filter = ("content_type", "is_internal")
    search_fields = ("original_name", "sha256", "ticket__subject")
    list_select_related = ("ticket__client", "uploaded_by")
    fields = (
        "ticket",
        "comment",
        "original_name",
        "content_type",
        "size",
        "sha256",
        "file",
        "is_internal",
        "uploaded_by",
        "created_at",
    )
    readonly_fields = fields


@admin.register(Offer)
class OfferAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("ticket", "partner", "status", "offered_at", "deadline", "responded_at")
    list_filter = ("status", ("partner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("ticket__subject", "partner__name")
    list_select_related = ("ticket__client", "partner")
    show_full_result_count = False
    fields = (
        "ticket",
        "partner",
        "status",
        "offered_at",
        "deadline",
        "offered_by",
        "responded_at",
        "responded_by",
        "decline_reason",
    )
    readonly_fields = fields


@admin.register(Visit)
class VisitAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "ticket",
        "partner",
        "engineer",
        "eta",
        "checked_in_at",
        "checked_out_at",
        "check_in_distance_m",
    )
    list_filter = (("partner", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("ticket__subject", "partner__name", "engineer__username", "work_report")
    list_select_related = ("ticket__client", "partner", "engineer")
    show_full_result_count = False
    readonly_fields = (*VisitInline.readonly_fields, "ticket", "created_at")
    fields = ("ticket", "created_at", *VisitInline.fields)


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    """Which steps of the field escalation ladder a client contract runs automatically."""

    list_display = (
        "contract",
        "reoffer_on_decline",
        "reoffer_on_accept_timeout",
        "alert_on_arrival_warning",
        "reassign_on_arrival_breach",
    )
    list_select_related = ("contract__client",)
    search_fields = ("contract__number", "contract__client__name")
    autocomplete_fields = ("contract",)


@admin.register(EscalationStep)
class EscalationStepAdmin(admin.ModelAdmin):
    """The effect keys of the ladder: each step taken once per ticket and threshold."""

    list_display = ("created_at", "ticket", "step", "outcome", "threshold")
    list_filter = ("step",)
    search_fields = ("ticket__number", "step")
    list_select_related = ("ticket__client",)
    raw_id_fields = ("ticket", "threshold")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
