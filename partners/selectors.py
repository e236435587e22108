"""Reads of the partner network, scoped by the actor."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from partners.models import Certification, Competency, Coverage, Partner, PartnerContract
from servicedesk.actors import Actor
from servicedesk.exceptions import NotFound


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
