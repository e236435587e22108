"""Admin for accounts: users, organisations, memberships and API tokens (provider admins)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from servicedesk.exceptions import ApplicationError
from servicedesk.forms import AdminLoginForm
from servicedesk.models import (
    ApiToken,
    IdempotencyRecord,
    LoginFailure,
    Membership,
    Notification,
    NotificationPreference,
    Organisation,
    OutboxMessage,
    User,
)
from servicedesk.services import api_token_revoke

# The admin's sign-in page shares the brute-force lockout of the main one.
admin.site.login_form = AdminLoginForm


class UserCreationForm(auth_forms.UserCreationForm):
    class Meta(auth_forms.UserCreationForm.Meta):
        model = User
        fields = ("username", "time_zone", "language")


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta(auth_forms.UserChangeForm.Meta):
        model = User


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("organisation", "role", "is_active")
    autocomplete_fields = ("organisation",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Preferences"), {"fields": ("time_zone", "language")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "password1", "password2", "time_zone", "language"),
            },
        ),
    )
    list_display = (
        "username",
        "first_name",
        "last_name",
        "email",
        "time_zone",
        "language",
        "is_staff",
        "is_active",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "language", "memberships__role")
    inlines = (MembershipInline,)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role", "is_active", "created_at")
    list_filter = ("role", "is_active", "organisation__kind")
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "organisation__name",
    )
    list_select_related = ("user", "organisation")
    autocomplete_fields = ("user", "organisation")
    readonly_fields = ("created_at", "updated_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued through the API and only revoked here; the key hash never shows."""

    list_display = ("name", "prefix", "membership", "created_at", "last_used_at", "revoked_at")
    list_filter = ("membership__role", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "membership__user__username")
    list_select_related = ("membership__user", "membership__organisation")
    fields = ("name", "prefix", "membership", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        actor = getattr(request, "actor", None)
        if actor is None:
            self.message_user(request, _("You act for no organisation."), messages.ERROR)
            return
        for token_id in queryset.values_list("pk", flat=True):
            try:
                api_token_revoke(actor=actor, token_id=token_id)
            except ApplicationError as error:
                self.message_user(request, str(error), messages.ERROR)
                return
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the platform itself: looked at here, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(_ReadOnlyAdmin):
    list_display = (
        "created_at",
        "recipient",
        "kind",
        "title",
        "urgent",
        "read_at",
        "deliver_after",
        "email_sent_at",
    )
    list_filter = ("kind", "urgent", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "recipient__username", "dedupe_key")
    list_select_related = ("recipient",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(_ReadOnlyAdmin):
    list_display = ("created_at", "topic", "key", "attempts", "dispatched_at", "available_at")
    list_filter = ("topic", ("dispatched_at", admin.EmptyFieldListFilter))
    search_fields = ("key", "topic", "last_error")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email_sla", "email_dispatch", "quiet_start", "quiet_end", "on_duty")
    list_filter = ("on_duty", "email_sla", "email_dispatch")
    search_fields = ("user__username", "user__email")
    autocomplete_fields = ("user",)


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Failed sign-ins behind a lockout; deleting a name's rows unlocks it at once."""

    list_display = ("created_at", "scope", "key")
    list_filter = ("scope",)
    search_fields = ("key",)
    date_hierarchy = "created_at"


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Idempotency keys in use, to answer an integrator's "did my retry create it twice?".
    Read-only: a record is the API's own memory of what it answered."""

    list_display = ("created_at", "principal", "key", "method", "path", "response_status")
    list_filter = ("method", "response_status")
    search_fields = ("principal", "key", "path")
    date_hierarchy = "created_at"
    exclude = ("response_body",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
