"""The correction tool: recount chosen tickets' clocks from their start on a corrected calendar.

The story in every test: client A's stores work Mon–Fri 09:00–18:00 (the store's zone,
Moscow = UTC+3), P2 promises a response within 2 h and a fix within 8 h, and somebody
forgot a day off. 2026-03-06 is a Friday; Monday 2026-03-09 was the observed Women's Day
holiday, which this calendar did not have.
"""

from __future__ import annotations

import io
from datetime import date, time

import pytest
from django.core.management import call_command

from calendars.services import calendar_create, calendar_exception_add
from servicedesk.exceptions import PermissionDenied
from sla import services as sla
from sla.models import ClockThreshold, SlaClock
from tests.sla.conftest import H, utc
from tickets import clocks as ticket_clocks
from tickets import sla_admin
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def calendar(db):
    return calendar_create(
        actor=None,
        code="shops",
        name="Shops, Mon–Fri 09–18",
        intervals=[(d, time(9), time(18)) for d in range(5)],
    )


@pytest.fixture
def policy(calendar, make_policy):
    return make_policy(calendar, response_seconds=2 * H, resolution_seconds=8 * H)


@pytest.fixture
def closed_ticket(world, policy, ticket_opened_at) -> Ticket:
    """Opened Fri 16:00 MSK, answered Fri 17:00, resolved Mon 16:00 MSK, then closed.

    On the calendar as it was: response due Fri 18:00 MSK (met); resolution Fri 16–18
    (2 h) + Mon 09–15 (6 h) → due Mon 15:00 MSK = 12:00 UTC, resolved an hour late (missed).
    """
    dispatcher = world.actor("dispatcher")
    ticket = ticket_opened_at(world.store_a1, at=utc(2026, 3, 6, 13), status="on_site")
    ticket_clocks.on_first_response(ticket=ticket, actor=dispatcher, at=utc(2026, 3, 6, 14))
    ticket_clocks.on_status_changed(
        ticket=ticket,
        actor=dispatcher,
        from_status="on_site",
        to_status="resolved",
        previous_partner_id=None,
        at=utc(2026, 3, 9, 13),
    )
    Ticket.objects.filter(pk=ticket.pk).update(status="closed", closed_at=utc(2026, 3, 10, 9))
    return ticket


def _clock(ticket: Ticket, metric: str) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, metric=metric)


def _snapshot() -> dict[str, list[tuple]]:
    """Every row the correction could touch, field for field."""
    return {
        "clocks": list(SlaClock.objects.order_by("pk").values_list()),
        "thresholds": list(ClockThreshold.objects.order_by("pk").values_list()),
        "events": list(TicketEvent.objects.order_by("pk").values_list()),
    }


def _correct_the_calendar(calendar, day: date = date(2026, 3, 9)) -> None:
    calendar_exception_add(calendar=calendar, day=day, kind="day_off", note="forgotten")


def _rows(report) -> dict[str, sla_admin.CorrectionRow]:
    return {row.metric: row for row in report.rows}


# --------------------------------------------------------------------- closed ticket


def test_dry_run_reports_before_and_after_and_writes_nothing(world, calendar, closed_ticket):
    # Given the closed ticket as recorded, and then the holiday added to the calendar
    assert _clock(closed_ticket, "resolution").state == "breached"
    _correct_the_calendar(calendar)
    before = _snapshot()

    # When the provider admin asks for a dry run
    report = sla_admin.clocks_correction(
        actor=world.actor("provider_admin"), ticket_ids=[closed_ticket.pk], dry_run=True
    )

    # Then the report shows the resolution clock moving from Mon 15:00 MSK (missed) to
    # Tue 15:00 MSK = 12:00 UTC: Fri 16–18 (2 h), Monday off, Tue 09–15 (6 h); it was
    # resolved Mon 16:00 MSK, before that: met. The response clock does not change.
    rows = _rows(report)
    assert report.dry_run and report.changed == 1
    resolution = rows["resolution"]
    assert resolution.reference == closed_ticket.reference
    assert (resolution.agreement, resolution.changed) == ("sla", True)
    assert resolution.before.due_at == utc(2026, 3, 9, 12)
    assert resolution.before.outcome == "breached"
    assert resolution.after.due_at == utc(2026, 3, 10, 12)
    assert resolution.after.outcome == "met"
    assert rows["response"].changed is False
    assert rows["response"].after.due_at == utc(2026, 3, 6, 15)
    # And not a row changed anywhere
    assert _snapshot() == before


