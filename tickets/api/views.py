"""Ticket endpoints. Reads go through selectors, writes through ``tickets.services``,
``tickets.dispatch`` (offers) and ``tickets.visits`` (the engineer's steps): the same
functions the HTML pages call.

Every endpoint under ``/tickets/{id}/`` first finds the ticket through the actor's scope, so
a ticket the caller may not see answers 404 whatever the action, before any role check.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from servicedesk.api import conditional
from servicedesk.api.conditional import (
    IF_MATCH_HEADER,
    IF_NONE_MATCH_HEADER,
    NOT_MODIFIED,
    PRECONDITION_FAILED,
    etag_header,
)
from servicedesk.api.pagination import CreatedCursorPagination, PageNumberPagination
from servicedesk.api.permissions import request_actor
from servicedesk.api.serializers import ErrorSerializer
from servicedesk.api.viewsets import ScopedViewSetMixin
from servicedesk.exceptions import PermissionDenied, ValidationFailed
from tickets import dispatch, partner_selectors, presenters, selectors, services, visits
from tickets.api.serializers import (
    AttachmentCreateSerializer,
    AttachmentSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    OfferAcceptSerializer,
    OfferCreateSerializer,
    OfferSerializer,
    RankedPartnerSerializer,
    ReasonSerializer,
    TicketAssignSerializer,
    TicketCreateSerializer,
    TicketDetailSerializer,
    TicketEventSerializer,
    TicketListSerializer,
    TicketPrioritySerializer,
    TicketSerializer,
    TicketTransitionSerializer,
    TicketUpdateSerializer,
    VisitCheckInSerializer,
    VisitEtaSerializer,
    VisitPhotoSerializer,
    VisitReportSerializer,
    VisitResolveSerializer,
    VisitSerializer,
    VisitSignOffSerializer,
)
from tickets.downloads import attachment_response
from tickets.filtersets import OfferFilterSet, TicketFilterSet
from tickets.models import Attachment, Comment, Offer, Ticket, TicketEvent, Visit

_CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description=_("Not allowed from the ticket's status, or the version is stale."),
)
_NOT_FOUND = OpenApiResponse(
    ErrorSerializer, description=_("Not found, or outside what the caller may see.")
)
_FORBIDDEN = OpenApiResponse(ErrorSerializer, description=_("Visible, but not for your role."))
_INVALID = OpenApiResponse(ErrorSerializer, description=_("The input is not valid."))
# The errors every write may answer, and a ticket write's If-Match ones on top.
_WRITE_ERRORS = {400: _INVALID, 403: _FORBIDDEN, 404: _NOT_FOUND, 409: _CONFLICT}
_TICKET_WRITE_ERRORS = {**_WRITE_ERRORS, 412: PRECONDITION_FAILED}
_EXPANDABLE = ("clocks",)
_EXPAND = OpenApiParameter(
    "expand",
    type=str,
    description=_(
        "Comma-separated extras for each row: clocks (the SLA clocks as on the ticket, "
        "read in one query for the page). Store and partner are always nested."
    ),
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
    annotation; callers filter with ``breached``/``at_risk`` or ``due_before``/``due_after``
    and read each ticket's ``clocks`` (``expand=clocks`` on the list) instead.

    Reads of one ticket send its ``ETag``; edits and actions honour ``If-Match``
    (``servicedesk.api.conditional``): the tag's version becomes the service's
    ``expected_version``, compared under the service's own row lock.
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
        "partial_update": TicketUpdateSerializer,
    }

    def get_serializer_class(self) -> type:
        action_name = getattr(self, "action", None)
        if action_name == "retrieve":
            return TicketDetailSerializer
        if action_name == "list":
            return TicketListSerializer
        return self.input_serializers.get(action_name, TicketSerializer)

    @extend_schema(
        summary="List tickets", parameters=[_EXPAND], responses={200: TicketListSerializer}
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        expand = self._expand()
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = self.get_serializer_context()
        if "clocks" in expand:
            context["clocks_by_ticket"] = self._page_clock_readings(page)
        data = TicketListSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    def _page_clock_readings(self, page: list[Ticket]) -> dict[int, list]:
        """Every clock of the page read at once: one query, calendars loaded in bulk."""
        clocks = selectors.tickets_clocks(
            actor=self.actor, ticket_ids=[ticket.pk for ticket in page]
        )
        readings = presenters.clock_readings(
            [clock for rows in clocks.values() for clock in rows], timezone.now()
        )
        by_ticket: dict[int, list] = {ticket.pk: [] for ticket in page}
        for reading in readings:
            by_ticket[reading.clock.ticket_id].append(reading)
        return by_ticket

    def _expand(self) -> set[str]:
        raw = self.request.query_params.get("expand", "")
        asked = {part.strip() for part in raw.split(",") if part.strip()}
        unknown = sorted(asked - set(_EXPANDABLE))
        if unknown:
            message = _("Unknown: %(names)s. Known: %(known)s.") % {
                "names": ", ".join(unknown),
                "known": ", ".join(_EXPANDABLE),
            }
            raise ValidationFailed(message, fields={"expand": [message]})
        return asked

    @extend_schema(
        summary="A ticket with its SLA clocks",
        parameters=[IF_NONE_MATCH_HEADER, etag_header(200, 304)],
        responses={200: TicketDetailSerializer, 304: NOT_MODIFIED, 404: _NOT_FOUND},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ticket = self.get_object()
        return conditional.conditional_read(
            request, ticket, lambda: Response(self.get_serializer(ticket).data)
        )

    @extend_schema(
        summary="Edit a ticket's details",
        description=_(
            "Only the fields sent change. Fields the ticket shows but an edit cannot set "
            "(client, store, number, status, partner, version…) are refused by name (400). "
            "Send If-Match with the ETag you read: a stale one is 412 and nothing changes; "
            "without it the edit is unconditional."
        ),
        parameters=[IF_MATCH_HEADER, etag_header(200)],
        request=TicketUpdateSerializer,
        responses={200: TicketSerializer, **_TICKET_WRITE_ERRORS},
    )
    def partial_update(self, request: Request, pk: int) -> Response:
        self.get_object()
        given = TicketUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        expected = conditional.if_match_version(request, pk)
        with conditional.precondition(expected):
            ticket = services.ticket_update(
                actor=self.actor,
                ticket_id=pk,
                expected_version=expected,
                **given.to_service_kwargs(),
            )
        return self._written(ticket)

    @extend_schema(
        summary="Open a ticket",
        request=TicketCreateSerializer,
        examples=[
            OpenApiExample(
                "A till that needs an engineer",
                request_only=True,
                value={
                    "store": 1,
                    "subject": "Касса №2 не включается",
                    "description": "Не реагирует на кнопку питания после отключения света.",
                    "priority": "p2",
                    "category": "hardware",
                    "needs_visit": True,
                    "external_id": "MON-2026-00017",
                },
            )
        ],
        parameters=[etag_header(201)],
        responses={201: TicketSerializer, 400: _INVALID, 403: _FORBIDDEN},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = TicketCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        ticket = services.ticket_create(actor=self.actor, **given.to_service_kwargs())
        location = reverse("api:ticket-detail", kwargs={"pk": ticket.pk}, request=request)
        response = Response(
            self._out(ticket), status=status.HTTP_201_CREATED, headers={"Location": location}
        )
        return conditional.with_etag(response, ticket)

    @extend_schema(
        summary="Change the status",
        request=TicketTransitionSerializer,
        examples=[
            OpenApiExample(
                "Resolve with a note",
                request_only=True,
                value={"status": "resolved", "note": "Replaced the power supply."},
            )
        ],
        parameters=[IF_MATCH_HEADER, etag_header(200)],
        responses={200: TicketSerializer, **_TICKET_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: int) -> Response:
        given = self._given(TicketTransitionSerializer)
        header, expected = self._expected(given)
        with conditional.precondition(header):
            ticket = services.ticket_transition(
                actor=self.actor,
                ticket_id=pk,
                to_status=given["status"],
                expected_version=expected,
                note=given["note"],
            )
        return self._written(ticket)

    @extend_schema(
        summary="Assign a partner and engineer",
        request=TicketAssignSerializer,
        examples=[
            OpenApiExample(
                "A partner and one of its engineers",
                request_only=True,
                value={"partner": 12, "engineer": 345},
            )
        ],
        parameters=[IF_MATCH_HEADER, etag_header(200)],
        responses={200: TicketSerializer, **_TICKET_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: int) -> Response:
        given = self._given(TicketAssignSerializer)
        header, expected = self._expected(given)
        with conditional.precondition(header):
            ticket = services.ticket_assign(
                actor=self.actor,
                ticket_id=pk,
                partner_id=given["partner"],
                engineer_id=given["engineer"],
                expected_version=expected,
            )
        return self._written(ticket)

    @extend_schema(
        summary="Change the priority",
        request=TicketPrioritySerializer,
        parameters=[IF_MATCH_HEADER, etag_header(200)],
        responses={200: TicketSerializer, **_TICKET_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def priority(self, request: Request, pk: int) -> Response:
        given = self._given(TicketPrioritySerializer)
        header, expected = self._expected(given)
        with conditional.precondition(header):
            ticket = services.ticket_reclassify(
                actor=self.actor,
                ticket_id=pk,
                priority=given["priority"],
                expected_version=expected,
            )
        return self._written(ticket)

    @extend_schema(
        summary="Rank the operational partners for a field job (provider staff)",
        responses={
            200: RankedPartnerSerializer(many=True),
            403: _FORBIDDEN,
            404: _NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def ranking(self, request: Request, pk: int) -> Response:
        self.get_object()
        if not self.actor.is_provider:
            raise PermissionDenied(_("Only provider staff see the partner ranking."))
        ranked = dispatch.dispatch_ranking(actor=self.actor, ticket_id=pk)
        return Response(RankedPartnerSerializer(ranked, many=True).data)

    def _expected(self, given: dict) -> tuple[int | None, int | None]:
        """(the If-Match version, the version the service must find): the header's, or the
        body's ``version`` when no header names one."""
        header = conditional.if_match_version(self.request, self.kwargs["pk"])
        return header, conditional.merge_expected_version(header, given.get("version"))

    def _written(self, ticket: Ticket) -> Response:
        return conditional.with_etag(Response(self._out(ticket)), ticket)

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
        examples=[
            OpenApiExample(
                "A public reply",
                request_only=True,
                value={"body": "Инженер будет в магазине к 15:00.", "is_internal": False},
            )
        ],
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


