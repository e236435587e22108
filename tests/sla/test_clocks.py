"""SLA clocks driven by the ticket services, against hand-computed instants.

Every expected instant below is worked out by hand in the comment above it. Moscow is UTC+3
all year; Kaliningrad UTC+2; Vladivostok UTC+10; Kamchatka UTC+12.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
import time_machine

from calendars.models import BusinessCalendar, WorkingInterval
from calendars.services import calendar_presets_ensure, calendar_set_week
from servicedesk.exceptions import ValidationFailed
from sla import services as sla
from sla.models import ClockThreshold, SlaClock, SlaPolicy
from tests.factories import ClientContractFactory, RegionFactory, StoreFactory
from tickets import escalation, services
from tickets.models import TicketEvent


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def sla_world(world):
    """Client A's contract: P1 on store hours (08–22 local), P3 on office hours (Mon–Fri
    09–18 local), both in each store's own zone."""
    presets = calendar_presets_ensure()
    contract = ClientContractFactory(client=world.client_a, starts_on="2025-01-01")
    SlaPolicy.objects.create(
        contract=contract,
        priority="p1",
        response_seconds=30 * 60,
        arrival_seconds=4 * 3600,
        resolution_seconds=8 * 3600,
        calendar=presets["store-hours"],
    )
    SlaPolicy.objects.create(
        contract=contract,
        priority="p3",
        response_seconds=2 * 3600,
        resolution_seconds=16 * 3600,
        calendar=presets["office"],
    )
    world.presets = presets
    world.contract = contract
    return world


def open_ticket(world, at: datetime, *, store=None, priority="p1", needs_visit=False):
    with time_machine.travel(at, tick=False):
        return services.ticket_create(
            actor=world.actor("dispatcher"),
            store_id=(store or world.store_a1).pk,
            subject="Касса не работает",
            priority=priority,
            needs_visit=needs_visit,
        )


def clock(ticket, metric: str, agreement: str = "sla") -> SlaClock:
    return SlaClock.objects.filter(ticket=ticket, metric=metric, agreement=agreement).latest("pk")


def transition(world, ticket, status: str, at: datetime, role: str = "dispatcher"):
    with time_machine.travel(at, tick=False):
        return services.ticket_transition(
            actor=world.actor(role), ticket_id=ticket.pk, to_status=status
        )


# --- starting ------------------------------------------------------------------------------


def test_p1_clocks_start_with_their_dues_in_store_hours(sla_world):
    # Mon 2026-12-07 10:00 MSK = 07:00Z, store open 08–22 local.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    # Response 30 min → 07:30Z; warning at 75% = 22 min 30 s → 07:22:30Z.
    response = clock(ticket, "response")
    assert (response.due_at, response.warn_at) == (
        utc(2026, 12, 7, 7, 30),
        utc(2026, 12, 7, 7, 22, 30),
    )
    # Resolution 8 h from 10:00 MSK → 18:00 MSK = 15:00Z; no arrival clock without a visit.
    assert clock(ticket, "resolution").due_at == utc(2026, 12, 7, 15)
    assert not SlaClock.objects.filter(ticket=ticket, metric="arrival").exists()
    # And each start is on the timeline
    starts = TicketEvent.objects.filter(ticket=ticket, kind="sla", data__change="started")
    assert starts.count() == 2


def test_evening_ticket_continues_next_morning(sla_world):
    # Mon 21:00 MSK = 18:00Z: 1 h until 22:00, then 7 h from Tue 08:00 → Tue 15:00 MSK = 12:00Z.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 18))
    assert clock(ticket, "resolution").due_at == utc(2026, 12, 8, 12)


@pytest.mark.parametrize(
    ("code", "zone", "expected_due"),
    [
        # 18:00Z is 20:00 local: 2 h today (to 22:00) + 6 h from 08:00 → 14:00 local = 12:00Z.
        ("RU-KGD", "Europe/Kaliningrad", utc(2026, 12, 8, 12)),
        # 18:00Z is Tue 04:00 local: closed until 08:00, then 8 h → 16:00 local = 06:00Z.
        ("RU-PRI", "Asia/Vladivostok", utc(2026, 12, 8, 6)),
        # 18:00Z is Tue 06:00 local: closed until 08:00, then 8 h → 16:00 local = 04:00Z.
        ("RU-KAM", "Asia/Kamchatka", utc(2026, 12, 8, 4)),
    ],
)
def test_same_utc_moment_gives_each_store_its_own_due(sla_world, code, zone, expected_due):
    region = RegionFactory(code=code, name_ru=code, name_en=code, time_zone=zone)
    store = StoreFactory(client=sla_world.client_a, region=region, time_zone=zone)
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 18), store=store)
    resolution = clock(ticket, "resolution")
    assert resolution.time_zone == zone
    assert resolution.due_at == expected_due