def test_apply_changes_the_outcome_of_a_closed_ticket_with_one_event(
    world, calendar, closed_ticket
):
    # Given the corrected calendar
    _correct_the_calendar(calendar)
    events_before = TicketEvent.objects.filter(ticket=closed_ticket).count()

    # When the correction is applied
    report = sla_admin.clocks_correction(
        actor=world.actor("provider_admin"), ticket_ids=[closed_ticket.pk], dry_run=False
    )

    # Then the resolution clock is met, due Tue 12:00 UTC, with 2 working hours consumed
    # (Fri 16–18; Monday was off) …
    assert report.changed == 1
    clock = _clock(closed_ticket, "resolution")
    assert clock.state == "met"
    assert clock.due_at == utc(2026, 3, 10, 12)
    assert clock.consumed_seconds == 2 * H
    assert clock.breached_at is None
    # … the response clock is untouched, and exactly one SLA event records the change
    assert _clock(closed_ticket, "response").state == "met"
    new_events = TicketEvent.objects.filter(ticket=closed_ticket).order_by("pk")[events_before:]
    assert [(e.kind, e.data["change"], e.data["reason"]) for e in new_events] == [
        ("sla", "recomputed", "calendar_correction")
    ]
    data = new_events[0].data
    assert data["clock_id"] == clock.pk
    assert (data["previous_outcome"], data["outcome"]) == ("breached", "met")
    assert data["previous_due_at"] == "2026-03-09T12:00:00+00:00"
    assert new_events[0].actor_id == world.users["provider_admin"].pk


def test_a_second_apply_finds_nothing_to_change(world, calendar, closed_ticket):
    _correct_the_calendar(calendar)
    admin = world.actor("provider_admin")
    sla_admin.clocks_correction(actor=admin, ticket_ids=[closed_ticket.pk], dry_run=False)
    before = _snapshot()

    report = sla_admin.clocks_correction(actor=admin, ticket_ids=[closed_ticket.pk], dry_run=False)

    assert report.changed == 0
    assert _snapshot() == before


def test_a_dispatcher_may_not_correct_clocks(world, calendar, closed_ticket):
    with pytest.raises(PermissionDenied):
        sla_admin.clocks_correction(
            actor=world.actor("dispatcher"), ticket_ids=[closed_ticket.pk], dry_run=False
        )


# --------------------------------------------------------------------- running tickets


@pytest.fixture
def running_ticket(world, policy, ticket_opened_at) -> Ticket:
    """Opened Tue 2026-03-10 10:00 MSK, answered 10:30, waiting for the client 11:00–13:00.

    Resolution on the uncorrected calendar: Tue 10–11 (1 h), pause, 13–18 (5 h), Wed 09–11
    (2 h) → due Wed 11:00 MSK = 08:00 UTC; warning at 6 h → Tue 18:00 MSK = 15:00 UTC.
    """
    ticket = ticket_opened_at(world.store_a1, at=utc(2026, 3, 10, 7), status="accepted")
    sla.clocks_stop(ticket_id=ticket.pk, metrics=["response"], at=utc(2026, 3, 10, 7, 30))
    sla.clocks_pause(ticket_id=ticket.pk, status="waiting_client", at=utc(2026, 3, 10, 8))
    sla.clocks_resume(ticket_id=ticket.pk, at=utc(2026, 3, 10, 10))
    clock = _clock(ticket, "resolution")
    assert (clock.due_at, clock.warn_at) == (utc(2026, 3, 11, 8), utc(2026, 3, 10, 15))
    return ticket


