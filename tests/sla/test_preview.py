"""POST /api/v1/sla/preview/: deadlines without a ticket, counted as real clocks count them.

Every expected instant was worked out by hand; the comments give the reasoning. Moscow is
UTC+3 and Kamchatka UTC+12 all year (neither has DST). 2026-10-02 is a Friday, 2026-10-05
a Monday, and October 2026 has no Russian public holiday.
"""

from __future__ import annotations

from datetime import datetime, time

import pytest

from calendars.services import calendar_create
from sla import selectors
from sla.models import SlaPolicy
from tests.sla.conftest import H

URL = "/api/v1/sla/preview/"

pytestmark = pytest.mark.django_db


def _targets(body: dict) -> dict[str, dict]:
    return {row["metric"]: row for row in body["targets"]}


@pytest.fixture
def night_access():
    """A mall that lets engineers in at night only: 22:00–06:00 every day, store's zone."""
    return calendar_create(
        actor=None,
        code="mall-night",
        name="Mall, nights only",
        intervals=[(d, time(22), time(6)) for d in range(7)],
    )


# --------------------------------------------------------------------- (a) store question


def test_same_utc_instant_gives_different_dues_in_moscow_and_kamchatka(
    world, api_for, presets, make_policy
):
    # Given client A's P2 policy on the office calendar (Mon–Fri 09–18, the store's own
    # zone): response 2 h, resolution 8 h, warning at 75 %.
    make_policy(presets["office"], response_seconds=2 * H, resolution_seconds=8 * H)
    api = api_for(world.users["dispatcher"])
    start = "2026-10-05T03:00:00Z"  # Monday 03:00 UTC

    # When both of client A's stores are asked at the same UTC instant
    moscow = api.post(URL, {"store": world.store_a1.pk, "priority": "p2", "start": start})
    kamchatka = api.post(URL, {"store": world.store_a2.pk, "priority": "p2", "start": start})

    # Then Moscow (06:00 local, before opening) counts from 09:00 MSK:
    #   response 09:00 + 2 h = 11:00 MSK = 08:00 UTC; warning at 1.5 h = 10:30 MSK;
    #   resolution 09:00 + 8 h = 17:00 MSK = 14:00 UTC.
    assert moscow.status_code == 200, moscow.content
    body = moscow.json()
    assert body["time_zone"] == "Europe/Moscow"
    assert body["start_local"] == "2026-10-05T06:00:00+03:00"
    m = _targets(body)
    assert set(m) == {"response", "resolution"}  # this policy has no arrival target
    assert m["response"]["due_at"] == "2026-10-05T08:00:00Z"
    assert m["response"]["due_at_local"] == "2026-10-05T11:00:00+03:00"
    assert m["response"]["warn_at"] == "2026-10-05T07:30:00Z"
    assert m["response"]["warn_at_local"] == "2026-10-05T10:30:00+03:00"
    assert m["resolution"]["due_at"] == "2026-10-05T14:00:00Z"
    # And Kamchatka (15:00 local, three working hours left on Monday) counts from now:
    #   response 15:00 + 2 h = 17:00 PETT = 05:00 UTC; warning 16:30 PETT = 04:30 UTC;
    #   resolution 3 h on Monday (15–18) + 5 h on Tuesday (09–14) = Tue 14:00 PETT
    #   = Tue 02:00 UTC.
    assert kamchatka.status_code == 200, kamchatka.content
    body = kamchatka.json()
    assert body["time_zone"] == "Asia/Kamchatka"
    k = _targets(body)
    assert k["response"]["due_at"] == "2026-10-05T05:00:00Z"
    assert k["response"]["due_at_local"] == "2026-10-05T17:00:00+12:00"
    assert k["response"]["warn_at"] == "2026-10-05T04:30:00Z"
    assert k["resolution"]["due_at"] == "2026-10-06T02:00:00Z"
    assert k["resolution"]["due_at_local"] == "2026-10-06T14:00:00+12:00"