def test_arrival_that_can_never_be_counted_is_refused_clearly(sla_world):
    # The store can be visited only at night, 22:00–06:00 local (a mall).
    night = BusinessCalendar.objects.create(code="night", name="Night access")
    WorkingInterval.objects.bulk_create(
        WorkingInterval(calendar=night, weekday=d, opens=time(22), closes=time(6)) for d in range(7)
    )
    store = sla_world.store_a1
    store.access_calendar = night
    store.save()
    # Arrival counts in store hours (08–22) ∩ access (22–06): empty every day, so arrival
    # could never be met. That is a configuration error the engine reports clearly (a 400
    # through the API), never a guessed deadline or an endless loop; nothing is written.
    before = SlaClock.objects.count()
    with pytest.raises(ValidationFailed, match="no working time"):
        open_ticket(sla_world, utc(2026, 12, 7, 7), needs_visit=True)
    assert SlaClock.objects.count() == before


def test_arrival_in_a_night_access_window_on_a_24x7_policy(sla_world):
    # A 24×7 P2 policy; the store is accessible 22:00–06:00 local only.
    SlaPolicy.objects.create(
        contract=sla_world.contract,
        priority="p2",
        response_seconds=3600,
        arrival_seconds=3 * 3600,
        resolution_seconds=12 * 3600,
        calendar=sla_world.presets["24x7"],
    )
    night = BusinessCalendar.objects.create(code="night", name="Night access")
    WorkingInterval.objects.bulk_create(
        WorkingInterval(calendar=night, weekday=d, opens=time(22), closes=time(6)) for d in range(7)
    )
    store = sla_world.store_a1
    store.access_calendar = night
    store.save()
    # Mon 10:00 MSK = 07:00Z. Arrival 3 h of access time: from 22:00 MSK → 01:00 MSK Tue
    # = 22:00Z Mon. Resolution (no access window) 12 h elapsed → 19:00Z.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7), priority="p2", needs_visit=True)
    assert clock(ticket, "arrival").due_at == utc(2026, 12, 7, 22)
    assert clock(ticket, "resolution").due_at == utc(2026, 12, 7, 19)


def test_production_calendar_working_saturday_is_short_before_the_holiday(sla_world):
    # P4 on the Russian production calendar (Mon–Fri 09–18, store zone), 4 working hours.
    SlaPolicy.objects.create(
        contract=sla_world.contract,
        priority="p4",
        response_seconds=3600,
        resolution_seconds=4 * 3600,
        calendar=sla_world.presets["ru-production"],
    )
    # Fri 2025-10-31 17:00 MSK = 14:00Z: 1 h on Friday. Sat 2025-11-01 is a working Saturday
    # by decree and, before the 4 November holiday, shortened to 09–17: 3 h more → 12:00 MSK.
    ticket = open_ticket(sla_world, utc(2025, 10, 31, 14), priority="p4")
    assert clock(ticket, "resolution").due_at == utc(2025, 11, 1, 9)


def test_new_year_holidays_on_the_production_calendar(sla_world):
    SlaPolicy.objects.create(
        contract=sla_world.contract,
        priority="p4",
        response_seconds=3600,
        resolution_seconds=4 * 3600,
        calendar=sla_world.presets["ru-production"],
    )
    # Wed 2025-12-31 is a day off by decree; 1–11 January 2026 are holidays and weekend.
    # Opened Tue 2025-12-30 17:00 MSK: 1 h that day (a normal day: the eve of a transferred
    # day off is not shortened), then 3 h from Mon 2026-01-12 09:00 → 12:00 MSK = 09:00Z.
    ticket = open_ticket(sla_world, utc(2025, 12, 30, 14), priority="p4")
    assert clock(ticket, "resolution").due_at == utc(2026, 1, 12, 9)


