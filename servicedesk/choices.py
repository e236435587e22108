"""Organisation kinds and actor roles (DESIGN.md, "Actors and tenancy")."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    PROVIDER = "provider", _("Provider")
    CLIENT = "client", _("Client")
    PARTNER = "partner", _("Partner")


class Role(models.TextChoices):
    PROVIDER_ADMIN = "provider_admin", _("Provider administrator")
    DISPATCHER = "dispatcher", _("Dispatcher")
    CLIENT_MANAGER = "client_manager", _("Client manager")
    STORE_STAFF = "store_staff", _("Store staff")
    PARTNER_MANAGER = "partner_manager", _("Partner manager")
    PARTNER_ENGINEER = "partner_engineer", _("Partner engineer")


ROLES_BY_KIND: dict[str, frozenset[str]] = {
    OrganisationKind.PROVIDER: frozenset({Role.PROVIDER_ADMIN, Role.DISPATCHER}),
    OrganisationKind.CLIENT: frozenset({Role.CLIENT_MANAGER, Role.STORE_STAFF}),
    OrganisationKind.PARTNER: frozenset({Role.PARTNER_MANAGER, Role.PARTNER_ENGINEER}),
}
PROVIDER_ROLES = ROLES_BY_KIND[OrganisationKind.PROVIDER]
CLIENT_ROLES = ROLES_BY_KIND[OrganisationKind.CLIENT]
PARTNER_ROLES = ROLES_BY_KIND[OrganisationKind.PARTNER]
