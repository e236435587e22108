"""Attach the resolved actor to every request, once."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from servicedesk.actors import resolve_actor

SESSION_MEMBERSHIP_KEY = "membership_id"


class ActorMiddleware:
    """``request.actor``: the session user's actor (``None`` when anonymous).

    API requests authenticated by token get their actor from the token instead; see
    ``servicedesk.api.authentication``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = SimpleLazyObject(
            lambda: resolve_actor(request.user, request.session.get(SESSION_MEMBERSHIP_KEY))
        )
        return self.get_response(request)