# --- pausing, stopping, reopening ----------------------------------------------------------


def test_pause_begun_in_hours_and_ended_outside_them_keeps_consumed_time(sla_world):
    # Mon 10:00 MSK opened; waiting for the client at 12:00 MSK (2 h consumed).
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    transition(sla_world, ticket, "waiting_client", utc(2026, 12, 7, 9))
    paused = clock(ticket, "resolution")
    assert (paused.state, paused.consumed_seconds, paused.due_at) == ("paused", 7200, None)
    # The client answers at 23:00 MSK (after closing): 6 h left from Tue 08:00 → 14:00 MSK.
    transition(sla_world, ticket, "new", utc(2026, 12, 7, 20), role="client_manager_a")
    resumed = clock(ticket, "resolution")
    assert (resumed.state, resumed.due_at) == ("running", utc(2026, 12, 8, 11))


def test_pause_entirely_outside_hours_changes_nothing(sla_world):
    # Opened Mon 21:00 MSK (due Tue 15:00 MSK, see above); paused 22:30–07:30 MSK: closed time.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 18))
    transition(sla_world, ticket, "waiting_client", utc(2026, 12, 7, 19, 30))
    transition(sla_world, ticket, "new", utc(2026, 12, 8, 4, 30))
    assert clock(ticket, "resolution").due_at == utc(2026, 12, 8, 12)


def test_first_public_reply_meets_the_response_and_resolution_is_missed_when_late(sla_world):
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    # A reply at 10:20 MSK, inside the 30 minutes.
    with time_machine.travel(utc(2026, 12, 7, 7, 20), tick=False):
        services.ticket_comment(
            actor=sla_world.actor("dispatcher"), ticket_id=ticket.pk, body="Смотрим"
        )
    assert clock(ticket, "response").state == "met"
    # Resolved Tue 09:00 MSK = 06:00Z, after the 18:00 MSK due: 1 h late in working time
    # (Mon 18:00–22:00 is 4 h of store hours, Tue 08:00–09:00 1 h → overdue 5 h).
    transition(sla_world, ticket, "resolved", utc(2026, 12, 8, 6))
    resolution = clock(ticket, "resolution")
    assert resolution.state == "breached"
    missed = TicketEvent.objects.get(ticket=ticket, kind="sla", data__change="missed")
    assert missed.data["overdue_seconds"] == 5 * 3600


def test_reopen_starts_a_new_resolution_cycle(sla_world):
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    transition(sla_world, ticket, "resolved", utc(2026, 12, 7, 8))
    assert clock(ticket, "resolution").state == "met"
    # Reopened Mon 13:00 MSK: a fresh 8 h → 21:00 MSK = 18:00Z, cycle 2.
    transition(sla_world, ticket, "new", utc(2026, 12, 7, 10), role="client_manager_a")
    again = clock(ticket, "resolution")
    assert (again.cycle, again.state, again.due_at) == (2, "running", utc(2026, 12, 7, 18))


# --- recomputation -------------------------------------------------------------------------


def test_retroactive_priority_change_recounts_from_the_start(sla_world):
    # P3 on office hours opened Mon 10:00 MSK: 16 h → Mon 8 h + Tue 8 h → Tue 17:00 MSK.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7), priority="p3")
    assert clock(ticket, "resolution").due_at == utc(2026, 12, 8, 14)
    # At 17:00 MSK it becomes P1: 8 h of store hours from 10:00 → 18:00 MSK = 15:00Z.
    with time_machine.travel(utc(2026, 12, 7, 14), tick=False):
        services.ticket_reclassify(
            actor=sla_world.actor("dispatcher"), ticket_id=ticket.pk, priority="p1"
        )
    resolution = clock(ticket, "resolution")
    assert (resolution.due_at, resolution.breached_at) == (utc(2026, 12, 7, 15), None)
    recomputed = TicketEvent.objects.get(
        ticket=ticket, kind="sla", data__metric="resolution", data__change="recomputed"
    )
    assert recomputed.data["reason"] == "priority_changed"


