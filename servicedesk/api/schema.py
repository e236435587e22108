"""OpenAPI generation: the token scheme and the uniform error responses on every operation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.permissions import AllowAny

from servicedesk.api.serializers import ErrorSerializer

_ERROR_DESCRIPTIONS = {
    "400": _("The request is malformed or a field is not valid; `fields` names which."),
    "401": _("No credentials, or an invalid or revoked token."),
    "403": _("Authenticated, but this role may not do this."),
    "404": _("Does not exist, or is not visible to you (the two look the same)."),
    "409": _(
        "The change conflicts with the ticket's state or with a newer version, or a request "
        "with the same Idempotency-Key is still in progress (retry after `Retry-After`)."
    ),
    "413": _("The request body or the uploaded file is larger than the limit."),
    "422": _("The Idempotency-Key was already used for a different path or body."),
    "429": _("Too many requests; retry after the `Retry-After` seconds."),
}
_SUCCESS_CODES = ["200", "201", "202", "204"]


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents ``servicedesk.api.authentication.BearerTokenAuthentication``."""

    target_class = "servicedesk.api.authentication.BearerTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": str(
                _(
                    "A token from POST /api/v1/auth/token/, sent as "
                    "`Authorization: Token <token>` (or `Bearer <token>`)."
                )
            ),
        }


class AutoSchema(SpectacularAutoSchema):
    """Adds the error responses an operation can give, all with the ``Error`` body, and
    the ``Idempotency-Key`` header every POST takes (``servicedesk.api.idempotency``)."""

    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        if self._takes_idempotency_key():
            parameters += [
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    pattern=r"^[\x20-\x7e]{1,255}$",
                    description=str(
                        _(
                            "A unique key (1–255 printable characters, e.g. a UUID) that makes "
                            "a retry safe: the same key with the same body returns the first "
                            "response (with `Idempotent-Replayed: true`) instead of acting "
                            "again. Kept 24 hours, per token."
                        )
                    ),
                ),
                OpenApiParameter(
                    "Idempotent-Replayed",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    enum=["true"],
                    description=str(_("Present when this is the stored answer to a retry.")),
                    response=_SUCCESS_CODES,
                ),
            ]
        parameters.append(
            OpenApiParameter(
                "Retry-After",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                description=str(_("Seconds to wait before retrying.")),
                response=["429", "409"] if self._takes_idempotency_key() else ["429"],
            )
        )
        return parameters

    def _takes_idempotency_key(self) -> bool:
        if self.method != "POST":
            return False
        exempt = {reverse(name) for name in settings.IDEMPOTENCY_EXEMPT_URL_NAMES}
        return self.path not in exempt

    def _is_token_obtain(self) -> bool:
        return self.method == "POST" and self.path == reverse("api:auth-token")

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    _described(code), code, direction=direction
                )
        return responses

    def _error_codes(self) -> list[str]:
        codes = []
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append("400")
        if not self._is_public():
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self._takes_idempotency_key():
            codes += ["409", "422"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("413")
        if not self._is_public() or self._is_token_obtain():
            codes.append("429")
        return codes

    def _is_public(self) -> bool:
        permissions = self.view.get_permissions()
        return all(isinstance(permission, AllowAny) for permission in permissions)


def _described(code: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=str(_ERROR_DESCRIPTIONS[code]))