def test_arrival_counts_only_in_the_stores_night_access_window(
    world, api_for, presets, make_policy, night_access
):
    # Given a 24×7 policy with a 4-hour arrival target, and Monday 12:00 MSK (09:00 UTC)
    make_policy(presets["24x7"], arrival_seconds=4 * H, response_seconds=H)
    api = api_for(world.users["provider_admin"])
    ask = {"store": world.store_a1.pk, "priority": "p2", "start": "2026-10-05T09:00:00Z"}
    open_all_day = _targets(api.post(URL, ask).json())

    # When the store can only be entered 22:00–06:00
    world.store_a1.access_calendar = night_access
    world.store_a1.save(update_fields=["access_calendar"])
    night = _targets(api.post(URL, ask).json())

    # Then without the window arrival is 12:00 + 4 h = 16:00 MSK = 13:00 UTC (warning at
    # 3 h, 15:00 MSK); with it counting starts at 22:00 MSK and ends Tue 02:00 MSK = Mon
    # 23:00 UTC (warning Tue 01:00 MSK = Mon 22:00 UTC). Response ignores the window.
    assert open_all_day["arrival"]["due_at"] == "2026-10-05T13:00:00Z"
    assert open_all_day["arrival"]["warn_at"] == "2026-10-05T12:00:00Z"
    assert open_all_day["arrival"]["access_window"] is None
    assert night["arrival"]["due_at"] == "2026-10-05T23:00:00Z"
    assert night["arrival"]["due_at_local"] == "2026-10-06T02:00:00+03:00"
    assert night["arrival"]["warn_at"] == "2026-10-05T22:00:00Z"
    assert night["arrival"]["access_window"]["code"] == "mall-night"
    assert night["response"]["due_at"] == open_all_day["response"]["due_at"]
    assert night["response"]["due_at"] == "2026-10-05T10:00:00Z"


def test_a_target_that_can_never_be_reached_is_a_400(
    world, api_for, presets, make_policy, night_access
):
    # Given store hours 08:00–22:00 and access 22:00–06:00: they never overlap
    make_policy(presets["store-hours"], arrival_seconds=4 * H)
    world.store_a1.access_calendar = night_access
    world.store_a1.save(update_fields=["access_calendar"])

    # When the store question is asked
    response = api_for(world.users["dispatcher"]).post(
        URL, {"store": world.store_a1.pk, "priority": "p2", "start": "2026-10-05T09:00:00Z"}
    )

    # Then it is a clear 400, not a 500
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "no_working_time"
    assert "never be reached" in error["fields"]["store"][0]