def test_priority_change_that_is_already_late_breaches_once_attributed_to_it(sla_world):
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7), priority="p3")
    # At 19:00 MSK it becomes P1, whose resolution was due 18:00 MSK: one breach, at once.
    with time_machine.travel(utc(2026, 12, 7, 16), tick=False):
        services.ticket_reclassify(
            actor=sla_world.actor("dispatcher"), ticket_id=ticket.pk, priority="p1"
        )
    resolution = clock(ticket, "resolution")
    assert resolution.breached_at == utc(2026, 12, 7, 16)
    breach = TicketEvent.objects.get(
        ticket=ticket, kind="sla", data__change="breach", data__metric="resolution"
    )
    assert breach.data["reason"] == "priority_changed"
    # (the response, due 10:30 MSK under P1, is breached by the change too) and the sweep at
    # the same moment records neither again
    assert escalation.sla_sweep(now=utc(2026, 12, 7, 16)).breaches == 0
    assert ClockThreshold.objects.filter(clock=resolution, kind="breach").count() == 1


def test_effective_dated_calendar_edit_keeps_consumed_time(sla_world):
    # A calendar of its own, Mon–Fri 09–18 in the store's zone; 16 h resolution.
    own = BusinessCalendar.objects.create(code="own", name="Own hours")
    WorkingInterval.objects.bulk_create(
        WorkingInterval(calendar=own, weekday=d, opens=time(9), closes=time(18)) for d in range(5)
    )
    SlaPolicy.objects.filter(contract=sla_world.contract, priority="p3").update(calendar=own)
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7), priority="p3")
    assert clock(ticket, "resolution").due_at == utc(2026, 12, 8, 14)
    # Mon 12:00 MSK the hours become 09–13 from that instant: 2 h consumed stay; 14 h left:
    # Mon 12–13 (1), Tue (4), Wed (4), Thu 09–14? no: Thu 09–13 (4) = 13, Fri 09–10 (1) = 14.
    edit_at = utc(2026, 12, 7, 9)
    with time_machine.travel(edit_at, tick=False):
        calendar_set_week(
            calendar=own,
            intervals=[(d, time(9), time(13)) for d in range(5)],
            effective_from=edit_at,
        )
        sla.clocks_follow_calendar_edit(calendar_id=own.pk, now=edit_at)
    # Fri 2026-12-11 10:00 MSK = 07:00Z.
    assert clock(ticket, "resolution").due_at == utc(2026, 12, 11, 7)


def test_partner_ola_counts_on_the_partners_own_calendar_from_assignment(sla_world):
    # Partner P works Mon–Sat 08–20 Moscow time; OLA: accept 30 min, arrive 3 h, resolve 6 h.
    partner_hours = BusinessCalendar.objects.create(
        code="partner-p", name="Partner P hours", time_zone="Europe/Moscow"
    )
    WorkingInterval.objects.bulk_create(
        WorkingInterval(calendar=partner_hours, weekday=d, opens=time(8), closes=time(20))
        for d in range(6)
    )
    contract = sla_world.partner_p.contracts.get()
    contract.ola_calendar = partner_hours
    contract.accept_within_seconds = 1800
    contract.arrive_within_seconds = 3 * 3600
    contract.resolve_within_seconds = 6 * 3600
    contract.save()
    # A field ticket opened Fri 10:00 MSK, assigned Sat 2026-12-12 19:00 MSK = 16:00Z.
    ticket = open_ticket(sla_world, utc(2026, 12, 11, 7), needs_visit=True)
    with time_machine.travel(utc(2026, 12, 12, 16), tick=False):
        services.ticket_assign(
            actor=sla_world.actor("dispatcher"),
            ticket_id=ticket.pk,
            partner_id=sla_world.partner_p.pk,
        )
    # Acceptance 30 min → 19:30 MSK = 16:30Z; started at the assignment, not the creation.
    acceptance = clock(ticket, "acceptance", "ola")
    assert (acceptance.started_at, acceptance.due_at) == (
        utc(2026, 12, 12, 16),
        utc(2026, 12, 12, 16, 30),
    )
    # Arrival 3 h: 1 h Saturday (19–20), Sunday closed, 2 h Monday from 08:00 → 10:00 MSK.
    assert clock(ticket, "arrival", "ola").due_at == utc(2026, 12, 14, 7)
    # OLA events are the provider's business with the partner: internal.
    assert (
        TicketEvent.objects.filter(
            ticket=ticket, kind="sla", data__agreement="ola", is_internal=False
        ).count()
        == 0
    )


