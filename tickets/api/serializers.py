"""Ticket API shapes. Input serializers check types only; rules live in ``tickets.services``.

Every write has its own input serializer, separate from the output one, so read-only
fields (client, number, status, version, partner…) cannot be set through a create body:
they are simply not among the input fields. An edit (PATCH) goes further and names them in
a 400, so an integrator learns which endpoint moves them instead.
"""

from __future__ import annotations

import zoneinfo

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.reverse import reverse

from clients.api.serializers import ClientRefSerializer, EquipmentRefSerializer, StoreRefSerializer
from partners.api.serializers import PartnerRefSerializer
from servicedesk.api.permissions import request_actor
from servicedesk.api.serializers import UserRefSerializer
from tickets import presenters, selectors
from tickets.choices import Category, OfferStatus, Priority, TicketKind, TicketStatus
from tickets.models import Attachment, Comment, Offer, Ticket, TicketEvent, Visit

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


@extend_schema_field(TicketClockSerializer(many=True))
class _PageClocksField(serializers.Field):
    """The row's clock readings, read for the whole page at once (``clocks_by_ticket`` in
    the context: ticket id → ``presenters.ClockReading`` list).

    Not read-only, only so the schema marks it optional: it is there with ``expand=clocks``.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(required=False, **kwargs)

    def get_attribute(self, ticket: Ticket) -> Ticket:
        if "clocks_by_ticket" not in self.context:
            raise SkipField  # not asked for: the row has no ``clocks`` key
        return ticket

    def to_representation(self, ticket: Ticket) -> list[dict]:
        readings = self.context["clocks_by_ticket"].get(ticket.pk, [])
        context = {**self.context, "store_time_zone": ticket.store.time_zone}
        return TicketClockSerializer(readings, many=True, context=context).data

    def to_internal_value(self, data):  # pragma: no cover - output only
        raise NotImplementedError


class TicketListSerializer(TicketSerializer):
    """A row of the ticket list; ``clocks`` only with ``expand=clocks``."""

    clocks = _PageClocksField(help_text=_("With expand=clocks: the SLA clocks, as on a ticket."))

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "clocks"]
        read_only_fields = TicketSerializer.Meta.fields


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


# -- edits -------------------------------------------------------------------------------

# What a ticket shows but an edit may not set: each is named in a 400, so an integrator
# learns which service moves it instead of having it silently ignored.
READ_ONLY_TICKET_FIELDS = {
    *TicketDetailSerializer.Meta.fields,
    "status_before_wait",
    "needs_attention",
    "attention_reason",
    "created_by",
}


class TicketUpdateSerializer(serializers.Serializer):
    """A partial edit (PATCH): only the fields given change. ``priority`` and ``category``
    are provider staff's (they recount the SLA). Anything else in the body is a 400 naming
    the field: client, store, number, status, partner, engineer, version… have their own
    endpoints or never change. Send the version you read in ``If-Match``."""

    subject = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    external_id = serializers.CharField(
        max_length=100, required=False, allow_null=True, allow_blank=True
    )
    equipment = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("Equipment id at the ticket's store.")
    )
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)

    def validate(self, attrs: dict) -> dict:
        given = set(getattr(self, "initial_data", {}) or {})
        extra = sorted(given - set(self.fields))
        if extra:
            errors = {}
            for name in extra:
                if name == "version":
                    errors[name] = [
                        _("Read-only field: send the version you read as If-Match instead.")
                    ]
                elif name in READ_ONLY_TICKET_FIELDS:
                    errors[name] = [_("Read-only field.")]
                else:
                    errors[name] = [_("Unknown field.")]
            raise serializers.ValidationError(errors)
        return attrs

    def to_service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        if "equipment" in data:
            data["equipment_id"] = data.pop("equipment")
        return data


# -- offers ------------------------------------------------------------------------------


class OfferTicketSerializer(serializers.ModelSerializer):
    """The job an offer is for, enough to decide on it without another call."""

    reference = serializers.CharField(read_only=True)
    store = StoreRefSerializer(read_only=True)

    class Meta:
        model = Ticket
        fields = ["id", "reference", "subject", "priority", "category", "store", "version"]
        read_only_fields = fields


class OfferSerializer(serializers.ModelSerializer):
    """A job offered to a partner. ``reason`` (of a decline or withdrawal) is shown to the
    provider and to the offer's partner only."""

    ticket = OfferTicketSerializer(read_only=True)
    partner = PartnerRefSerializer(read_only=True)
    status = serializers.ChoiceField(choices=OfferStatus.choices, read_only=True)
    reason = serializers.SerializerMethodField(
        help_text=_("Why it was declined or withdrawn (provider and that partner only).")
    )

    class Meta:
        model = Offer
        fields = [
            "id",
            "ticket",
            "partner",
            "status",
            "offered_at",
            "deadline",
            "responded_at",
            "ended_at",
            "reason",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reason(self, offer: Offer) -> str | None:
        actor = request_actor(self.context["request"])
        if actor is None or not (
            actor.is_provider or (actor.is_partner and actor.organisation_id == offer.partner_id)
        ):
            return None
        return offer.decline_reason or None


class OfferCreateSerializer(serializers.Serializer):
    partner = serializers.IntegerField(help_text=_("Partner id (an eligible one: see ranking)."))


class OfferAcceptSerializer(serializers.Serializer):
    engineer = serializers.IntegerField(help_text=_("User id of one of your engineers."))
    eta = serializers.DateTimeField(help_text=_("When the engineer arrives; with a time zone."))


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=_("Why; required."))


