"""Ticket endpoints. Reads go through ``tickets.selectors``, writes through ``tickets.services``.

Every endpoint under ``/tickets/{id}/`` first finds the ticket through the actor's scope, so
a ticket the caller may not see answers 404 whatever the action, before any role check.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from servicedesk.api.pagination import CreatedCursorPagination, PageNumberPagination
from servicedesk.api.permissions import request_actor
from servicedesk.api.serializers import ErrorSerializer
from servicedesk.api.viewsets import ScopedViewSetMixin
from tickets import selectors, services
from tickets.api.serializers import (
    AttachmentCreateSerializer,
    AttachmentSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    TicketAssignSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketEventSerializer,
    TicketPrioritySerializer,
    TicketSerializer,
    TicketTransitionSerializer,
)
from tickets.downloads import attachment_response
from tickets.filtersets import TicketFilterSet
from tickets.models import Attachment, Comment, Ticket, TicketEvent

_CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description=_("Not allowed from the ticket's status, or the version is stale."),
)


class TicketViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Tickets the caller may see, newest first, with keyset cursor pagination.

    The SLA filters (``breached``, ``at_risk``) are ``TicketFilterSet``'s, as on the HTML
    list. "Due soonest" is not an API ordering: the keyset paginator positions on a
    non-null model field and the id, while the nearest running due is a nullable
    annotation; callers filter with ``breached``/``at_risk`` and read each ticket's
    ``clocks`` instead.
    """

    selector = selectors.ticket_list
    serializer_class = TicketSerializer
    filterset_class = TicketFilterSet
    filter_backends = [DjangoFilterBackend]  # ordering is the paginator's: it must be a keyset
    pagination_class = CreatedCursorPagination
    ordering_fields = ["created_at", "updated_at", "priority", "number"]
    default_ordering = "-created_at"
    # Writes read their own input serializer; the browsable API shows these as its forms.
    input_serializers = {
        "create": TicketCreateSerializer,
        "transition": TicketTransitionSerializer,
        "assign": TicketAssignSerializer,
        "priority": TicketPrioritySerializer,
    }

    def get_serializer_class(self) -> type:
        action_name = getattr(self, "action", None)
        if action_name == "retrieve":
            return TicketDetailSerializer
        return self.input_serializers.get(action_name, TicketSerializer)

    @extend_schema(
        summary="Open a ticket",
        request=TicketCreateSerializer,
        responses={201: TicketSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = TicketCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        ticket = services.ticket_create(actor=self.actor, **given.to_service_kwargs())
        location = reverse("api:ticket-detail", kwargs={"pk": ticket.pk}, request=request)
        return Response(
            self._out(ticket), status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    @extend_schema(
        summary="Change the status",
        request=TicketTransitionSerializer,
        responses={200: TicketSerializer, 409: _CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: int) -> Response:
        given = self._given(TicketTransitionSerializer)
        ticket = services.ticket_transition(
            actor=self.actor,
            ticket_id=pk,
            to_status=given["status"],
            expected_version=given.get("version"),
            note=given["note"],
        )
        return Response(self._out(ticket))

    @extend_schema(
        summary="Assign a partner and engineer",
        request=TicketAssignSerializer,
        responses={200: TicketSerializer, 409: _CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: int) -> Response:
        given = self._given(TicketAssignSerializer)
        ticket = services.ticket_assign(
            actor=self.actor,
            ticket_id=pk,
            partner_id=given["partner"],
            engineer_id=given["engineer"],
            expected_version=given.get("version"),
        )
        return Response(self._out(ticket))

    @extend_schema(
        summary="Change the priority",
        request=TicketPrioritySerializer,
        responses={200: TicketSerializer, 409: _CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def priority(self, request: Request, pk: int) -> Response:
        given = self._given(TicketPrioritySerializer)
        ticket = services.ticket_reclassify(
            actor=self.actor,
            ticket_id=pk,
            priority=given["priority"],
            expected_version=given.get("version"),
        )
        return Response(self._out(ticket))

    def _given(self, serializer_class: type) -> dict:
        """The ticket must be visible (404 first), then the body must be well-typed (400)."""
        self.get_object()
        given = serializer_class(data=self.request.data)
        given.is_valid(raise_exception=True)
        return given.validated_data

    def _out(self, ticket: Ticket) -> dict:
        return TicketSerializer(ticket, context=self.get_serializer_context()).data


class TicketChildViewSet(ScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Base of ``/tickets/{ticket_pk}/<children>/``: the ticket is looked up in scope first."""

    pagination_class = PageNumberPagination
    filter_backends: list = []
    input_serializer_class: type | None = None

    def get_serializer_class(self) -> type:
        if getattr(self, "action", None) == "create" and self.input_serializer_class:
            return self.input_serializer_class
        return super().get_serializer_class()

    def get_ticket(self) -> Ticket:
        if not hasattr(self, "_ticket"):
            self._ticket = selectors.ticket_get(
                actor=self.actor, ticket_id=self.kwargs["ticket_pk"]
            )
        return self._ticket


@extend_schema_view(list=extend_schema(summary="A ticket's comments (internal ones: staff only)"))
class TicketCommentViewSet(TicketChildViewSet):
    # For schema introspection only; rows always come from the selector in get_queryset.
    queryset = Comment.objects.none()
    serializer_class = CommentSerializer
    input_serializer_class = CommentCreateSerializer

    def get_queryset(self) -> QuerySet[Comment]:
        return selectors.ticket_comments(actor=self.actor, ticket=self.get_ticket())

    @extend_schema(
        summary="Comment on a ticket",
        request=CommentCreateSerializer,
        responses={201: CommentSerializer},
    )
    def create(self, request: Request, ticket_pk: int) -> Response:
        ticket = self.get_ticket()
        given = CommentCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        comment = services.ticket_comment(
            actor=self.actor, ticket_id=ticket.pk, **given.validated_data
        )
        return Response(
            CommentSerializer(comment, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(list=extend_schema(summary="A ticket's timeline"))
class TicketEventViewSet(TicketChildViewSet):
    queryset = TicketEvent.objects.none()  # schema introspection only
    serializer_class = TicketEventSerializer

    def get_queryset(self) -> QuerySet[TicketEvent]:
        return selectors.ticket_events(actor=self.actor, ticket=self.get_ticket())


@extend_schema_view(list=extend_schema(summary="A ticket's files"))
class TicketAttachmentViewSet(TicketChildViewSet):
    queryset = Attachment.objects.none()  # schema introspection only
    serializer_class = AttachmentSerializer
    input_serializer_class = AttachmentCreateSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Attachment]:
        return selectors.ticket_attachments(actor=self.actor, ticket=self.get_ticket())

    @extend_schema(
        summary="Attach a file (multipart)",
        request=AttachmentCreateSerializer,
        responses={201: AttachmentSerializer},
    )
    def create(self, request: Request, ticket_pk: int) -> Response:
        ticket = self.get_ticket()
        given = AttachmentCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        attachment = services.ticket_attach(
            actor=self.actor,
            ticket_id=ticket.pk,
            uploaded_file=given.validated_data["file"],
            is_internal=given.validated_data["is_internal"],
            comment_id=given.validated_data["comment"],
        )
        return Response(
            AttachmentSerializer(attachment, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


class AttachmentDownloadView(APIView):
    """The file itself, if the caller may see it; always a download, never rendered inline."""

    @extend_schema(
        summary="Download a file",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description=_("The file, with its sniffed content type.")
            )
        },
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        attachment = selectors.attachment_get(actor=request_actor(request), attachment_id=pk)
        return attachment_response(attachment)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # A client asking for e.g. image/png gets the file; errors still render as JSON.
        return super().perform_content_negotiation(request, force=True)
