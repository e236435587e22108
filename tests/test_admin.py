"""The admin: every registered model lists, searches and opens for a provider admin, the
ticket domain is read-only there, and the ticket list does not grow queries with its rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from servicedesk.models import ApiToken, IdempotencyRecord, Notification, OutboxMessage, User
from sla.models import ClockThreshold, SlaClock
from tests.factories import (
    CertificationFactory,
    ClientContractFactory,
    CoverageFactory,
    EquipmentFactory,
    MembershipFactory,
    PartnerContractFactory,
    PartnerFactory,
    StoreFactory,
    StoreStaffAssignmentFactory,
    TicketFactory,
    UserFactory,
)
from tickets.models import (
    Attachment,
    Comment,
    EscalationStep,
    Offer,
    Ticket,
    TicketEvent,
    Visit,
)

pytestmark = pytest.mark.django_db

# Written by the platform itself; the admin only shows them.
READ_ONLY = {
    Ticket,
    TicketEvent,
    Comment,
    Attachment,
    Offer,
    Visit,
    ApiToken,
    Notification,
    OutboxMessage,
    SlaClock,
    ClockThreshold,
    EscalationStep,
    IdempotencyRecord,
}


@pytest.fixture
def one_of_each(admin_user: User) -> Ticket:
    """A row in every table, so list columns and change pages really render."""
    store = StoreFactory()
    ClientContractFactory(client=store.client)
    equipment = EquipmentFactory(store=store)
    partner = PartnerFactory()
    CoverageFactory(partner=partner, region=store.region)
    CertificationFactory(partner=partner)
    PartnerContractFactory(partner=partner)
    engineer = MembershipFactory(organisation=partner.organisation, role="partner_engineer").user
    StoreStaffAssignmentFactory(store=store, membership__organisation=store.client.organisation)
    membership = MembershipFactory(user=admin_user, organisation=store.client.organisation)
    ApiToken.objects.create(membership=membership, name="CI", key_hash="f" * 64, prefix="abcd1234")
    ticket = TicketFactory(store=store, equipment=equipment, partner=partner, engineer=engineer)
    now = timezone.now()
    TicketEvent.objects.create(
        ticket=ticket, kind="created", data={"status": "new"}, created_at=now
    )
    comment = Comment.objects.create(ticket=ticket, author=admin_user, body="Проверили кассу")
    Attachment.objects.create(
        ticket=ticket,
        comment=comment,
        uploaded_by=admin_user,
        file="attachments/x",
        original_name="photo.jpg",
        content_type="image/jpeg",
        size=10,
        sha256="a" * 64,
    )
    Offer.objects.create(
        ticket=ticket, partner=partner, offered_at=now, deadline=now + timedelta(minutes=30)
    )
    Visit.objects.create(ticket=ticket, partner=partner, engineer=engineer, eta=now)
    return ticket


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_the_domain_is_registered():
    registered = set(admin.site._registry)
    for app_label in ("servicedesk", "clients", "partners", "tickets"):
        models = set(apps.get_app_config(app_label).get_models())
        assert models <= registered, models - registered


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_changelist_search_add_and_change_pages_answer(admin_client, one_of_each, model):
    assert admin_client.get(_url(model, "changelist")).status_code == 200
    assert admin_client.get(_url(model, "changelist"), {"q": "x"}).status_code == 200

    add = admin_client.get(_url(model, "add"))
    assert add.status_code == (403 if model in READ_ONLY else 200)

    obj = model._default_manager.order_by("pk").first()
    if obj is not None:
        assert admin_client.get(_url(model, "change", obj.pk)).status_code == 200


def test_ticket_search_finds_a_ticket_by_its_reference(admin_client, one_of_each):
    ticket = one_of_each
    response = admin_client.get(_url(Ticket, "changelist"), {"q": ticket.reference})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [ticket]


def test_api_token_admin_never_shows_the_key_hash(admin_client, one_of_each):
    token = ApiToken.objects.get()
    for url in (_url(ApiToken, "changelist"), _url(ApiToken, "change", token.pk)):
        body = admin_client.get(url).content.decode()
        assert token.key_hash not in body
        assert "key_hash" not in body


def test_api_token_revoke_action_goes_through_the_service(admin_client, one_of_each):
    token = ApiToken.objects.get()
    response = admin_client.post(
        _url(ApiToken, "changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None


def _ticket_list_queries(admin_client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(Ticket, "changelist"))
    assert response.status_code == 200
    return len(queries)


def test_ticket_changelist_queries_do_not_grow_with_rows(admin_client):
    stores = [StoreFactory() for _ in range(3)]
    partner = PartnerFactory()
    engineer = UserFactory()

    def make(count: int) -> None:
        for n in range(count):
            TicketFactory(
                store=stores[n % 3], partner=partner, engineer=engineer if n % 2 else None
            )

    make(5)
    with_five = _ticket_list_queries(admin_client)
    make(45)
    assert Ticket.objects.count() == 50
    assert _ticket_list_queries(admin_client) <= with_five
