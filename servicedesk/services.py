"""Account use cases: issuing and revoking API tokens, personal and integration ones."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from servicedesk.actors import Actor, resolve_actor
from servicedesk.choices import ROLES_BY_KIND, Role
from servicedesk.exceptions import Conflict, NotFound, PermissionDenied, ValidationFailed
from servicedesk.login_guard import guard_token_obtain
from servicedesk.models import ApiToken, Membership, Organisation, User


@guard_token_obtain  # outside the transaction: a refused attempt must still count
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


# --- integration tokens ----------------------------------------------------------------------
#
# An integration token acts for one organisation in one role, through a service user of its
# own: a user nobody can sign in as (unusable password) with one membership and one token.
# Who may issue one (the rule the API, the page and the tests share):
#
# * a provider administrator, for any organisation, in any role that organisation has;
# * a client manager, for its own client only, as client_manager or store_staff;
# * a partner manager, for its own partner only, as partner_manager;
# * nobody else, and never an integration token itself (a leaked token cannot mint more).
#
# A token never outranks its issuer: each issuer has the roles it may grant
# (``GRANTABLE_ROLES``), none above its own. ``partner_engineer`` tokens are refused for
# everyone: an engineer sees the jobs given to them in person, so a service user in that
# role would see nothing. A ``store_staff`` token must name its stores (that role sees only
# listed stores). Asking for a role outside the issuer's grant is 403 ``role_too_high``;
# naming an organisation the issuer may not (or a role that organisation has not) is 400.

INTEGRATION_USERNAME_PREFIX = "integration-"
GRANTABLE_ROLES: dict[str, frozenset[str]] = {
    Role.PROVIDER_ADMIN: frozenset(Role.values) - {Role.PARTNER_ENGINEER},
    Role.CLIENT_MANAGER: frozenset({Role.CLIENT_MANAGER, Role.STORE_STAFF}),
    Role.PARTNER_MANAGER: frozenset({Role.PARTNER_MANAGER}),
}
TOKEN_ISSUER_ROLES = frozenset(GRANTABLE_ROLES)


def is_integration_user(user: User | None) -> bool:
    """A service user made by ``integration_token_create`` (no one can sign in as it)."""
    return bool(
        user is not None
        and user.username.startswith(INTEGRATION_USERNAME_PREFIX)
        and not user.has_usable_password()
    )


def integration_roles_for(*, actor: Actor, organisation: Organisation) -> list[str]:
    """The roles ``actor`` may give a token of ``organisation``; empty if none."""
    if is_integration_user(actor.user) or actor.role not in TOKEN_ISSUER_ROLES:
        return []
    if not actor.is_provider and organisation.pk != actor.organisation_id:
        return []
    grantable = GRANTABLE_ROLES[actor.role]
    return [r for r in Role.values if r in grantable and r in ROLES_BY_KIND[organisation.kind]]


def integration_issuer_check(actor: Actor | None) -> Actor:
    """The actor, if it may manage integration tokens at all; ``PermissionDenied`` if not."""
    if actor is None or actor.role not in TOKEN_ISSUER_ROLES or is_integration_user(actor.user):
        raise PermissionDenied(
            _(
                "Only provider administrators and client or partner managers manage "
                "integration tokens, and not through an integration token."
            ),
            code="token_issuer_only",
        )
    return actor


@transaction.atomic
def integration_token_create(
    *,
    actor: Actor | None,
    organisation_id: int,
    role: str,
    name: str,
    store_ids: Sequence[int] = (),
) -> tuple[ApiToken, str]:
    """Issue a named token acting for one organisation in one role, through a new service
    user that cannot sign in. Returns the token row and the raw key, which exists only in
    this return value (the row keeps its SHA-256).

    Refused with ``PermissionDenied`` for a role the issuer may not grant (or an issuer
    that may not issue tokens), and with ``ValidationFailed`` (field messages, nothing
    written) for an engineer role, an organisation the issuer may not name, a role that
    organisation has not, a blank name, or store-staff stores missing or not the client's.
    """
    actor = integration_issuer_check(actor)
    if role == Role.PARTNER_ENGINEER:
        message = _("Engineers see the jobs given to them in person; use a partner_manager token.")
        raise ValidationFailed(message, fields={"role": [message]})
    grantable = GRANTABLE_ROLES[actor.role]
    if role not in grantable:
        message = _("A %(own)s may issue tokens only as: %(roles)s.") % {
            "own": Role(actor.role).label,
            "roles": ", ".join(sorted(grantable)),
        }
        raise PermissionDenied(message, code="role_too_high", fields={"role": [message]})
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the token a name to recognise it by.")]
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None or (not actor.is_provider and organisation.pk != actor.organisation_id):
        # A foreign organisation reads the same as a missing one.
        errors["organisation"] = [_("Unknown organisation: %(id)s.") % {"id": organisation_id}]
        raise ValidationFailed(fields=errors)
    if role not in ROLES_BY_KIND[organisation.kind]:
        errors["role"] = [
            _("A %(kind)s organisation has no “%(role)s” role.")
            % {"kind": organisation.get_kind_display(), "role": role}
        ]
    stores = _integration_stores(organisation, role, store_ids, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    membership = Membership.objects.create(
        user=_integration_user(organisation, name), organisation=organisation, role=role
    )
    for store_id in stores:
        # Through the reverse relation: this floor imports nothing of clients.
        membership.store_assignments.create(store_id=store_id)
    raw, key_hash = ApiToken.generate()
    token = ApiToken.objects.create(
        membership=membership, name=name[:100], key_hash=key_hash, prefix=raw[:8]
    )
    return token, raw


def _integration_stores(
    organisation: Organisation, role: str, store_ids: Sequence[int], errors: dict
) -> list[int]:
    """The store ids a store-staff token is limited to (all the client's, checked)."""
    wanted = sorted({int(pk) for pk in store_ids})
    if role != Role.STORE_STAFF:
        if wanted:
            errors["store_ids"] = [_("Only store-staff tokens are limited to stores.")]
        return []
    if not wanted:
        errors["store_ids"] = [_("A store-staff token needs at least one store.")]
        return []
    found = set(organisation.client.stores.filter(pk__in=wanted).values_list("pk", flat=True))
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        errors["store_ids"] = [
            _("Not stores of this client: %(ids)s.") % {"ids": ", ".join(map(str, missing))}
        ]
    return wanted


def _integration_user(organisation: Organisation, name: str) -> User:
    """A new service user ``integration-<organisation slug>-<n>`` nobody can sign in as."""
    slug = slugify(organisation.name)[:40].strip("-") or f"org{organisation.pk}"
    base = f"{INTEGRATION_USERNAME_PREFIX}{slug}-"
    taken = User.objects.filter(username__startswith=base).count()
    for n in range(taken + 1, taken + 100):
        user = User(username=f"{base}{n}", last_name=name[:150])
        user.set_unusable_password()
        try:
            # A savepoint: a concurrent issuer taking the same name only costs a retry.
            with transaction.atomic():
                user.save()
        except IntegrityError:
            continue
        return user
    raise Conflict(_("Could not name the service user; try again."))  # pragma: no cover


@transaction.atomic
def integration_token_revoke(*, actor: Actor | None, token_id: int) -> ApiToken:
    """Revoke an integration token the actor manages (its organisation's; the provider
    administrator: any) and disable its service user's membership. Idempotent; a token the
    actor may not manage is ``NotFound``, the same as a missing one."""
    from servicedesk.selectors import integration_token_list

    token = (
        integration_token_list(actor=actor)
        .select_for_update(of=("self",))
        .filter(pk=token_id)
        .first()
    )
    if token is None:
        raise NotFound(_("Token not found."))
    now = timezone.now()
    if token.revoked_at is None:
        token.revoked_at = now
        token.save(update_fields=["revoked_at", "updated_at"])
        Membership.objects.filter(pk=token.membership_id).update(is_active=False, updated_at=now)
    return token