class RankedPartnerSerializer(serializers.Serializer):
    """One operational partner's place for a job (``tickets.dispatch.partners_rank``)."""

    partner_id = serializers.IntegerField()
    name = serializers.CharField()
    eligible = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    score = serializers.FloatField(allow_null=True)
    compliance = serializers.FloatField(allow_null=True)
    load = serializers.FloatField(allow_null=True)
    price = serializers.FloatField(allow_null=True)
    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    open_jobs = serializers.IntegerField()
    capacity = serializers.IntegerField(allow_null=True)
    visit_fee = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    accept_within_seconds = serializers.IntegerField(allow_null=True)


# -- visits ------------------------------------------------------------------------------


class PartUsedSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    qty = serializers.IntegerField(min_value=1)
    serial = serializers.CharField(max_length=120, required=False, allow_blank=True)


class VisitSerializer(serializers.ModelSerializer):
    """An engineer's trip to the store. Times are the server's, UTC."""

    partner = PartnerRefSerializer(read_only=True)
    engineer = UserRefSerializer(read_only=True, allow_null=True)
    checklist = serializers.DictField(
        child=serializers.BooleanField(), read_only=True, help_text=_("Item → passed.")
    )
    parts_used = PartUsedSerializer(many=True, read_only=True)
    signed_off_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "ticket",
            "partner",
            "engineer",
            "eta",
            "en_route_at",
            "checked_in_at",
            "checked_out_at",
            "check_in_distance_m",
            "check_in_flagged",
            "checklist_kind",
            "checklist",
            "parts_used",
            "work_report",
            "reported_at",
            "signed_off_by",
            "signed_off_at",
            "signed_off_on_device",
            "cancelled_at",
            "created_at",
        ]
        read_only_fields = fields


class VisitEtaSerializer(serializers.Serializer):
    eta = serializers.DateTimeField(help_text=_("A new ETA in the future, with a time zone."))


class VisitCheckInSerializer(serializers.Serializer):
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6)
    at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text=_("The phone's clock (audit).")
    )


class VisitReportSerializer(serializers.Serializer):
    """The work report; the checklist's items depend on the equipment (``checklist_kind``).
    Item-level problems come back as ``checklist.<item>`` and ``parts.<n>.<field>``."""

    checklist = serializers.DictField(child=serializers.BooleanField())
    parts = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        default=list,
        max_length=200,
        help_text=_("Each part: name, qty (1…1000), optional serial."),
    )
    text = serializers.CharField(max_length=20000)

    def validate_parts(self, parts: list[dict]) -> list[dict]:
        # The service checks each part's shape; text bound for a JSON column must not carry
        # NUL characters, which PostgreSQL refuses.
        for index, part in enumerate(parts):
            for key, value in part.items():
                if "\x00" in str(key) or (isinstance(value, str) and "\x00" in value):
                    raise serializers.ValidationError(
                        {f"{index}.{key}": [_("Null characters are not allowed.")]}
                    )
        return parts


class VisitPhotoSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True, use_url=False, help_text=_("An image (checked by content).")
    )


class VisitSignOffSerializer(serializers.Serializer):
    """Store staff or a client manager sign with an empty body. On the engineer's device,
    the store employee types their own username and password."""

    username = serializers.CharField(max_length=150, required=False, allow_blank=True)
    password = serializers.CharField(
        max_length=128, required=False, allow_blank=True, trim_whitespace=False
    )


class VisitResolveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
