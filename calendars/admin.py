"""Admin for business calendars: weekly hours and dated exceptions, edited inline.

Saving goes through the same use cases as the API: a changed week replaces the weekly
hours from now on (``tickets.sla_admin.calendar_edit_week``, effective-dated, so running
clocks keep what they consumed), and changed exceptions move the running clocks of the
calendar (``calendar_follow_edit``). Either way every moved clock leaves an SLA event on
its ticket. The zone and the kind of calendar are fixed once it exists.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendars.models import BusinessCalendar, CalendarException, WorkingInterval
from servicedesk.actors import Actor, resolve_actor
from servicedesk.choices import Role
from tickets import sla_admin


class WeekFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if self.instance.always_open and kept:
            raise ValidationError(_("A 24×7 calendar has no weekly hours."))


class WorkingIntervalInline(admin.TabularInline):
    """The week in force now (and any week scheduled from a later instant)."""

    model = WorkingInterval
    formset = WeekFormSet
    extra = 0
    fields = ("weekday", "opens", "closes", "effective_from")
    readonly_fields = ("effective_from",)
    ordering = ("weekday", "opens")

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkingInterval]:
        in_force = Q(effective_until__isnull=True) | Q(effective_until__gt=timezone.now())
        return super().get_queryset(request).filter(in_force)


class CalendarExceptionInline(admin.TabularInline):
    model = CalendarException
    extra = 0
    fields = ("day", "kind", "opens", "closes", "note")
    ordering = ("-day", "opens")


def _admin_actor(request: HttpRequest) -> Actor | None:
    """The admin user as a provider admin, for the timeline; else the trusted admin site."""
    actor = resolve_actor(request.user)
    return actor if actor is not None and actor.role == Role.PROVIDER_ADMIN else None


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "zone",
        "always_open",
        "production_calendar",
        "holiday_region",
        "updated_at",
    )
    list_filter = ("always_open", "production_calendar")
    search_fields = ("name", "code")
    inlines = (WorkingIntervalInline, CalendarExceptionInline)
    # Changing these would silently recount time clocks have already consumed.
    fixed_once_created = ("time_zone", "always_open", "production_calendar", "holiday_region")

    @admin.display(description=_("time zone"), ordering="time_zone")
    def zone(self, obj: BusinessCalendar) -> str:
        return obj.time_zone or str(_("the store's own"))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        base = ("created_at", "updated_at")
        return (*base, *self.fixed_once_created) if obj is not None else base

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        if change and formset.model is WorkingInterval:
            # Not saved in place: the new week takes effect from now (see save_related).
            if formset.has_changed():
                request._sla_new_week = [  # type: ignore[attr-defined]
                    (
                        int(f.cleaned_data["weekday"]),
                        f.cleaned_data["opens"],
                        f.cleaned_data["closes"],
                    )
                    for f in formset.forms
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")
                ]
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        super().save_formset(request, form, formset, change)
        if change and formset.model is CalendarException and formset.has_changed():
            request._sla_exceptions_changed = True  # type: ignore[attr-defined]

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: list, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        if not change:
            return
        calendar, actor, now = form.instance, _admin_actor(request), timezone.now()
        week = getattr(request, "_sla_new_week", None)
        if week is not None:
            sla_admin.calendar_edit_week(
                actor=actor, calendar_id=calendar.pk, intervals=week, effective_from=now, now=now
            )
            messages.info(request, _("The new weekly hours apply from now on."))
        elif getattr(request, "_sla_exceptions_changed", False):
            calendar.save(update_fields=["updated_at"])  # a fresh cache key for the hours
            sla_admin.calendar_follow_edit(actor=actor, calendar_id=calendar.pk, now=now)
