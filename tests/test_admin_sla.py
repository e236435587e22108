"""Admin for calendars, SLA policies and clocks: pages answer, the same validation as the API
refuses bad policies and looser OLAs, and weekly hours edited inline take effect from now."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.urls import reverse

from calendars.models import BusinessCalendar, WorkingInterval
from calendars.services import calendar_create, calendar_presets_ensure
from partners.models import PartnerContract
from sla.models import ClockThreshold, SlaClock, SlaPolicy
from sla.services import sweep_batch
from tests.factories import ClientContractFactory, PartnerContractFactory, TicketFactory
from tickets import clocks
from tickets.models import TicketEvent

H = 3600

pytestmark = pytest.mark.django_db


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def shops(db) -> BusinessCalendar:
    return calendar_create(
        actor=None,
        code="shops",
        name="Shops",
        intervals=[(d, time(9), time(18)) for d in range(5)],
    )


@pytest.fixture
def policy(world, shops) -> SlaPolicy:
    return SlaPolicy.objects.create(
        contract=ClientContractFactory(client=world.client_a, number="A-1"),
        priority="p2",
        response_seconds=H,
        arrival_seconds=4 * H,
        resolution_seconds=8 * H,
        calendar=shops,
    )


@pytest.fixture
def ticket_clock(world, policy) -> SlaClock:
    """A resolution clock started Mon 2026-10-05 10:00 MSK, breached by the sweep."""
    ticket = TicketFactory(
        store=world.store_a1,
        created_at=datetime(2026, 10, 5, 7, tzinfo=UTC),
        number=500,
        priority="p2",
    )
    clocks.on_created(ticket=ticket, actor=world.actor("dispatcher"))
    sweep_batch(now=datetime(2026, 10, 7, tzinfo=UTC))
    return SlaClock.objects.get(ticket=ticket, metric="resolution")


# --------------------------------------------------------------------- pages


def test_calendar_and_policy_pages_answer(admin_client, policy, ticket_clock):
    office = calendar_presets_ensure()["office"]
    for url in (
        _url(BusinessCalendar, "changelist"),
        _url(BusinessCalendar, "add"),
        _url(BusinessCalendar, "change", office.pk),
        _url(SlaPolicy, "changelist"),
        _url(SlaPolicy, "add"),
        _url(SlaPolicy, "change", policy.pk),
    ):
        assert admin_client.get(url).status_code == 200, url
    assert admin_client.get(_url(BusinessCalendar, "changelist"), {"q": "off"}).status_code == 200


def test_clock_pages_are_read_only_and_searchable_by_reference(admin_client, ticket_clock):
    reference = ticket_clock.ticket.reference
    threshold = ClockThreshold.objects.filter(clock=ticket_clock).first()
    assert threshold is not None
    for model, pk in ((SlaClock, ticket_clock.pk), (ClockThreshold, threshold.pk)):
        assert admin_client.get(_url(model, "changelist")).status_code == 200
        assert admin_client.get(_url(model, "change", pk)).status_code == 200
        assert admin_client.get(_url(model, "add")).status_code == 403
        assert admin_client.get(_url(model, "changelist"), {"q": "x"}).status_code == 200
    found = admin_client.get(_url(SlaClock, "changelist"), {"q": reference})
    assert {c.ticket_id for c in found.context["cl"].result_list} == {ticket_clock.ticket_id}
    filtered = admin_client.get(
        _url(SlaClock, "changelist"), {"state__exact": "running", "metric__exact": "resolution"}
    )
    assert list(filtered.context["cl"].result_list) == [ticket_clock]


# --------------------------------------------------------------------- OLA vs SLA


def _contract_form(contract: PartnerContract, **changes) -> dict:
    data = {
        "partner": contract.partner_id,
        "number": contract.number,
        "starts_on": contract.starts_on.isoformat(),
        "ends_on": "",
        "currency": contract.currency,
        "visit_fee": str(contract.visit_fee),
        "hourly_rate": str(contract.hourly_rate),
        "accept_within_seconds": contract.accept_within_seconds,
        "arrive_within_seconds": "",
        "resolve_within_seconds": "",
        "ola_calendar": "",
        "penalty_percent_per_hour": str(contract.penalty_percent_per_hour),
        "penalty_cap_percent": str(contract.penalty_cap_percent),
        "is_active": "on",
    }
    data.update(changes)
    return data


def test_admin_refuses_an_ola_looser_than_the_client_sla(admin_client, world, policy):
    # Given client A promises arrival within 4 h, and partner P's contract
    contract = PartnerContract.objects.get(partner=world.partner_p)

    # When the admin gives the partner 5 h to arrive
    response = admin_client.post(
        _url(PartnerContract, "change", contract.pk),
        _contract_form(contract, arrive_within_seconds=5 * H),
    )

    # Then the form is shown again with the service's message, and nothing is saved
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "looser than the client SLA" in errors["arrive_within_seconds"][0]
    assert "14400" in errors["arrive_within_seconds"][0]
    contract.refresh_from_db()
    assert contract.arrive_within_seconds is None


def test_admin_saves_a_tighter_ola(admin_client, world, policy):
    contract = PartnerContract.objects.get(partner=world.partner_p)

    response = admin_client.post(
        _url(PartnerContract, "change", contract.pk),
        _contract_form(contract, arrive_within_seconds=3 * H, resolve_within_seconds=6 * H),
    )

    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.arrive_within_seconds, contract.resolve_within_seconds) == (3 * H, 6 * H)


def _policy_form(policy: SlaPolicy, **changes) -> dict:
    data = {
        "contract": policy.contract_id,
        "priority": "p1",
        "category": "",
        "response_seconds": H,
        "arrival_seconds": 2 * H,
        "resolution_seconds": 4 * H,
        "calendar": policy.calendar_id,
        "warning_threshold": "0.75",
        "pause_statuses": ["waiting_client"],
    }
    data.update(changes)
    return data


def test_admin_refuses_a_policy_tighter_than_an_existing_ola(admin_client, world, policy):
    # Given partner Q may take 3 h to arrive
    PartnerContractFactory(partner=world.partner_q, number="Q-3H", arrive_within_seconds=3 * H)

    # When a P1 policy promising arrival within 2 h is added
    response = admin_client.post(_url(SlaPolicy, "add"), _policy_form(policy))

    # Then it is refused with the reverse check's message
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Partner Q" in errors["arrival_seconds"][0]
    assert not SlaPolicy.objects.filter(priority="p1").exists()


def test_admin_policy_form_applies_the_api_rules(admin_client, policy):
    response = admin_client.post(
        _url(SlaPolicy, "add"),
        _policy_form(policy, response_seconds=0, pause_statuses=["on_site"]),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "positive" in errors["response_seconds"][0]
    assert "waiting for the client" in errors["pause_statuses"][0]
    assert not SlaPolicy.objects.filter(priority="p1").exists()

    saved = admin_client.post(_url(SlaPolicy, "add"), _policy_form(policy))

    assert saved.status_code == 302
    assert SlaPolicy.objects.get(priority="p1").arrival_seconds == 2 * H


# --------------------------------------------------------------------- inline week edits


def test_weekly_hours_edited_inline_take_effect_from_now(admin_client, shops):
    # Given the Mon–Fri 09:00–18:00 week, in force since the beginning
    rows = list(shops.intervals.order_by("weekday"))
    data = {
        "code": shops.code,
        "name": shops.name,
        "intervals-TOTAL_FORMS": len(rows),
        "intervals-INITIAL_FORMS": len(rows),
        "intervals-MIN_NUM_FORMS": 0,
        "intervals-MAX_NUM_FORMS": 1000,
        "exceptions-TOTAL_FORMS": 0,
        "exceptions-INITIAL_FORMS": 0,
        "exceptions-MIN_NUM_FORMS": 0,
        "exceptions-MAX_NUM_FORMS": 1000,
    }
    for n, row in enumerate(rows):
        data.update(
            {
                f"intervals-{n}-id": row.pk,
                f"intervals-{n}-calendar": shops.pk,
                f"intervals-{n}-weekday": row.weekday,
                f"intervals-{n}-opens": "09:00",
                # When Friday is shortened to 16:00 in the inline
                f"intervals-{n}-closes": "16:00" if row.weekday == 4 else "18:00",
            }
        )

    response = admin_client.post(_url(BusinessCalendar, "change", shops.pk), data)

    # Then the old week is kept for the time before now, and the new one starts now
    assert response.status_code == 302, response.context["adminform"].form.errors
    old = WorkingInterval.objects.filter(calendar=shops, effective_until__isnull=False)
    new = WorkingInterval.objects.filter(calendar=shops, effective_until__isnull=True)
    assert old.count() == 5 and new.count() == 5
    assert {(i.weekday, i.closes) for i in new} == {
        (0, time(18)),
        (1, time(18)),
        (2, time(18)),
        (3, time(18)),
        (4, time(16)),
    }
    assert all(i.effective_from is not None for i in new)


def test_an_unchanged_inline_week_is_not_re_dated(admin_client, shops, ticket_clock):
    data = {
        "code": shops.code,
        "name": "Shops renamed",
        "intervals-TOTAL_FORMS": 0,
        "intervals-INITIAL_FORMS": 0,
        "intervals-MIN_NUM_FORMS": 0,
        "intervals-MAX_NUM_FORMS": 1000,
        "exceptions-TOTAL_FORMS": 0,
        "exceptions-INITIAL_FORMS": 0,
        "exceptions-MIN_NUM_FORMS": 0,
        "exceptions-MAX_NUM_FORMS": 1000,
    }
    events = TicketEvent.objects.count()

    response = admin_client.post(_url(BusinessCalendar, "change", shops.pk), data)

    assert response.status_code == 302
    assert not WorkingInterval.objects.filter(calendar=shops, effective_from__isnull=False).exists()
    assert TicketEvent.objects.count() == events
