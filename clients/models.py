"""Clients (tenants), regions, stores and the equipment in them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from calendars.models import BusinessCalendar
from clients.choices import EquipmentKind
from clients.querysets import ClientQuerySet, EquipmentQuerySet, StoreQuerySet
from servicedesk.fields import TimeZoneField, valid_time_zone_check
from servicedesk.models import Organisation, TimeStampedModel


class Region(models.Model):
    """A federal subject of Russia (or a CIS capital) with its ISO 3166-2 code and zone."""

    code = models.CharField(_("ISO 3166-2 code"), max_length=8, unique=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    country = models.CharField(_("country"), max_length=2)
    time_zone = TimeZoneField(_("time zone"))

    class Meta:
        ordering = ["code"]
        constraints = [
            valid_time_zone_check("time_zone", "region_time_zone_valid"),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{2}-[A-Z0-9]{1,3}$"), name="region_code_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_ru} ({self.code})"


class Client(TimeStampedModel):
    """A retail chain the provider serves: the tenant. Its id is its organisation's id."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.PROTECT, primary_key=True, related_name="client"
    )
    code = models.CharField(
        _("ticket prefix"),
        max_length=5,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2,5}$", _("Two to five capital Latin letters."))],
        help_text=_("Prefix of ticket numbers, e.g. MAG for MAG-000123."),
    )
    name = models.CharField(_("name"), max_length=200)
    time_zone = TimeZoneField(_("default time zone"), default="Europe/Moscow")
    locale = models.CharField(_("locale"), max_length=8, default="ru")
    # Opt-in: until the provider has set up partners and policies for a client, field
    # jobs wait for a dispatcher.
    auto_dispatch = models.BooleanField(
        _("auto-dispatch field visits"),
        default=False,
        help_text=_("Offer field jobs to the best-ranked partner without a dispatcher."),
    )
    # Last ticket number issued; incremented with UPDATE … RETURNING under the row lock.
    ticket_sequence = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            valid_time_zone_check("time_zone", "client_time_zone_valid"),
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z]{2,5}$"), name="client_code"),
        ]

    def __str__(self) -> str:
        return self.name


class ClientContract(TimeStampedModel):
    """The service contract between the provider and a client; SLA policies hang off it."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contracts")
    number = models.CharField(_("number"), max_length=50)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["client", "-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["client", "number"], name="client_contract_number"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="client_contract_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} · {self.number}"


class Store(TimeStampedModel):
    """A client's site. Its clocks count in its own time zone."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="stores")
    code = models.CharField(_("store code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="stores")
    city = models.CharField(_("city"), max_length=120)
    address = models.CharField(_("address"), max_length=300)
    time_zone = TimeZoneField(_("time zone"))
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    access_calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("access hours"),
        help_text=_(
            "When an engineer can get in (e.g. nights only in a mall); arrival targets count "
            "only these hours. Empty: any time the SLA calendar counts."
        ),
    )
    external_id = models.CharField(_("external id"), max_length=100, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = StoreQuerySet.as_manager()

    class Meta:
        ordering = ["client", "code"]
        constraints = [
            models.UniqueConstraint(fields=["client", "code"], name="store_code_unique_per_client"),
            models.UniqueConstraint(
                fields=["client", "external_id"],
                condition=Q(external_id__isnull=False),
                name="store_external_id_unique_per_client",
            ),
            # Target of composite foreign keys: (store, client) pairs elsewhere must exist here.
            models.UniqueConstraint(fields=["id", "client"], name="store_id_client"),
            valid_time_zone_check("time_zone", "store_time_zone_valid"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="store_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="store_longitude_range",
            ),
        ]
        indexes = [models.Index(fields=["client", "region"], name="store_client_region")]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Equipment(TimeStampedModel):
    """An asset at a store: a cash register, a fiscal printer, a CCTV camera…"""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="equipment")
    kind = models.CharField(_("kind"), max_length=32, choices=EquipmentKind.choices)
    model = models.CharField(_("model"), max_length=120)
    serial_number = models.CharField(_("serial number"), max_length=120)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    warranty_until = models.DateField(_("warranty until"), null=True, blank=True)

    objects = EquipmentQuerySet.as_manager()

    class Meta:
        ordering = ["store", "kind", "serial_number"]
        verbose_name_plural = _("equipment")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "serial_number"], name="equipment_serial_unique_per_store"
            ),
            models.UniqueConstraint(fields=["id", "store"], name="equipment_id_store"),
            models.CheckConstraint(
                condition=Q(kind__in=EquipmentKind.values), name="equipment_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.model} #{self.serial_number}"


class StoreStaffAssignment(models.Model):
    """The stores a ``store_staff`` membership may see."""

    membership = models.ForeignKey(
        "servicedesk.Membership", on_delete=models.CASCADE, related_name="store_assignments"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="staff_assignments")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "store"], name="store_staff_unique")
        ]

    def __str__(self) -> str:
        return f"{self.membership} → {self.store}"

    def clean(self) -> None:
        membership = self.membership
        if membership.role != "store_staff":
            raise ValidationError({"membership": _("Only store staff are limited to stores.")})
        if self.store_id and self.store.client_id != membership.organisation_id:
            raise ValidationError({"store": _("This store belongs to another client.")})
