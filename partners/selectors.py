"""Reads of the partner network, scoped by the actor."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from partners.models import Certification, Competency, Coverage, Partner, PartnerContract
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import NotFound
from servicedesk.models import Membership


def competency_list() -> QuerySet[Competency]:
    """Competencies are reference data, the same for everyone."""
    return Competency.objects.all()


def partner_list(*, actor: Actor | None) -> QuerySet[Partner]:
    return Partner.objects.visible_to(actor)


def partner_get(*, actor: Actor | None, partner_id: int) -> Partner:
    try:
        return partner_list(actor=actor).get(pk=partner_id)
    except (Partner.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Partner not found.")) from None


def coverage_list(*, actor: Actor | None) -> QuerySet[Coverage]:
    return Coverage.objects.visible_to(actor).select_related("partner", "region")


def certification_list(*, actor: Actor | None) -> QuerySet[Certification]:
    return Certification.objects.visible_to(actor).select_related("partner", "competency")


def contract_list(*, actor: Actor | None) -> QuerySet[PartnerContract]:
    return PartnerContract.objects.visible_to(actor).select_related("partner")


def contract_list_detailed(*, actor: Actor | None) -> QuerySet[PartnerContract]:
    """``contract_list`` with the OLA calendar joined, for lists that show it."""
    return contract_list(actor=actor).select_related("ola_calendar")


def partner_engineers(*, actor: Actor | None, partner_id: int | None) -> list[tuple[int, str]]:
    """(user id, name) of the people a job of a partner ``actor`` may see can be given to:
    the same memberships ``tickets.services`` accepts as the job's engineer."""
    if partner_id is None or not partner_list(actor=actor).filter(pk=partner_id).exists():
        return []
    rows = (
        Membership.objects.filter(
            organisation_id=partner_id,
            role__in=[Role.PARTNER_ENGINEER, Role.PARTNER_MANAGER],
            is_active=True,
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    people: dict[int, str] = {}
    for membership in rows:
        people.setdefault(membership.user_id, str(membership.user))
    return list(people.items())
