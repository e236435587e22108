"""The partner network: partners, competencies, certifications, coverage, contracts (OLA)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendars.models import BusinessCalendar
from clients.choices import EquipmentKind
from clients.models import Region
from partners.choices import PartnerKind
from partners.querysets import PartnerOwnedQuerySet, PartnerQuerySet
from servicedesk.models import Organisation, TimeStampedModel


class Competency(models.Model):
    """A skill a job may need (e.g. fiscal printer repair, perimeter pentest)."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    equipment_kind = models.CharField(
        _("equipment kind"), max_length=32, choices=EquipmentKind.choices, blank=True
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("competencies")

    def __str__(self) -> str:
        return self.name


class Partner(TimeStampedModel):
    """A subcontractor company. Its id is its organisation's id."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, primary_key=True, related_name="partner"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=PartnerKind.choices)
    tax_id = models.CharField(_("tax id (INN)"), max_length=12, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    competencies = models.ManyToManyField(
        Competency, through="Certification", related_name="partners"
    )
    regions = models.ManyToManyField(Region, through="Coverage", related_name="partners")

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PartnerKind.values), name="partner_kind")
        ]

    def __str__(self) -> str:
        return self.name


class Certification(TimeStampedModel):
    """A partner's certified competency; it stops counting on ``expires_on``."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="certifications")
    competency = models.ForeignKey(
        Competency, on_delete=models.PROTECT, related_name="certifications"
    )
    number = models.CharField(_("certificate number"), max_length=64, blank=True)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"))

    objects = PartnerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["partner", "competency", "-expires_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gt=F("issued_on")), name="certification_expires_after_issue"
            ),
            models.UniqueConstraint(
                fields=["partner", "competency", "issued_on"], name="certification_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.competency} (→ {self.expires_on})"

    def is_valid_on(self, day=None) -> bool:
        day = day or timezone.localdate()
        return self.issued_on <= day < self.expires_on


class Coverage(TimeStampedModel):
    """A region a partner serves, with how many concurrent jobs it can take there."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="coverages")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="coverages")
    capacity = models.PositiveIntegerField(_("concurrent jobs"), validators=[MinValueValidator(1)])

    objects = PartnerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["partner", "region"]
        verbose_name_plural = _("coverage")
        constraints = [
            models.UniqueConstraint(fields=["partner", "region"], name="coverage_unique"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="coverage_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.region.code} x{self.capacity}"


class PartnerContract(TimeStampedModel):
    """The provider's contract with a partner: rates, penalty rule and OLA targets.

    OLA targets are back-to-back with the client SLA and must be tighter than it; the SLA
    engine validates that when policies are set.
    """

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contracts")
    number = models.CharField(_("number"), max_length=50)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    visit_fee = models.DecimalField(
        _("fee per visit"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    hourly_rate = models.DecimalField(
        _("hourly rate"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    accept_within_seconds = models.PositiveIntegerField(
        _("accept an offer within (s)"), default=30 * 60
    )
    arrive_within_seconds = models.PositiveIntegerField(
        _("arrive on site within (s)"), null=True, blank=True
    )
    resolve_within_seconds = models.PositiveIntegerField(
        _("resolve within (s)"), null=True, blank=True
    )
    ola_calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("partner's working hours"),
        help_text=_("The calendar OLA targets count in. Empty: the client SLA's calendar."),
    )
    penalty_percent_per_hour = models.DecimalField(
        _("penalty per started hour late (percent of the visit fee)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
    )
    penalty_cap_percent = models.DecimalField(
        _("penalty cap (percent of the visit fee)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("100"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = PartnerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["partner", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "number"], name="partner_contract_number"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="partner_contract_dates",
            ),
            models.CheckConstraint(
                condition=Q(visit_fee__gte=0, hourly_rate__gte=0), name="partner_contract_rates"
            ),
            models.CheckConstraint(
                condition=Q(accept_within_seconds__gt=0)
                & (Q(arrive_within_seconds__isnull=True) | Q(arrive_within_seconds__gt=0))
                & (Q(resolve_within_seconds__isnull=True) | Q(resolve_within_seconds__gt=0)),
                name="partner_contract_targets_positive",
            ),
            models.CheckConstraint(
                condition=Q(penalty_percent_per_hour__gte=0, penalty_cap_percent__gte=0),
                name="partner_contract_penalty_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.number}"
