"""OpenAPI generation: the token scheme and the uniform error responses on every operation."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from servicedesk.api.serializers import ErrorSerializer

_ERROR_DESCRIPTIONS = {
    "400": _("The request is malformed or a field is not valid; `fields` names which."),
    "401": _("No credentials, or an invalid or revoked token."),
    "403": _("Authenticated, but this role may not do this."),
    "404": _("Does not exist, or is not visible to you (the two look the same)."),
    "409": _("The change conflicts with the ticket's state or with a newer version."),
}


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
    """Adds the error responses an operation can give, all with the ``Error`` body."""

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
        return codes

    def _is_public(self) -> bool:
        permissions = self.view.get_permissions()
        return all(isinstance(permission, AllowAny) for permission in permissions)


def _described(code: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=str(_ERROR_DESCRIPTIONS[code]))
