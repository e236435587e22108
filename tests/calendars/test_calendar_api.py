"""/api/v1/calendars/: reference data every actor reads; provider admins create and edit.

An edit of the weekly hours takes effect from an instant: running clocks keep the working
time they consumed and count the rest on the new hours, and each moved clock leaves an SLA
event on its ticket. Dates: 2026-10-05 is a Monday; Moscow is UTC+3 all year.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendars import business_time as bt
from calendars.models import BusinessCalendar, CalendarException, WorkingInterval
from calendars.services import calendar_create
from sla.models import SlaClock, SlaPolicy
from sla.services import clock_working_time
from tests.factories import ClientContractFactory, TicketFactory
from tickets import clocks, sla_admin
from tickets.models import TicketEvent

URL = "/api/v1/calendars/"
H = 3600
NOW = datetime(2026, 10, 5, 9, tzinfo=UTC)  # Monday 12:00 MSK

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def frozen_now(monkeypatch) -> datetime:
    """Calendar edits recount running clocks at "now"; pin it so expected instants are exact.

    Only the edit's own clock is pinned: rows keep real ``updated_at`` stamps, which key the
    working-time cache.
    """
    monkeypatch.setattr(sla_admin, "timezone", SimpleNamespace(now=lambda: NOW))
    return NOW


@pytest.fixture
def shops(db) -> BusinessCalendar:
    return calendar_create(
        actor=None,
        code="shops",
        name="Shops, Mon–Fri 09–18",
        intervals=[(d, time(9), time(18)) for d in range(5)],
    )


@pytest.fixture
def running_clock(world, shops) -> SlaClock:
    """Client A's P2 resolution clock (16 working hours on ``shops``) of a ticket opened at
    store A1 on Monday 10:00 MSK: Mon 10–18 (8 h) + Tue 09–17 (8 h) → due Tue 17:00 MSK
    = 14:00 UTC."""
    SlaPolicy.objects.create(
        contract=ClientContractFactory(client=world.client_a),
        priority="p2",
        response_seconds=H,
        resolution_seconds=16 * H,
        calendar=shops,
    )
    ticket = TicketFactory(
        store=world.store_a1, created_at=utc(2026, 10, 5, 7), number=500, priority="p2"
    )
    clocks.on_created(ticket=ticket, actor=world.actor("dispatcher"))
    clock = SlaClock.objects.get(ticket=ticket, metric="resolution")
    assert clock.due_at == utc(2026, 10, 6, 14)
    return clock


def _calendar_events(clock: SlaClock) -> list[dict]:
    return [
        e.data
        for e in TicketEvent.objects.filter(ticket_id=clock.ticket_id, kind="sla").order_by("pk")
        if e.data.get("reason") == "calendar_edit" and e.data["clock_id"] == clock.pk
    ]


# --------------------------------------------------------------------- reads


@pytest.mark.parametrize(
    "role", ["provider_admin", "dispatcher", "client_manager_a", "store_staff_a1", "engineer_p"]
)
def test_every_actor_reads_calendars_with_their_hours(world, api_for, role):
    response = api_for(world.users[role]).get(URL, {"page_size": 200})

    assert response.status_code == 200
    office = next(c for c in response.json()["results"] if c["code"] == "office")
    assert office["uses_store_zone"] is True
    assert [(i["weekday"], i["opens"], i["closes"]) for i in office["intervals"]] == [
        (d, "09:00:00", "18:00:00") for d in range(5)
    ]


def test_a_calendar_shows_its_dated_exceptions(world, api_for, shops):
    CalendarException.objects.create(calendar=shops, day="2026-12-31", kind="day_off")

    response = api_for(world.users["client_manager_a"]).get(f"{URL}{shops.pk}/")

    assert response.status_code == 200
    assert [(e["day"], e["kind"]) for e in response.json()["exceptions"]] == [
        ("2026-12-31", "day_off")
    ]


def test_calendars_need_an_actor(world, api_for):
    assert api_for(world.users["nobody"]).get(URL).status_code in (401, 403)


# --------------------------------------------------------------------- create


def test_provider_admin_creates_a_calendar(world, api_for):
    response = api_for(world.users["provider_admin"]).post(
        URL,
        {
            "code": "night",
            "name": "Nights",
            "time_zone": "Asia/Vladivostok",
            "intervals": [{"weekday": d, "opens": "22:00", "closes": "06:00"} for d in range(7)],
        },
    )

    assert response.status_code == 201, response.content
    calendar = BusinessCalendar.objects.get(code="night")
    assert calendar.time_zone == "Asia/Vladivostok"
    assert calendar.intervals.count() == 7
    assert response.json()["intervals"][0] == {
        "weekday": 0,
        "opens": "22:00:00",
        "closes": "06:00:00",
        "effective_from": None,
        "effective_until": None,
    }


@pytest.mark.parametrize("role", ["dispatcher", "client_manager_a", "partner_manager_p"])
def test_only_provider_admins_create_calendars(world, api_for, role):
    count = BusinessCalendar.objects.count()

    response = api_for(world.users[role]).post(URL, {"code": "x", "name": "X"})

    assert response.status_code == 403
    assert BusinessCalendar.objects.count() == count


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "IANA"),
        ({"code": "office"}, "code", "exists"),
        ({"holiday_region": "TATAR"}, "holiday_region", "ISO 3166-2"),
        (
            {"intervals": [{"weekday": 0, "opens": "10:00", "closes": "10:00"}]},
            "intervals",
            "empty",
        ),
        (
            {"intervals": [{"weekday": 7, "opens": "10:00", "closes": "11:00"}]},
            "intervals",
            "valid",
        ),
    ],
)
def test_invalid_calendars_are_400s_and_nothing_is_written(world, api_for, change, field, fragment):
    count = BusinessCalendar.objects.count()

    response = api_for(world.users["provider_admin"]).post(
        URL, {"code": "new", "name": "New", **change}
    )

    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    messages = [m for key, ms in fields.items() if key.split(".")[0] == field for m in ms]
    assert fragment in " ".join(messages)
    assert BusinessCalendar.objects.count() == count


# --------------------------------------------------------------------- edits move running clocks


def test_new_weekly_hours_from_an_instant_move_a_running_clock(
    world, api_for, shops, running_clock, frozen_now
):
    # Given the clock has run on the old hours since Monday 10:00 MSK
    effective = utc(2026, 10, 5, 21)  # Tuesday 00:00 MSK
    consumed_before = running_clock.consumed_seconds

    # When the admin shortens the week to 09:00–13:00 from Tuesday on
    response = api_for(world.users["provider_admin"]).patch(
        f"{URL}{shops.pk}/",
        {
            "intervals": [{"weekday": d, "opens": "09:00", "closes": "13:00"} for d in range(5)],
            "effective_from": "2026-10-06T00:00:00+03:00",
        },
    )

    # Then Monday still counts 10–18 (8 h) on the old hours, Tuesday and Wednesday 09–13
    # (4 h each) on the new ones: due Wed 13:00 MSK = 10:00 UTC
    assert response.status_code == 200, response.content
    running_clock.refresh_from_db()
    assert running_clock.due_at == utc(2026, 10, 7, 10)
    # And the working time already behind the edit's instant is unchanged
    assert running_clock.consumed_seconds == consumed_before
    working = clock_working_time(running_clock)
    assert bt.working_seconds_between(working, running_clock.started_at, effective) == 8 * H
    # And the move is on the ticket's timeline, with where the due was before
    [event] = _calendar_events(running_clock)
    assert event["change"] == "recomputed"
    assert event["previous_due_at"] == "2026-10-06T14:00:00+00:00"
    assert event["due_at"] == "2026-10-07T10:00:00+00:00"
    # And the representation shows the week in force (the real today is past the instant)
    shown = {(i["opens"], i["closes"], i["effective_from"]) for i in response.json()["intervals"]}
    assert shown == {("09:00:00", "13:00:00", "2026-10-05T21:00:00Z")}


def test_effective_from_must_carry_an_offset(world, api_for, shops):
    response = api_for(world.users["provider_admin"]).patch(
        f"{URL}{shops.pk}/",
        {
            "intervals": [{"weekday": 0, "opens": "09:00", "closes": "13:00"}],
            "effective_from": "2026-10-06T00:00:00",
        },
    )

    assert response.status_code == 400
    assert "offset" in response.json()["error"]["fields"]["effective_from"][0]
    assert not WorkingInterval.objects.filter(calendar=shops, effective_from__isnull=False).exists()


def test_dispatcher_cannot_edit_hours(world, api_for, shops, running_clock):
    response = api_for(world.users["dispatcher"]).patch(
        f"{URL}{shops.pk}/", {"intervals": [], "name": "Closed"}
    )

    assert response.status_code == 403
    shops.refresh_from_db()
    assert shops.name == "Shops, Mon–Fri 09–18"
    assert shops.intervals.count() == 5


def test_rename_leaves_the_hours_alone(world, api_for, shops, running_clock):
    response = api_for(world.users["provider_admin"]).patch(f"{URL}{shops.pk}/", {"name": "Shops"})

    assert response.status_code == 200
    assert response.json()["name"] == "Shops"
    assert _calendar_events(running_clock) == []


def test_a_day_off_moves_a_running_clock_and_removing_it_moves_it_back(
    world, api_for, shops, running_clock, frozen_now
):
    api = api_for(world.users["provider_admin"])

    # When Tuesday becomes a day off
    added = api.post(f"{URL}{shops.pk}/exceptions/", {"day": "2026-10-06", "kind": "day_off"})

    # Then Mon 10–18 (8 h) + Wed 09–17 (8 h): due Wed 17:00 MSK = 14:00 UTC
    assert added.status_code == 201, added.content
    running_clock.refresh_from_db()
    assert running_clock.due_at == utc(2026, 10, 7, 14)

    # When the day off is removed again
    removed = api.delete(f"{URL}{shops.pk}/exceptions/{added.json()['id']}/")

    # Then the clock is due on Tuesday 17:00 MSK again; both moves are on the timeline
    assert removed.status_code == 204
    running_clock.refresh_from_db()
    assert running_clock.due_at == utc(2026, 10, 6, 14)
    assert [e["due_at"] for e in _calendar_events(running_clock)] == [
        "2026-10-07T14:00:00+00:00",
        "2026-10-06T14:00:00+00:00",
    ]


def test_a_working_saturday_with_its_own_hours(world, api_for, shops, running_clock, frozen_now):
    # Saturday 2026-10-10 works 10:00–14:00: not before the due, so the clock stays
    response = api_for(world.users["provider_admin"]).post(
        f"{URL}{shops.pk}/exceptions/",
        {"day": "2026-10-10", "kind": "working", "opens": "10:00", "closes": "14:00"},
    )

    assert response.status_code == 201
    assert response.json()["opens"] == "10:00:00"
    running_clock.refresh_from_db()
    assert running_clock.due_at == utc(2026, 10, 6, 14)
    assert _calendar_events(running_clock) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"day": "2026-10-06", "kind": "day_off", "opens": "10:00"}, "opens"),
        ({"day": "2026-10-06", "kind": "working"}, "opens"),
        ({"day": "2026-10-06", "kind": "holiday"}, "kind"),
        ({"day": "06.10.2026", "kind": "day_off"}, "day"),
    ],
)
def test_invalid_exceptions_are_400s(world, api_for, shops, body, field):
    response = api_for(world.users["provider_admin"]).post(f"{URL}{shops.pk}/exceptions/", body)

    assert response.status_code == 400
    assert response.json()["error"]["fields"][field]
    assert not CalendarException.objects.filter(calendar=shops).exists()


def test_only_provider_admins_add_exceptions(world, api_for, shops):
    response = api_for(world.users["client_manager_a"]).post(
        f"{URL}{shops.pk}/exceptions/", {"day": "2026-10-06", "kind": "day_off"}
    )

    assert response.status_code == 403
    assert not CalendarException.objects.filter(calendar=shops).exists()


def test_removing_an_exception_of_another_calendar_is_a_404(world, api_for, shops):
    other = calendar_create(actor=None, code="other", name="Other")
    row = CalendarException.objects.create(calendar=other, day="2026-10-06", kind="day_off")

    response = api_for(world.users["provider_admin"]).delete(
        f"{URL}{shops.pk}/exceptions/{row.pk}/"
    )

    assert response.status_code == 404
    assert CalendarException.objects.filter(pk=row.pk).exists()


def _list_queries(api, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url).status_code == 200
    return len(queries)


def test_calendar_list_queries_do_not_grow_with_calendars(world, api_for):
    api = api_for(world.users["dispatcher"])
    baseline = _list_queries(api, URL)

    for n in range(5):
        calendar = calendar_create(
            actor=None,
            code=f"c{n}",
            name=f"C{n}",
            intervals=[(d, time(8), time(20)) for d in range(7)],
        )
        CalendarException.objects.create(calendar=calendar, day="2026-12-31", kind="day_off")

    assert _list_queries(api, URL) <= baseline