def test_running_clock_is_recounted_from_its_start_with_the_recorded_pauses(
    world, calendar, running_ticket
):
    # Given Wednesday was in fact a day off
    _correct_the_calendar(calendar, day=date(2026, 3, 11))

    # When the correction is applied on Tuesday at 15:00 MSK
    now = utc(2026, 3, 10, 12)
    report = sla_admin.clocks_correction(
        actor=None, ticket_ids=[running_ticket.pk], dry_run=False, now=now
    )

    # Then the fix is due Thu 11:00 MSK = 08:00 UTC (Wednesday off), the warning stays at
    # Tue 18:00 MSK, and the consumed time is Tue 10–11 + 13–15 = 3 h (the pause excluded)
    assert report.changed == 1
    clock = _clock(running_ticket, "resolution")
    assert clock.state == "running"
    assert clock.due_at == utc(2026, 3, 12, 8)
    assert clock.warn_at == utc(2026, 3, 10, 15)
    assert clock.next_check_at == clock.warn_at
    assert (clock.consumed_seconds, clock.running_since) == (3 * H, now)
    row = _rows(report)["resolution"]
    assert (row.before.outcome, row.after.outcome) == ("pending", "pending")


def test_a_breach_the_corrected_calendar_no_longer_reaches_is_withdrawn(
    world, calendar, running_ticket
):
    # Given the sweep breached the clock on Wednesday at 12:00 MSK (due was 11:00 MSK)
    now = utc(2026, 3, 11, 9)
    sla.sweep_batch(now=now)
    clock = _clock(running_ticket, "resolution")
    assert clock.breached_at is not None and clock.warned_at is not None
    assert set(ClockThreshold.objects.filter(clock=clock).values_list("kind", flat=True)) == {
        "warning",
        "breach",
    }

    # When Wednesday turns out to be a day off and the clock is recounted at that moment
    _correct_the_calendar(calendar, day=date(2026, 3, 11))
    sla_admin.clocks_correction(actor=None, ticket_ids=[running_ticket.pk], dry_run=False, now=now)

    # Then it is due Thu 11:00 MSK again: the breach is withdrawn, the warning (Tue 18:00,
    # still reached) stays, and the next check is the new due
    clock.refresh_from_db()
    assert clock.breached_at is None
    assert clock.warned_at is not None
    assert clock.due_at == utc(2026, 3, 12, 8)
    assert clock.next_check_at == clock.due_at
    assert list(ClockThreshold.objects.filter(clock=clock).values_list("kind", flat=True)) == [
        "warning"
    ]


# --------------------------------------------------------------------- interfaces


def test_recompute_endpoint_dry_run_then_apply(world, api_for, calendar, closed_ticket):
    _correct_the_calendar(calendar)
    api = api_for(world.users["provider_admin"])
    before = _snapshot()

    dry = api.post("/api/v1/sla/recompute/", {"tickets": [closed_ticket.pk]})

    assert dry.status_code == 200, dry.content
    assert _snapshot() == before
    body = dry.json()
    assert (body["dry_run"], body["changed"]) == (True, 1)
    row = next(r for r in body["clocks"] if r["metric"] == "resolution")
    assert row["reference"] == closed_ticket.reference
    assert row["before"]["due_at"] == "2026-03-09T12:00:00Z"
    assert row["before"]["outcome"] == "breached"
    assert row["after"]["due_at"] == "2026-03-10T12:00:00Z"
    assert row["after"]["outcome"] == "met"

    applied = api.post("/api/v1/sla/recompute/", {"tickets": [closed_ticket.pk], "apply": True})

    assert applied.status_code == 200
    assert applied.json()["dry_run"] is False
    assert _clock(closed_ticket, "resolution").state == "met"


def test_command_prints_the_report_and_applies_only_when_asked(calendar, closed_ticket):
    _correct_the_calendar(calendar)
    out = io.StringIO()

    call_command("sla_recompute", "--tickets", closed_ticket.reference, stdout=out)

    assert "1 of 2 clocks would change" in out.getvalue()
    assert f"* {closed_ticket.reference} sla/resolution" in out.getvalue()
    assert _clock(closed_ticket, "resolution").state == "breached"

    call_command("sla_recompute", "--client", "AAA", "--since", "2026-03-01", "--apply", stdout=out)

    assert "1 of 2 clocks changed" in out.getvalue()
    assert _clock(closed_ticket, "resolution").state == "met"