@extend_schema_view(
    list=extend_schema(
        summary="A ticket's offers to partners (a partner sees only its own)",
        responses={200: OfferSerializer(many=True), 404: _NOT_FOUND},
    )
)
class TicketOfferViewSet(TicketChildViewSet):
    queryset = Offer.objects.none()  # schema introspection only
    serializer_class = OfferSerializer
    input_serializer_class = OfferCreateSerializer

    def get_queryset(self) -> QuerySet[Offer]:
        return (
            selectors.ticket_offers(actor=self.actor, ticket=self.get_ticket())
            .select_related("ticket__store", "ticket__client")
            .order_by("-offered_at", "-pk")
        )

    @extend_schema(
        summary="Offer the field job to a partner (dispatchers)",
        description=_(
            "Assigns the ticket to the partner and starts its OLA clocks. If-Match (the "
            "ticket's ETag) makes the offer only if the ticket has not changed since; the "
            "answer's ticket.version is the ticket's new version."
        ),
        parameters=[IF_MATCH_HEADER],
        request=OfferCreateSerializer,
        responses={201: OfferSerializer, **_TICKET_WRITE_ERRORS},
    )
    def create(self, request: Request, ticket_pk: int) -> Response:
        ticket = self.get_ticket()
        given = OfferCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        expected = conditional.if_match_version(request, ticket.pk)
        # offer_make takes no expected version: the row lock is taken (and the version
        # compared) first, in the same transaction, and held until the offer commits.
        with conditional.version_held(
            queryset=selectors.ticket_list(actor=self.actor),
            pk=ticket.pk,
            expected_version=expected,
        ):
            offer = dispatch.offer_make(
                actor=self.actor, ticket_id=ticket.pk, partner_id=given.validated_data["partner"]
            )
        return Response(
            OfferSerializer(offer, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(
        summary="A ticket's visits (a partner sees only its own)",
        responses={200: VisitSerializer(many=True), 404: _NOT_FOUND},
    )
)
class TicketVisitViewSet(TicketChildViewSet):
    queryset = Visit.objects.none()  # schema introspection only
    serializer_class = VisitSerializer

    def get_queryset(self) -> QuerySet[Visit]:
        return (
            selectors.ticket_visits(actor=self.actor, ticket=self.get_ticket())
            .select_related("signed_off_by")
            .order_by("created_at", "pk")
        )


@extend_schema_view(
    list=extend_schema(
        summary="Offers: a partner manager's awaiting its answer; every offer for staff",
        responses={200: OfferSerializer(many=True)},
    ),
    retrieve=extend_schema(summary="One offer", responses={200: OfferSerializer, 404: _NOT_FOUND}),
)
class OfferViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Offers of field jobs. Every action looks the offer up in the caller's scope first
    (404 outside it), then the service decides whether the caller's role may act (403)."""

    serializer_class = OfferSerializer
    filterset_class = OfferFilterSet
    pagination_class = PageNumberPagination
    input_serializers = {
        "accept": OfferAcceptSerializer,
        "decline": ReasonSerializer,
        "withdraw": ReasonSerializer,
    }

    def get_queryset(self) -> QuerySet[Offer]:
        if getattr(self, "action", None) == "list":
            return partner_selectors.offer_queue(actor=self.actor)
        return partner_selectors.offer_scope(actor=self.actor)

    def get_serializer_class(self) -> type:
        return self.input_serializers.get(getattr(self, "action", None), OfferSerializer)

    @extend_schema(
        summary="Accept an offer: name the engineer and the ETA (the partner's manager)",
        request=OfferAcceptSerializer,
        responses={200: OfferSerializer, **_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: int) -> Response:
        given = self._given(OfferAcceptSerializer)
        offer = dispatch.offer_accept(
            actor=self.actor, offer_id=pk, engineer_id=given["engineer"], eta=given["eta"]
        )
        return self._out(offer)

    @extend_schema(
        summary="Decline an offer, saying why (the partner's manager)",
        request=ReasonSerializer,
        responses={200: OfferSerializer, **_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: int) -> Response:
        given = self._given(ReasonSerializer)
        return self._out(dispatch.offer_decline(actor=self.actor, offer_id=pk, **given))

    @extend_schema(
        summary="Take the job back from the partner, saying why (dispatchers)",
        request=ReasonSerializer,
        responses={200: OfferSerializer, **_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: int) -> Response:
        given = self._given(ReasonSerializer)
        return self._out(dispatch.offer_withdraw(actor=self.actor, offer_id=pk, **given))

    def _given(self, serializer_class: type) -> dict:
        self.get_object()
        given = serializer_class(data=self.request.data)
        given.is_valid(raise_exception=True)
        return dict(given.validated_data)

    def _out(self, offer: Offer) -> Response:
        # The service's own row: a declined job leaves the partner's scope, but the partner
        # still gets the answer to what it just did.
        return Response(OfferSerializer(offer, context=self.get_serializer_context()).data)


_VISIT_ERRORS = _WRITE_ERRORS  # a visit is not versioned: no If-Match on its steps


@extend_schema_view(
    retrieve=extend_schema(summary="One visit", responses={200: VisitSerializer, 404: _NOT_FOUND})
)
class VisitViewSet(ScopedViewSetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The engineer's steps on a visit, and the store's sign-off. The visit is looked up in
    the caller's scope first (404), then ``tickets.visits`` checks the role (403) and the
    order of the steps (409)."""

    selector = partner_selectors.visit_scope
    serializer_class = VisitSerializer
    input_serializers = {
        "eta": VisitEtaSerializer,
        "check_in": VisitCheckInSerializer,
        "report": VisitReportSerializer,
        "photo": VisitPhotoSerializer,
        "sign_off": VisitSignOffSerializer,
        "resolve": VisitResolveSerializer,
    }

    def get_serializer_class(self) -> type:
        return self.input_serializers.get(getattr(self, "action", None), VisitSerializer)

    @extend_schema(
        summary="Set a new ETA",
        request=VisitEtaSerializer,
        responses={200: VisitSerializer, **_VISIT_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def eta(self, request: Request, pk: int) -> Response:
        given = self._given(VisitEtaSerializer)
        return self._out(visits.visit_set_eta(actor=self.actor, visit_id=pk, eta=given["eta"]))

    @extend_schema(
        summary="The engineer sets off",
        request=None,
        responses={200: VisitSerializer, **_VISIT_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="en-route")
    def en_route(self, request: Request, pk: int) -> Response:
        self.get_object()
        return self._out(visits.visit_en_route(actor=self.actor, visit_id=pk))

    @extend_schema(
        summary="Check in at the store (position recorded)",
        request=VisitCheckInSerializer,
        responses={200: VisitSerializer, **_VISIT_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request: Request, pk: int) -> Response:
        given = self._given(VisitCheckInSerializer)
        return self._out(visits.visit_check_in(actor=self.actor, visit_id=pk, **given))

    @extend_schema(
        summary="Check out of the store",
        request=None,
        responses={200: VisitSerializer, **_VISIT_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request: Request, pk: int) -> Response:
        self.get_object()
        return self._out(visits.visit_check_out(actor=self.actor, visit_id=pk))

    @extend_schema(
        summary="Write (or correct) the work report",
        request=VisitReportSerializer,
        responses={200: VisitSerializer, **_VISIT_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk: int) -> Response:
        given = self._given(VisitReportSerializer)
        return self._out(visits.visit_report(actor=self.actor, visit_id=pk, **given))

    @extend_schema(
        summary="Add a photo to the report (multipart, an image)",
        request=VisitPhotoSerializer,
        responses={201: AttachmentSerializer, **_VISIT_ERRORS},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def photo(self, request: Request, pk: int) -> Response:
        given = self._given(VisitPhotoSerializer)
        attachment = visits.visit_attach_photo(
            actor=self.actor, visit_id=pk, uploaded_file=given["file"]
        )
        return Response(
            AttachmentSerializer(attachment, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="The store signs off the reported work",
        description=_(
            "Store staff of the ticket's store or a client manager: an empty body. On the "
            "engineer's device (an engineer's or partner manager's token): the store "
            "employee's own username and password."
        ),
        request=VisitSignOffSerializer,
        responses={200: VisitSerializer, **_VISIT_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request: Request, pk: int) -> Response:
        given = self._given(VisitSignOffSerializer)
        if self.actor.is_partner:
            visit = visits.visit_sign_off_with_credentials(
                actor=self.actor,
                visit_id=pk,
                username=given.get("username", ""),
                password=given.get("password", ""),
            )
        else:
            visit = visits.visit_sign_off(actor=self.actor, visit_id=pk)
        return self._out(visit)

    @extend_schema(
        summary="Resolve the job after the report (checks out if still on site)",
        request=VisitResolveSerializer,
        parameters=[etag_header(200)],
        responses={200: TicketSerializer, **_VISIT_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: int) -> Response:
        given = self._given(VisitResolveSerializer)
        ticket = visits.visit_resolve(actor=self.actor, visit_id=pk, note=given["note"])
        data = TicketSerializer(ticket, context=self.get_serializer_context()).data
        return conditional.with_etag(Response(data), ticket)

    def _given(self, serializer_class: type) -> dict:
        self.get_object()
        given = serializer_class(data=self.request.data)
        given.is_valid(raise_exception=True)
        return dict(given.validated_data)

    def _out(self, visit: Visit) -> Response:
        return Response(VisitSerializer(visit, context=self.get_serializer_context()).data)


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