def test_store_question_without_a_policy_names_the_priority(world, api_for, presets, make_policy):
    make_policy(presets["office"], priority="p1")

    response = api_for(world.users["dispatcher"]).post(
        URL, {"store": world.store_a1.pk, "priority": "p3", "start": "2026-10-05T09:00:00Z"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_policy"
    assert "P3" in response.json()["error"]["fields"]["priority"][0]


def test_a_store_the_actor_cannot_see_is_refused_like_a_missing_one(
    world, api_for, presets, make_policy
):
    # Given client A's policy and client B's manager
    make_policy(presets["office"])
    api = api_for(world.users["client_manager_b"])

    # When B asks about A's store, and about a store that does not exist
    foreign = api.post(URL, {"store": world.store_a1.pk, "priority": "p2"})
    missing = api.post(URL, {"store": 999_999, "priority": "p2"})

    # Then both answers are the same field error
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["error"]["fields"]["store"] == [f"Unknown store: {world.store_a1.pk}."]


def test_client_manager_may_ask_about_its_own_store(world, api_for, presets, make_policy):
    make_policy(presets["office"])

    response = api_for(world.users["client_manager_a"]).post(
        URL, {"store": world.store_a1.pk, "priority": "p2", "start": "2026-10-05T09:00:00Z"}
    )

    assert response.status_code == 200
    assert _targets(response.json())["response"]["due_at"] == "2026-10-05T11:00:00Z"


def test_partners_may_not_see_the_client_sla(world, api_for, presets, make_policy):
    make_policy(presets["office"])

    response = api_for(world.users["partner_manager_p"]).post(
        URL, {"store": world.store_a1.pk, "priority": "p2"}
    )

    assert response.status_code == 403


def test_naive_start_is_refused_not_read_in_the_servers_zone(world, api_for, presets, make_policy):
    make_policy(presets["office"])

    response = api_for(world.users["dispatcher"]).post(
        URL, {"store": world.store_a1.pk, "priority": "p2", "start": "2026-10-05T09:00:00"}
    )

    assert response.status_code == 400
    assert "offset" in response.json()["error"]["fields"]["start"][0]


def test_store_preview_uses_the_same_numbers_as_a_real_ticket(
    world, presets, make_policy, ticket_opened_at
):
    # Given a policy and a ticket opened at a known instant (its clocks are the engine's)
    make_policy(presets["office"], arrival_seconds=6 * H)
    ticket = ticket_opened_at(
        world.store_a2, at=datetime.fromisoformat("2026-10-05T03:00:00Z"), needs_visit=True
    )

    # When the preview is asked for the same store, priority and instant
    preview = selectors.preview_for_store(
        actor=world.actor("dispatcher"),
        store_id=world.store_a2.pk,
        priority="p2",
        category="hardware",
        start=ticket.created_at,
    )

    # Then every target's due and warning equal the clock's
    clocks = {c.metric: c for c in ticket.clocks.all()}
    assert (
        {t.metric for t in preview.targets}
        == set(clocks)
        == {
            "response",
            "arrival",
            "resolution",
        }
    )
    for target in preview.targets:
        assert (target.due_at, target.warn_at) == (
            clocks[target.metric].due_at,
            clocks[target.metric].warn_at,
        )


# --------------------------------------------------------------------- (b) calculator


def test_calculator_friday_evening_on_the_office_calendar_with_pauses(world, api_for, presets):
    # Given Friday 17:00 MSK, a 4-hour target on Mon–Fri 09–18, a pause on Saturday (outside
    # hours: no effect) and one on Monday 10:00–11:00 MSK
    body = {
        "calendar": presets["office"].pk,
        "start": "2026-10-02T17:00:00+03:00",
        "target_seconds": 4 * H,
        "time_zone": "Europe/Moscow",
        "pauses": [
            ["2026-10-03T10:00:00+03:00", "2026-10-03T12:00:00+03:00"],
            ["2026-10-05T10:00:00+03:00", "2026-10-05T11:00:00+03:00"],
        ],
    }

    # When the calculator is asked
    response = api_for(world.users["partner_manager_p"]).post(URL, body)

    # Then: Fri 17–18 (1 h), Mon 09–10 (2 h), pause, Mon 11–13 (4 h) → due Mon 13:00 MSK
    # = 10:00 UTC; the warning at 3 h falls at Mon 12:00 MSK = 09:00 UTC.
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["due_at"] == "2026-10-05T10:00:00Z"
    assert answer["due_at_local"] == "2026-10-05T13:00:00+03:00"
    assert answer["warn_at"] == "2026-10-05T09:00:00Z"
    assert answer["warn_at_local"] == "2026-10-05T12:00:00+03:00"
    assert answer["warning_seconds"] == 3 * H
    assert answer["time_zone"] == "Europe/Moscow"


def test_calculator_counts_in_a_given_stores_zone_and_threshold(world, api_for, presets):
    # Kamchatka store: Fri 17:00 PETT start, 2 h on Mon–Fri 09–18 → Fri 17–18, Mon 09–10;
    # due Mon 10:00 PETT = Sun 22:00 UTC. Threshold 0.5 → 1 h → Fri 18:00 PETT = 06:00 UTC.
    response = api_for(world.users["dispatcher"]).post(
        URL,
        {
            "calendar": presets["office"].pk,
            "store": world.store_a2.pk,
            "start": "2026-10-02T05:00:00Z",
            "target_seconds": 2 * H,
            "threshold": "0.5",
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["due_at"] == "2026-10-04T22:00:00Z"
    assert response.json()["warn_at"] == "2026-10-02T06:00:00Z"
    assert response.json()["time_zone"] == "Asia/Kamchatka"


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"start": "2026-10-02T17:00:00"}, "start", "offset"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "IANA"),
        ({"time_zone": ""}, "time_zone", "store's own time zone"),
        ({"target_seconds": -1}, "target_seconds", "greater than or equal to 0"),
        ({"threshold": "1.5"}, "threshold", "between 0 and 1"),
        ({"pauses": [["2026-10-05T11:00:00Z", "2026-10-05T10:00:00Z"]]}, "pauses", "before"),
        ({"calendar": 999_999}, "calendar", "Unknown calendar"),
    ],
)
def test_calculator_refuses_bad_input_with_a_field_message(
    world, api_for, presets, change, field, fragment
):
    body = {
        "calendar": presets["office"].pk,
        "start": "2026-10-02T17:00:00+03:00",
        "target_seconds": H,
        "time_zone": "Europe/Moscow",
        **change,
    }

    response = api_for(world.users["dispatcher"]).post(URL, body)

    assert response.status_code == 400
    assert fragment in " ".join(response.json()["error"]["fields"][field])


def test_calculator_on_a_calendar_without_hours_is_a_400(world, api_for):
    # Given a calendar with no working interval at all
    empty = calendar_create(actor=None, code="never", name="Never open", time_zone="UTC")

    # When a target is counted on it
    response = api_for(world.users["dispatcher"]).post(
        URL, {"calendar": empty.pk, "start": "2026-10-02T17:00:00Z", "target_seconds": 60}
    )

    # Then the answer says so instead of failing
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_working_time"
    assert response.json()["error"]["fields"]["target_seconds"]


def test_preview_needs_an_actor(db, api_for, world):
    assert api_for(world.users["nobody"]).post(URL, {"calendar": 1}).status_code in (401, 403)
    assert SlaPolicy.objects.count() == 0
