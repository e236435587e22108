"""Account use cases: issuing and revoking API tokens."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.actors import Actor, resolve_actor
from servicedesk.exceptions import NotFound, ValidationFailed
from servicedesk.models import ApiToken


@transaction.atomic
def api_token_obtain(
    *, username: str, password: str, name: str = "API", request=None
) -> tuple[ApiToken, str]:
    """Exchange a username and password for a new token acting as the user's actor.

    Returns the token row and the raw key, which exists only in this return value.
    """
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise ValidationFailed(
            _("Wrong username or password."),
            code="invalid_credentials",
            fields={"non_field_errors": [_("Wrong username or password.")]},
        )
    actor = resolve_actor(user)
    if actor is None:
        raise ValidationFailed(
            _("This account has no active role in any organisation."), code="no_membership"
        )
    raw, key_hash = ApiToken.generate()
    token = ApiToken.objects.create(
        membership_id=actor.membership_id, name=name[:100], key_hash=key_hash, prefix=raw[:8]
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (provider admins may revoke any)."""
    qs = ApiToken.objects.select_for_update()
    if not actor.has_role("provider_admin"):
        qs = qs.filter(membership__user_id=actor.user_id)
    token = qs.filter(pk=token_id).first()
    if token is None:
        raise NotFound(_("Token not found."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token
