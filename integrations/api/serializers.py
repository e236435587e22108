"""Webhook and event-feed API shapes. Input serializers check types; rules live in services."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.choices import WebhookEventType
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.payloads import webhook_event_type
from servicedesk.api.serializers import UserRefSerializer
from tickets.choices import EventKind
from tickets.models import TicketEvent

# -- webhooks ----------------------------------------------------------------------------


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint as the API returns it: never its secret."""

    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices), read_only=True
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    """The answer to a create or a secret rotation: the only time the secret is shown."""

    secret = serializers.CharField(
        read_only=True,
        help_text=_("Signing secret, shown only now: keep it. Key of Webhook-Signature's HMAC."),
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500, help_text=_("http(s) URL on port 80 or 443."))
    description = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices), allow_empty=False
    )
    is_active = serializers.BooleanField(default=True)


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices),
        allow_empty=False,
        required=False,
    )
    is_active = serializers.BooleanField(required=False)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(read_only=True, help_text=_("The Webhook-Id header."))

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "endpoint",
            "event",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "first_attempt_at",
            "last_attempt_at",
            "last_response_code",
            "last_response_ms",
            "last_error",
            "created_at",
            "delivered_at",
        ]
        read_only_fields = fields


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    payload = serializers.DictField(read_only=True, help_text=_("The JSON body, as sent."))

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "response_body", "payload"]
        read_only_fields = fields


# -- event feed --------------------------------------------------------------------------


class FeedEventSerializer(serializers.ModelSerializer):
    ticket_reference = serializers.CharField(source="ticket.reference", read_only=True)
    type = serializers.SerializerMethodField(
        help_text=_("The webhook event type of this entry, if webhooks carry it.")
    )
    actor = UserRefSerializer(read_only=True, allow_null=True)
    data = serializers.DictField(read_only=True, help_text=_("What changed; depends on kind."))

    class Meta:
        model = TicketEvent
        fields = [
            "id",
            "ticket",
            "ticket_reference",
            "kind",
            "type",
            "actor",
            "actor_role",
            "is_internal",
            "data",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=WebhookEventType.choices, allow_null=True))
    def get_type(self, event: TicketEvent) -> str | None:
        return webhook_event_type(event)


class EventFeedQuerySerializer(serializers.Serializer):
    after = serializers.CharField(
        required=False, help_text=_("The cursor of a previous page: resume after it.")
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)
    kind = serializers.MultipleChoiceField(choices=EventKind.choices, required=False)
    ticket = serializers.IntegerField(required=False, min_value=1)


class EventFeedPageSerializer(serializers.Serializer):
    cursor = serializers.CharField(
        help_text=_("Position after the last result (or the one given if none): pass as after.")
    )
    next = serializers.URLField(help_text=_("This feed resumed at cursor: poll it."))
    has_more = serializers.BooleanField(help_text=_("More settled events are ready now."))
    results = FeedEventSerializer(many=True)
