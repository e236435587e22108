"""API permissions. Who may see which rows is the selectors' job; this only gates entry."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from servicedesk.actors import Actor


class HasActor(BasePermission):
    """Authenticated *and* acting for an organisation: a user without a membership sees nothing."""

    message = _("You have no active role in any organisation.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and request_actor(request))


def request_actor(request: Any) -> Actor | None:
    """The actor of a DRF or Django request (token actor wins over the session's)."""
    django_request = getattr(request, "_request", request)
    actor = getattr(django_request, "actor", None)
    return actor if actor else None
