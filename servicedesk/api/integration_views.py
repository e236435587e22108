"""Integration tokens: ``GET``/``POST /integration-tokens/``, ``DELETE /integration-tokens/{id}/``.

Who may issue which token is ``servicedesk.services``' rule (see ``integration_token_create``);
this module only turns HTTP into those calls.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from servicedesk import services
from servicedesk.api.serializers import (
    IntegrationTokenCreatedSerializer,
    IntegrationTokenCreateSerializer,
    IntegrationTokenSerializer,
)
from servicedesk.api.viewsets import ScopedViewSetMixin
from servicedesk.models import ApiToken
from servicedesk.selectors import integration_token_list


@extend_schema_view(
    list=extend_schema(
        summary="Integration tokens you manage",
        description=_(
            "Provider administrators: every one; client and partner managers: their own "
            "organisation's. Other roles (and integration tokens themselves) get 403."
        ),
    ),
)
class IntegrationTokenViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Named tokens acting for one organisation in one role through a service user."""

    selector = integration_token_list
    serializer_class = IntegrationTokenSerializer
    filterset_class = None
    ordering_fields = ["created_at", "last_used_at", "name"]
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return ApiToken.objects.none()
        return integration_token_list(actor=self.actor)

    def get_serializer_class(self) -> type:
        if getattr(self, "action", None) == "create":
            return IntegrationTokenCreateSerializer
        return IntegrationTokenSerializer

    @extend_schema(
        summary="Issue an integration token",
        description=_(
            "A provider administrator may issue a token for any organisation in any of its "
            "roles; a client manager for its own client (client_manager or store_staff, the "
            "latter with `store_ids`); a partner manager for its own partner "
            "(partner_manager). A role above your own is 403 `role_too_high`; a foreign or "
            "unknown organisation, a role the organisation has not, or partner_engineer is "
            "400. The raw `token` is in this answer only; the server keeps its SHA-256."
        ),
        request=IntegrationTokenCreateSerializer,
        responses={201: IntegrationTokenCreatedSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = IntegrationTokenCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        token, raw = services.integration_token_create(
            actor=self.actor,
            organisation_id=data["organisation"],
            role=data["role"],
            name=data["name"],
            store_ids=data["store_ids"],
        )
        token = integration_token_list(actor=self.actor).get(pk=token.pk)
        token.token = raw
        location = reverse("api:integration-token-list", request=request)
        return Response(
            IntegrationTokenCreatedSerializer(token).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    @extend_schema(
        summary="Revoke an integration token",
        description=_(
            "The token stops working at once (401) and its service user's role is "
            "disabled. Revoking twice is fine; the row stays listed with `revoked_at`."
        ),
        responses={204: None},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.integration_token_revoke(actor=self.actor, token_id=int(kwargs["pk"]))
        return Response(status=status.HTTP_204_NO_CONTENT)
