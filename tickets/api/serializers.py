"""Ticket API shapes. Input serializers check types only; rules live in ``tickets.services``.

Every write has its own input serializer, separate from the output one, so read-only
fields (client, number, status, version, partner…) cannot be set through a create body:
they are simply not among the input fields.
"""

from __future__ import annotations

import zoneinfo

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from clients.api.serializers import ClientRefSerializer, EquipmentRefSerializer, StoreRefSerializer
from partners.api.serializers import PartnerRefSerializer
from servicedesk.api.permissions import request_actor
from servicedesk.api.serializers import UserRefSerializer
from tickets import presenters, selectors
from tickets.choices import Category, Priority, TicketKind, TicketStatus
from tickets.models import Attachment, Comment, Ticket, TicketEvent

# -- output ------------------------------------------------------------------------------


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as the API returns it. Times are UTC; ``*_local`` ones are in the store's zone."""

    reference = serializers.CharField(read_only=True, help_text=_("E.g. MAG-000123."))
    client = ClientRefSerializer(read_only=True)
    store = StoreRefSerializer(read_only=True)
    equipment = EquipmentRefSerializer(read_only=True, allow_null=True)
    partner = PartnerRefSerializer(read_only=True, allow_null=True)
    engineer = UserRefSerializer(read_only=True, allow_null=True)
    created_at_local = serializers.SerializerMethodField(
        help_text=_("created_at in the store's time zone, with its UTC offset.")
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "reference",
            "number",
            "client",
            "store",
            "equipment",
            "status",
            "priority",
            "category",
            "kind",
            "needs_visit",
            "subject",
            "description",
            "partner",
            "engineer",
            "competency",
            "version",
            "external_id",
            "created_at",
            "created_at_local",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_created_at_local(self, ticket: Ticket) -> str:
        return ticket.created_at.astimezone(zoneinfo.ZoneInfo(ticket.store.time_zone)).isoformat()


class TicketClockSerializer(serializers.Serializer):
    """One SLA clock read at the time of the request (``tickets.presenters.ClockReading``).

    Seconds are working seconds of the clock's own calendar. ``state`` is the stored one;
    a running clock with ``overdue_seconds > 0`` is past its due.
    """

    metric = serializers.CharField(source="clock.metric")
    agreement = serializers.CharField(
        source="clock.agreement", help_text=_("sla: the client's SLA; ola: a partner's OLA.")
    )
    partner = PartnerRefSerializer(source="clock.partner", allow_null=True)
    state = serializers.CharField(
        source="clock.state", help_text=_("running, paused, met, breached or cancelled.")
    )
    cycle = serializers.IntegerField(source="clock.cycle", help_text=_("Restarted on reopen."))
    target_seconds = serializers.IntegerField(source="clock.target_seconds")
    started_at = serializers.DateTimeField(source="clock.started_at")
    due_at = serializers.DateTimeField(source="clock.due_at", allow_null=True)
    due_at_local = serializers.SerializerMethodField(
        help_text=_("due_at in the store's time zone, with its UTC offset.")
    )
    warn_at = serializers.DateTimeField(source="clock.warn_at", allow_null=True)
    breached_at = serializers.DateTimeField(source="clock.breached_at", allow_null=True)
    stopped_at = serializers.DateTimeField(source="clock.stopped_at", allow_null=True)
    consumed_seconds = serializers.IntegerField(
        help_text=_("Working seconds used so far (until the stop, for a stopped clock).")
    )
    remaining_seconds = serializers.IntegerField(
        help_text=_("Working seconds left of the target (0 once past it).")
    )
    overdue_seconds = serializers.IntegerField(
        help_text=_("Working seconds past the target (0 while within it).")
    )

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_due_at_local(self, reading) -> str | None:
        due = reading.clock.due_at
        zone = self.context.get("store_time_zone")
        if due is None or not zone:
            return None
        return due.astimezone(zoneinfo.ZoneInfo(zone)).isoformat()


class TicketDetailSerializer(TicketSerializer):
    """A ticket with its SLA clocks as the caller may see them: the client SLA for everyone
    who sees the ticket, a partner's OLA only for the provider and that partner."""

    clocks = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "clocks"]
        read_only_fields = fields

    @extend_schema_field(TicketClockSerializer(many=True))
    def get_clocks(self, ticket: Ticket) -> list[dict]:
        actor = request_actor(self.context["request"])
        now = self.context.get("now") or timezone.now()
        clocks = selectors.ticket_clocks(actor=actor, ticket=ticket)
        readings = presenters.clock_readings(clocks, now)
        context = {**self.context, "store_time_zone": ticket.store.time_zone}
        return TicketClockSerializer(readings, many=True, context=context).data


class AttachmentBriefSerializer(serializers.ModelSerializer):
    """A file as a comment lists it."""

    name = serializers.CharField(source="original_name", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "download_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, attachment: Attachment) -> str:
        return reverse(
            "api:attachment-download",
            kwargs={"pk": attachment.pk},
            request=self.context.get("request"),
        )


class AttachmentSerializer(AttachmentBriefSerializer):
    uploaded_by = UserRefSerializer(read_only=True)

    class Meta(AttachmentBriefSerializer.Meta):
        fields = [
            "id",
            "name",
            "content_type",
            "size",
            "sha256",
            "is_internal",
            "comment",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields


class CommentSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(read_only=True)
    attachments = AttachmentBriefSerializer(many=True, read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "author_role", "body", "is_internal", "created_at", "attachments"]
        read_only_fields = fields


class TicketEventSerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True, allow_null=True)
    data = serializers.DictField(read_only=True, help_text=_("What changed; depends on kind."))

    class Meta:
        model = TicketEvent
        fields = ["id", "kind", "actor", "actor_role", "is_internal", "data", "created_at"]
        read_only_fields = fields


# -- input -------------------------------------------------------------------------------


class TicketCreateSerializer(serializers.Serializer):
    """What a caller may say when opening a ticket. Anything else in the body is ignored."""

    store = serializers.IntegerField(help_text=_("Store id."))
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.P3)
    category = serializers.ChoiceField(choices=Category.choices, default=Category.HARDWARE)
    kind = serializers.ChoiceField(choices=TicketKind.choices, default=TicketKind.INCIDENT)
    needs_visit = serializers.BooleanField(default=False)
    equipment = serializers.IntegerField(required=False, allow_null=True, default=None)
    competency = serializers.IntegerField(required=False, allow_null=True, default=None)
    external_id = serializers.CharField(
        max_length=100, required=False, allow_null=True, allow_blank=True, default=None
    )

    def to_service_kwargs(self) -> dict:
        """``validated_data`` named as ``ticket_create`` takes it."""
        data = dict(self.validated_data)
        data["store_id"] = data.pop("store")
        data["equipment_id"] = data.pop("equipment")
        data["competency_id"] = data.pop("competency")
        return data


class VersionedSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("The version you read; a newer one on the server answers 409."),
    )


class TicketTransitionSerializer(VersionedSerializer):
    status = serializers.ChoiceField(choices=TicketStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class TicketAssignSerializer(VersionedSerializer):
    partner = serializers.IntegerField(help_text=_("Partner id."))
    engineer = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text=_("User id of the engineer.")
    )


class TicketPrioritySerializer(VersionedSerializer):
    priority = serializers.ChoiceField(choices=Priority.choices)


class CommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)
    is_internal = serializers.BooleanField(
        default=False, help_text=_("A note for provider staff only (provider staff may set it).")
    )


class AttachmentCreateSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    is_internal = serializers.BooleanField(default=False)
    comment = serializers.IntegerField(required=False, allow_null=True, default=None)