def test_reassignment_cancels_the_first_partners_ola_but_keeps_its_breach(sla_world):
    contract = sla_world.partner_p.contracts.get()
    contract.accept_within_seconds = 600
    contract.save()
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    with time_machine.travel(utc(2026, 12, 7, 7), tick=False):
        services.ticket_assign(
            actor=sla_world.actor("dispatcher"),
            ticket_id=ticket.pk,
            partner_id=sla_world.partner_p.pk,
        )
    # Not accepted within 10 minutes: the sweep records the breach against partner P.
    assert escalation.sla_sweep(now=utc(2026, 12, 7, 7, 11)).breaches >= 1
    with time_machine.travel(utc(2026, 12, 7, 7, 15), tick=False):
        services.ticket_assign(
            actor=sla_world.actor("dispatcher"),
            ticket_id=ticket.pk,
            partner_id=sla_world.partner_q.pk,
        )
    first = SlaClock.objects.get(ticket=ticket, metric="acceptance", partner=sla_world.partner_p)
    second = SlaClock.objects.get(ticket=ticket, metric="acceptance", partner=sla_world.partner_q)
    assert (first.state, first.breached_at) == ("breached", utc(2026, 12, 7, 7, 10))
    assert (second.state, second.started_at) == ("running", utc(2026, 12, 7, 7, 15))


# --- the sweep -----------------------------------------------------------------------------


def test_sweep_records_warning_then_breach_once_each(sla_world):
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    response = clock(ticket, "response")
    # Before the warning point nothing happens.
    assert escalation.sla_sweep(now=utc(2026, 12, 7, 7, 22)).warnings == 0
    # At 07:22:30Z the response warning; a second sweep at the same moment records nothing.
    first = escalation.sla_sweep(now=utc(2026, 12, 7, 7, 22, 30))
    again = escalation.sla_sweep(now=utc(2026, 12, 7, 7, 22, 30))
    assert (first.warnings, first.breaches, again.warnings, again.breaches) == (1, 0, 0, 0)
    # At 07:30Z exactly the response is still on time (a reply now would meet it); a second
    # later it is breached, once, dated at its due.
    assert escalation.sla_sweep(now=utc(2026, 12, 7, 7, 30)).breaches == 0
    assert escalation.sla_sweep(now=utc(2026, 12, 7, 7, 30, 1)).breaches == 1
    assert escalation.sla_sweep(now=utc(2026, 12, 7, 7, 31)).breaches == 0
    response.refresh_from_db()
    assert (response.warned_at, response.breached_at, response.next_check_at) == (
        utc(2026, 12, 7, 7, 22, 30),
        utc(2026, 12, 7, 7, 30),
        utc(2026, 12, 7, 7, 30) and None,
    )
    kinds = list(
        TicketEvent.objects.filter(ticket=ticket, kind="sla", data__metric="response")
        .exclude(data__change="started")
        .values_list("data__change", flat=True)
    )
    assert kinds == ["warning", "breach"]


def test_sweep_escalation_notifies_each_dispatcher_once(
    sla_world, django_capture_on_commit_callbacks
):
    from servicedesk.models import Notification, OutboxMessage

    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    with django_capture_on_commit_callbacks(execute=True):
        escalation.sla_sweep(now=utc(2026, 12, 7, 7, 31))
    # The warning and the breach of the response, for the one dispatcher of the world
    notes = Notification.objects.filter(ticket_id=ticket.pk)
    assert sorted(notes.values_list("kind", flat=True)) == ["sla_breach", "sla_warning"]
    assert set(notes.values_list("recipient__username", flat=True)) == {"dispatcher"}
    assert OutboxMessage.objects.filter(dispatched_at__isnull=True).count() == 0
    # Running the escalation again (a retried task) adds nothing.
    message = OutboxMessage.objects.get()
    assert escalation.ticket_escalate(**message.payload) == 0
    assert notes.count() == 2


def test_overdue_time_is_measured_in_working_seconds(sla_world):
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    resolution = clock(ticket, "resolution")
    # Due Mon 18:00 MSK; at Tue 09:00 MSK it is 4 h (18–22) + 1 h (08–09) overdue.
    working = sla.clock_working_time(resolution)
    from calendars.business_time import working_seconds_between

    assert working_seconds_between(working, resolution.due_at, utc(2026, 12, 8, 6)) == 5 * 3600


