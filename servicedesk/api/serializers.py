"""Serializers shared by every app's API: the error body, tokens, references to people."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from servicedesk.choices import Role
from servicedesk.models import ApiToken, EmailChoice, Notification, Organisation, User


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable machine-readable code, e.g. not_found."))
    message = serializers.CharField(help_text=_("One human sentence naming the problem."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages per input field; empty when no field is to blame."),
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer (documented as the ``Error`` component)."""

    error = ErrorDetailSerializer()


class TokenObtainSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )
    name = serializers.CharField(
        max_length=100, required=False, default="API", help_text=_("A label to recognise it by.")
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text=_("Send as 'Authorization: Token <token>'. Shown once.")
    )
    name = serializers.CharField()
    prefix = serializers.CharField(help_text=_("First characters, to recognise the token."))
    created_at = serializers.DateTimeField()


class UserRefSerializer(serializers.ModelSerializer):
    """A person as other records show them: id and display name."""

    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name"]
        read_only_fields = fields


# -- integration tokens -------------------------------------------------------------------


class OrganisationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "kind", "name"]
        read_only_fields = fields


class IntegrationTokenSerializer(serializers.ModelSerializer):
    """An integration token as listed: never its key, only the first characters."""

    organisation = OrganisationRefSerializer(source="membership.organisation", read_only=True)
    role = serializers.ChoiceField(source="membership.role", choices=Role.choices, read_only=True)
    username = serializers.CharField(
        source="membership.user.username",
        read_only=True,
        help_text=_("The service user the token acts as; nobody can sign in as it."),
    )
    prefix = serializers.CharField(
        read_only=True, help_text=_("First characters, to recognise the token.")
    )
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "organisation",
            "role",
            "username",
            "prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields


class IntegrationTokenCreatedSerializer(IntegrationTokenSerializer):
    token = serializers.CharField(
        read_only=True,
        help_text=_("Send as 'Authorization: Token <token>'. Shown this once, never again."),
    )

    class Meta(IntegrationTokenSerializer.Meta):
        fields = [*IntegrationTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class IntegrationTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text=_("A label to recognise it by."))
    organisation = serializers.IntegerField(
        help_text=_("Organisation id the token acts for (yours, unless a provider admin).")
    )
    role = serializers.ChoiceField(
        choices=Role.choices, help_text=_("Not higher than your own role.")
    )
    store_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=1000,
        help_text=_("store_staff only: the client's stores the token may see."),
    )


# -- notifications ------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    """An in-app notification to the calling user; instants are UTC."""

    read = serializers.SerializerMethodField(help_text=_("Whether it has been read."))

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "link",
            "ticket_id",
            "urgent",
            "created_at",
            "read_at",
            "read",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text=_("How many notifications changed to read."))


@extend_schema_field(OpenApiTypes.STR)
class EmailChoiceField(serializers.ChoiceField):
    """``off``, ``urgent`` or ``all``. Documented as a plain string: two fields share the
    choice set, and an enum would need a project-wide ENUM_NAME_OVERRIDES entry."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=EmailChoice.choices, **kwargs)


class NotificationPreferenceSerializer(serializers.Serializer):
    """The calling user's notification preferences (defaults when never saved). A PUT may
    give any subset; what it leaves out keeps its value."""

    email_sla = EmailChoiceField(
        required=False,
        help_text=_("E-mail for SLA warnings and breaches: off, urgent or all."),
    )
    email_dispatch = EmailChoiceField(
        required=False,
        help_text=_("E-mail for offers and escalations: off, urgent or all."),
    )
    quiet_start = serializers.TimeField(
        required=False,
        allow_null=True,
        help_text=_("Quiet hours from (your own time zone); null with quiet_end: none."),
    )
    quiet_end = serializers.TimeField(required=False, allow_null=True)
    on_duty = serializers.BooleanField(
        required=False, help_text=_("Provider staff: takes urgent alerts when dispatchers are off.")
    )
    time_zone = serializers.CharField(
        read_only=True, help_text=_("Your time zone, the one quiet hours are in.")
    )
