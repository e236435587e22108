"""``Authorization: Token <key>`` (or ``Bearer``) authentication against hashed API tokens."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from servicedesk.actors import actor_from_membership
from servicedesk.models import ApiToken, hash_token

# last_used_at is for people, not audits: refresh it at most once a minute per token.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization header: 'Token <key>'."))
        raw = header[1].decode(errors="replace")
        token = (
            ApiToken.objects.select_related("membership__user", "membership__organisation")
            .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        membership = token.membership
        if not membership.is_active or not membership.user.is_active:
            raise exceptions.AuthenticationFailed(_("This token's account is disabled."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > _LAST_USED_GRANULARITY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        # The token fixes the actor: it acts as its membership, never as another one.
        request._request.actor = actor_from_membership(membership)
        return membership.user, token

    def authenticate_header(self, request) -> str:
        return "Token"
