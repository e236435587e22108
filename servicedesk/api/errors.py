"""The one API error shape: ``{"error": {"code", "message", "fields"}}``.

Every 4xx the API sends has this body: domain errors from services, DRF's own errors
(401, 403, 404, 405, 406, 415, 429, parse errors, serializer validation) and Django's
``Http404``/``PermissionDenied``. ``message`` is one human sentence that names the problem;
``fields`` maps a field name to its messages (empty when no field is to blame).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from servicedesk.exceptions import ApplicationError

NON_FIELD = "non_field_errors"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    """The uniform error payload."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field": [...], "parent.child": [...]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub_key, sub_value in _flatten(value).items():
                    flat[f"{key}.{sub_key}"] = sub_value
            elif isinstance(value, list):
                flat[str(key)] = [str(item) for item in value]
            else:
                flat[str(key)] = [str(value)]
        return flat
    if isinstance(detail, list):
        return {NON_FIELD: [str(item) for item in detail]}
    return {NON_FIELD: [str(detail)]}


def _summary(fields: dict[str, list[str]]) -> str:
    """One sentence naming what is wrong, e.g. ``store: A valid integer is required.``"""
    parts = []
    for name, messages in fields.items():
        first = messages[0] if messages else ""
        parts.append(first if name == NON_FIELD else f"{name}: {first}")
    return " ".join(parts) if parts else _("Some fields are not valid.")


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn domain errors, Django errors and DRF errors into the uniform body.

    Anything else (a bug) returns ``None`` so Django's 500 handling and logging take over.
    """
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {NON_FIELD: [str(m) for m in exc.messages]}
        )
        return Response(
            error_body("validation_failed", _summary(fields), fields),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        # Django would answer these with its HTML 400 page; the API says what the limit is.
        return Response(too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    # DRF sets WWW-Authenticate on 401 and Retry-After on 429; only the body is replaced.
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        response.data = error_body("validation_failed", _summary(fields), fields)
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes()
        response.data = error_body(
            code if isinstance(code, str) else exc.default_code, _detail(exc)
        )
    else:  # pragma: no cover - DRF only handles APIException and the two Django errors
        response.data = error_body("error", str(exc))
    return response


def _detail(exc: exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, list | dict):
        return _summary(_flatten(detail))
    return str(detail)


# No session is read or changed here; without the exemption CSRF answers an unsafe method
# (POST/PATCH/DELETE to a mistyped URL) with Django's HTML 403 page instead of this 404.
@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown URLs under the API answer in the API's shape, not with an HTML page."""
    return JsonResponse(
        error_body(
            "not_found", _("There is no API endpoint at %(path)s.") % {"path": request.path}
        ),
        status=status.HTTP_404_NOT_FOUND,
        json_dumps_params={"ensure_ascii": False},  # as DRF renders: readable Cyrillic
    )


def too_large_body() -> dict:
    """The 413 payload, for the size guard and for Django's own size errors alike."""
    return error_body(
        "request_too_large",
        _("The request is too large: at most %(json)s MB of data, or a file of %(file)s MB.")
        % {
            "json": round(settings.MAX_REQUEST_BYTES / 1_048_576, 1),
            "file": round(settings.MAX_UPLOAD_BYTES / 1_048_576, 1),
        },
    )


def error_response(
    status_code: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """The uniform error body outside DRF's views (middleware answering before a view runs)."""
    return JsonResponse(
        error_body(code, message, fields),
        status=status_code,
        headers=headers,
        json_dumps_params={"ensure_ascii": False},
    )
