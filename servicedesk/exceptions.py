"""The one family of domain errors. Interfaces turn them into HTTP answers in one place."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    """A use case refused: a human ``message``, a stable ``code`` and optional field messages."""

    status_code = 400
    default_code = "invalid"
    default_message = _("The request could not be carried out.")

    def __init__(
        self,
        message: Any = None,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        self.message = str(message if message is not None else self.default_message)
        self.code = code or self.default_code
        self.fields = fields or {}
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    default_code = "validation_failed"
    default_message = _("Some fields are not valid.")


class NotFound(ApplicationError):
    """Does not exist *or* is not yours: the same answer, so existence does not leak."""

    status_code = 404
    default_code = "not_found"
    default_message = _("Not found.")


class PermissionDenied(ApplicationError):
    """Visible to the actor, but this action is not allowed for its role."""

    status_code = 403
    default_code = "permission_denied"
    default_message = _("You are not allowed to do this.")


class InvalidTransition(ApplicationError):
    status_code = 409
    default_code = "invalid_transition"
    default_message = _("This status change is not allowed.")


class Conflict(ApplicationError):
    """Someone else changed the record first (stale ``version``) or a uniqueness clash."""

    status_code = 409
    default_code = "conflict"
    default_message = _("The record was changed by someone else; reload and try again.")


class PreconditionFailed(ApplicationError):
    status_code = 412
    default_code = "precondition_failed"
    default_message = _("The record has changed since you read it.")
