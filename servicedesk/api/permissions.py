from __future__ import annotations

from rest_framework.permissions import BasePermission


class HasActor(BasePermission):
    """Authenticated *and* acting for an organisation: a user without a membership sees nothing."""

    message = "You have no active role in any organisation."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and request_actor(request))


def request_actor(request):
    """The actor of a DRF or Django request (token actor wins over the session's)."""
    django_request = getattr(request, "_request", request)
    actor = getattr(django_request, "actor", None)
    return actor if actor else None
