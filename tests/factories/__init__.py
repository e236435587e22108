"""factory_boy factories for every model tests create."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from clients.models import Client, ClientContract, Equipment, Region, Store, StoreStaffAssignment
from partners.models import Certification, Competency, Coverage, Partner, PartnerContract
from servicedesk.models import Membership, Organisation, User
from tickets.models import Ticket


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.django.Password("secret-pass-123")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = "client"
    name = factory.Sequence(lambda n: f"Organisation {n}")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "RU-MOW"
    name_ru = "Москва"
    name_en = "Moscow"
    country = "RU"
    time_zone = "Europe/Moscow"


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    organisation = factory.SubFactory(OrganisationFactory, kind="client")
    code = factory.Sequence(lambda n: "C" + "".join(chr(65 + int(d)) for d in f"{n:03d}"))
    name = factory.SelfAttribute("organisation.name")


class ClientContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientContract

    client = factory.SubFactory(ClientFactory)
    number = factory.Sequence(lambda n: f"SLA-{n}")
    starts_on = dt.date(2026, 1, 1)


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    client = factory.SubFactory(ClientFactory)
    code = factory.Sequence(lambda n: f"S{n:04d}")
    name = factory.Sequence(lambda n: f"Store {n}")
    region = factory.SubFactory(RegionFactory)
    city = "Москва"
    address = "ул. Тверская, 1"
    time_zone = factory.SelfAttribute("region.time_zone")
    latitude = Decimal("55.757600")
    longitude = Decimal("37.613600")


class EquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Equipment

    store = factory.SubFactory(StoreFactory)
    kind = "cash_register"
    model = "АТОЛ 91Ф"
    serial_number = factory.Sequence(lambda n: f"SN{n:06d}")


class CompetencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competency
        django_get_or_create = ("code",)

    code = "cash-registers"
    name = "Cash registers"
    equipment_kind = "cash_register"


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    organisation = factory.SubFactory(OrganisationFactory, kind="partner")
    name = factory.SelfAttribute("organisation.name")
    kind = "operational"


class CoverageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coverage

    partner = factory.SubFactory(PartnerFactory)
    region = factory.SubFactory(RegionFactory)
    capacity = 5


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    partner = factory.SubFactory(PartnerFactory)
    competency = factory.SubFactory(CompetencyFactory)
    issued_on = dt.date(2026, 1, 1)
    expires_on = dt.date(2027, 12, 31)


class PartnerContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerContract

    partner = factory.SubFactory(PartnerFactory)
    number = factory.Sequence(lambda n: f"OLA-{n}")
    starts_on = dt.date(2026, 1, 1)
    visit_fee = Decimal("3500.00")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = "client_manager"


class StoreStaffAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreStaffAssignment

    membership = factory.SubFactory(MembershipFactory, role="store_staff")
    store = factory.SubFactory(StoreFactory)


class TicketFactory(factory.django.DjangoModelFactory):
    """A bare ticket row. Tests of behaviour create tickets through ``ticket_create``."""

    class Meta:
        model = Ticket

    store = factory.SubFactory(StoreFactory)
    client = factory.SelfAttribute("store.client")
    number = factory.Sequence(lambda n: n + 1)
    subject = factory.Sequence(lambda n: f"Касса {n} не включается")
    created_at = factory.LazyFunction(timezone.now)
