"""Webhook and event-feed endpoints. Reads through selectors, writes through services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from integrations import selectors, services
from integrations.api.serializers import (
    EventFeedPageSerializer,
    EventFeedQuerySerializer,
    FeedEventSerializer,
    WebhookDeliveryDetailSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
)
from integrations.feed import decode_position, encode_position
from integrations.filtersets import WebhookDeliveryFilterSet
from integrations.models import WebhookDelivery, WebhookEndpoint
from servicedesk.api.pagination import CreatedCursorPagination, PageNumberPagination
from servicedesk.api.permissions import request_actor
from servicedesk.api.viewsets import ScopedViewSetMixin
from tickets.selectors import ticket_event_feed


class DeliveryCursorPagination(CreatedCursorPagination):
    """Newest first, stable while deliveries keep arriving."""


@extend_schema_view(
    list=extend_schema(summary="Your organisation's webhook endpoints"),
    retrieve=extend_schema(summary="One webhook endpoint"),
    destroy=extend_schema(summary="Delete an endpoint and its delivery log"),
)
class WebhookEndpointViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Endpoints of the caller's organisation (managers only; others see none)."""

    selector = selectors.webhook_endpoint_list
    queryset = WebhookEndpoint.objects.none()  # for schema introspection only
    serializer_class = WebhookEndpointSerializer
    pagination_class = PageNumberPagination
    filter_backends: list = []

    def get_serializer_class(self) -> type:
        return {
            "create": WebhookEndpointCreateSerializer,
            "partial_update": WebhookEndpointUpdateSerializer,
        }.get(getattr(self, "action", None), WebhookEndpointSerializer)

    @extend_schema(
        summary="Register an endpoint (the answer shows its secret, once)",
        request=WebhookEndpointCreateSerializer,
        examples=[
            OpenApiExample(
                "Ticket changes to an ERP",
                request_only=True,
                value={
                    "url": "https://erp.example.com/desk-hook",
                    "description": "ERP sync",
                    "event_types": ["ticket.created", "ticket.status_changed", "sla.breached"],
                },
            )
        ],
        responses={201: WebhookEndpointSecretSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = WebhookEndpointCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(
            actor=self.actor, **given.validated_data
        )
        location = reverse("api:webhook-detail", kwargs={"pk": endpoint.pk}, request=request)
        return Response(
            self._with_secret(endpoint, secret),
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    @extend_schema(
        summary="Change an endpoint",
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer},
    )
    def partial_update(self, request: Request, pk: int) -> Response:
        self.get_object()
        given = WebhookEndpointUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(
            actor=self.actor, endpoint_id=pk, **given.validated_data
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        services.webhook_endpoint_delete(actor=self.actor, endpoint_id=instance.pk)

    @extend_schema(
        summary="Replace the signing secret (the answer shows the new one, once)",
        request=None,
        responses={200: WebhookEndpointSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: int) -> Response:
        self.get_object()
        endpoint, secret = services.webhook_endpoint_rotate_secret(actor=self.actor, endpoint_id=pk)
        return Response(self._with_secret(endpoint, secret))

    def _with_secret(self, endpoint: WebhookEndpoint, secret: str) -> dict:
        data = dict(WebhookEndpointSerializer(endpoint).data)
        data["secret"] = secret
        return data


@extend_schema_view(list=extend_schema(summary="An endpoint's deliveries, newest first"))
class WebhookEndpointDeliveryViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """``/webhooks/{endpoint_pk}/deliveries/``: the endpoint is looked up in scope first."""

    queryset = WebhookDelivery.objects.none()  # for schema introspection only
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = DeliveryCursorPagination

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        endpoint = selectors.webhook_endpoint_get(
            actor=self.actor, endpoint_id=self.kwargs["endpoint_pk"]
        )
        return selectors.webhook_delivery_list(actor=self.actor, endpoint_id=endpoint.pk)


@extend_schema_view(retrieve=extend_schema(summary="One webhook delivery, with its payload"))
class WebhookDeliveryViewSet(
    ScopedViewSetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    selector = selectors.webhook_delivery_list
    queryset = WebhookDelivery.objects.none()  # for schema introspection only
    serializer_class = WebhookDeliveryDetailSerializer
    filter_backends: list = []

    @extend_schema(
        summary="Send a delivery again (same payload and Webhook-Id, fresh signature)",
        request=None,
        responses={202: WebhookDeliveryDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: int) -> Response:
        self.get_object()
        delivery = services.webhook_delivery_replay(actor=self.actor, delivery_id=pk)
        return Response(
            WebhookDeliveryDetailSerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )


class EventFeedView(APIView):
    """Every timeline entry you may see, in commit-safe order, resumable by cursor.

    Entries come in ``(transaction, id)`` order and only once every transaction that could
    still add an entry before them has finished, so resuming with ``?after=<cursor>`` never
    skips one, even when entries commit out of id order. The newest entries may take a
    moment to appear (until transactions running at the time have finished). Poll ``next``.
    """

    serializer_class = FeedEventSerializer

    @extend_schema(
        summary="The event feed",
        parameters=[EventFeedQuerySerializer],
        responses={200: EventFeedPageSerializer},
    )
    def get(self, request: Request) -> Response:
        query = EventFeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        after = None
        if params.get("after"):
            try:
                after = decode_position(params["after"])
            except ValueError:
                raise ValidationError({"after": [_("Invalid cursor.")]}) from None
        limit = params["limit"]
        rows = list(
            ticket_event_feed(
                actor=request_actor(request),
                after=after,
                kinds=sorted(params.get("kind") or []),
                ticket_id=params.get("ticket"),
            ).select_related("actor", "ticket__client")[: limit + 1]
        )
        has_more = len(rows) > limit
        rows = rows[:limit]
        position = (rows[-1].txid, rows[-1].pk) if rows else after
        cursor = encode_position(position or (0, 0))
        next_url = replace_query_param(request.build_absolute_uri(), "after", cursor)
        return Response(
            {
                "cursor": cursor,
                "next": next_url,
                "has_more": has_more,
                "results": FeedEventSerializer(rows, many=True).data,
            }
        )
