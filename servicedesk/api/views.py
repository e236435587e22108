"""The API's own endpoints: the root listing and token issue/revocation."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.template import engines
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularRedocView
from rest_framework import status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from servicedesk import services
from servicedesk.api.authentication import BearerTokenAuthentication
from servicedesk.api.permissions import HasActor, request_actor
from servicedesk.api.serializers import TokenObtainSerializer, TokenSerializer
from servicedesk.models import ApiToken

# What the root lists: resource name → URL name in the ``api`` namespace.
ROOT_LINKS = {
    "tickets": "api:ticket-list",
    "stores": "api:store-list",
    "equipment": "api:equipment-list",
    "clients": "api:client-list",
    "partners": "api:partner-list",
    "regions": "api:region-list",
    "calendars": "api:calendar-list",
    "sla_policies": "api:sla-policy-list",
    "sla_clocks": "api:sla-clock-list",
    "sla_preview": "api:sla-preview",
    "coverage": "api:coverage-list",
    "certifications": "api:certification-list",
    "partner_contracts": "api:partner-contract-list",
    "client_contracts": "api:client-contract-list",
    "notifications": "api:notification-list",
    "notification_preferences": "api:notification-preferences",
    "integration_tokens": "api:integration-token-list",
    "auth_token": "api:auth-token",
    "schema": "api:schema",
    "docs": "api:docs",
    "redoc": "api:redoc",
}


class ApiRootView(APIView):
    """Links to every resource of the API; open to anyone, it reveals no data."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="API root",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Resource links."))},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({name: reverse(url, request=request) for name, url in ROOT_LINKS.items()})


class TokenView(APIView):
    """``POST`` exchanges a username and password for a token; ``DELETE`` revokes the
    token the request is made with.

    Only token authentication runs here: no session, hence no CSRF check, and a POST is not
    authenticated at all, so a stale ``Authorization`` header cannot block getting a new one.
    """

    authentication_classes = [BearerTokenAuthentication]

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [AllowAny()]
        return [HasActor()]

    def perform_authentication(self, request: Request) -> None:
        if request.method != "POST":
            super().perform_authentication(request)

    @extend_schema(
        summary="Obtain a token",
        description=_(
            "Exchange a username and password for a token acting as the user's organisation "
            "and role. The token is shown once; send it as `Authorization: Token <token>`."
        ),
        request=TokenObtainSerializer,
        responses={201: TokenSerializer},
        examples=[
            OpenApiExample(
                "A user's credentials",
                request_only=True,
                value={"username": "dispatcher", "password": "correct horse battery staple"},
            )
        ],
        auth=[],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = TokenObtainSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        token, raw = services.api_token_obtain(**given.validated_data, request=request._request)
        body = TokenSerializer(
            {
                "token": raw,
                "name": token.name,
                "prefix": token.prefix,
                "created_at": token.created_at,
            }
        ).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke the calling token",
        description=_("The token this request is made with stops working at once."),
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        token = request.auth
        assert isinstance(token, ApiToken)  # only token authentication runs on this view
        services.api_token_revoke(actor=request_actor(request), token_id=token.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# drf-spectacular's ReDoc page pulls its fonts from Google; this one loads nothing from
# outside (DESIGN.md: no CDN), so the docs work offline and leak no visits.
_REDOC_PAGE = """{% extends "drf_spectacular/redoc.html" %}
{% block head %}<title>{{ title }}</title><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body { margin: 0; padding: 0; }</style>{% endblock head %}"""


class LocalRedocView(SpectacularRedocView):
    """ReDoc served from the sidecar's static files only."""

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        context = super().get(request, *args, **kwargs).data
        page = engines["django"].from_string(_REDOC_PAGE).render(context, request)
        return HttpResponse(page)