def test_an_invalid_zone_is_a_validation_error_never_the_servers_zone(sla_world):
    from calendars.services import CalendarContext, calendar_zone

    with pytest.raises(ValidationFailed, match="not a valid time zone"):
        calendar_zone(sla_world.presets["office"], CalendarContext(time_zone="Mars/Olympus"))


def test_ola_looser_than_the_client_sla_is_refused(sla_world):
    contract = sla_world.partner_p.contracts.get()
    # The tightest client resolution target is 8 h (P1); a 10 h OLA cannot underpin it.
    contract.resolve_within_seconds = 10 * 3600
    with pytest.raises(ValidationFailed) as refused:
        sla.validate_ola_against_sla(contract)
    assert "resolve_within_seconds" in refused.value.fields
    contract.resolve_within_seconds = 6 * 3600
    sla.validate_ola_against_sla(contract)


def test_warning_threshold_counts_in_working_seconds(sla_world):
    SlaPolicy.objects.filter(contract=sla_world.contract, priority="p3").update(
        warning_threshold=Decimal("0.50")
    )
    # P3 opened Fri 2026-12-11 17:00 MSK: 16 h office time; half is 8 h: 1 h Friday, then
    # Monday 09:00 + 7 h → Mon 16:00 MSK = 13:00Z (not Saturday, as wall-clock would say).
    ticket = open_ticket(sla_world, utc(2026, 12, 11, 14), priority="p3")
    assert clock(ticket, "resolution").warn_at == utc(2026, 12, 14, 13)


def test_partner_given_a_waiting_ticket_starts_its_ola_paused(sla_world):
    contract = sla_world.partner_p.contracts.get()
    contract.resolve_within_seconds = 6 * 3600
    contract.save()
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    transition(sla_world, ticket, "waiting_client", utc(2026, 12, 7, 8))
    # Assigned while the ticket waits for the client: the partner's clock must not run.
    with time_machine.travel(utc(2026, 12, 7, 9), tick=False):
        services.ticket_assign(
            actor=sla_world.actor("dispatcher"),
            ticket_id=ticket.pk,
            partner_id=sla_world.partner_p.pk,
        )
    ola = clock(ticket, "resolution", "ola")
    assert (ola.state, ola.consumed_seconds, ola.due_at) == ("paused", 0, None)
    # When the client answers, it runs with its whole target ahead.
    transition(sla_world, ticket, "assigned", utc(2026, 12, 7, 10))
    assert clock(ticket, "resolution", "ola").state == "running"


def test_a_late_stop_records_the_breach_the_sweep_had_not_seen_yet(sla_world):
    # Response due 07:30Z; no sweep ran. The reply comes at 07:40Z.
    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    with time_machine.travel(utc(2026, 12, 7, 7, 40), tick=False):
        services.ticket_comment(actor=sla_world.actor("dispatcher"), ticket_id=ticket.pk, body="x")
    response = clock(ticket, "response")
    # Then the warning and the breach are recorded at their own instants, then "missed".
    assert (response.state, response.warned_at, response.breached_at) == (
        "breached",
        utc(2026, 12, 7, 7, 22, 30),
        utc(2026, 12, 7, 7, 30),
    )
    changes = list(
        TicketEvent.objects.filter(ticket=ticket, kind="sla", data__metric="response")
        .order_by("created_at", "id")
        .values_list("data__change", flat=True)
    )
    assert changes == ["started", "warning", "breach", "missed"]
    # And a sweep afterwards finds nothing more to record.
    assert escalation.sla_sweep(now=utc(2026, 12, 7, 7, 41)).breaches == 0


def test_cancelling_a_waiting_ticket_ends_its_pause(sla_world):
    from sla.models import SlaPause

    ticket = open_ticket(sla_world, utc(2026, 12, 7, 7))
    # Paused at 08:00Z, after the response was due (07:30Z): the pause records that breach.
    transition(sla_world, ticket, "waiting_client", utc(2026, 12, 7, 8))
    transition(sla_world, ticket, "cancelled", utc(2026, 12, 7, 9))
    assert SlaPause.objects.get(ticket=ticket).ended_at == utc(2026, 12, 7, 9)
    assert (clock(ticket, "response").state, clock(ticket, "resolution").state) == (
        "breached",
        "cancelled",
    )
