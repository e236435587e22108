"""Hand-verified edge cases of the business-time maths.

Every expected instant is written in UTC and was worked out by hand; the comment on each
assertion gives the reasoning. Moscow is UTC+3 all year (no DST since 2014).
"""

from __future__ import annotations

import pickle
import time as timer
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from calendars.business_time import (
    PRESETS,
    Calendar,
    EffectiveDatedCalendar,
    IntersectionCalendar,
    NoWorkingTime,
    WeeklyInterval,
    WorkingTime,
    add_working_time,
    calendar_24x7,
    calendar_office,
    calendar_store_hours,
    is_working,
    next_opening,
    warning_seconds,
    working_seconds_between,
)
from calendars.production_calendar import production_calendar

MSK = ZoneInfo("Europe/Moscow")
H = 3600


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK)


def daily(zone: str, start: time, end: time, weekdays: range = range(7)) -> Calendar:
    return Calendar(zone=zone, weekly=tuple(WeeklyInterval(d, start, end) for d in weekdays))


OFFICE = calendar_office("Europe/Moscow")


# ----------------------------------------------------------------- basic rolling


def test_start_inside_hours_counts_from_start() -> None:
    # Mon 2026-03-02 10:00 MSK + 2 h = 12:00 MSK = 09:00 UTC.
    assert add_working_time(OFFICE, msk(2026, 3, 2, 10), 2 * H) == utc(2026, 3, 2, 9)


def test_start_before_opening_counts_from_opening() -> None:
    # 07:00 MSK is before 09:00; 09:00 + 1 h = 10:00 MSK = 07:00 UTC.
    assert add_working_time(OFFICE, msk(2026, 3, 2, 7), H) == utc(2026, 3, 2, 7)


def test_start_after_closing_counts_from_next_morning() -> None:
    # Mon 19:00 MSK is closed; Tue 09:00 + 1 h = Tue 10:00 MSK = 07:00 UTC.
    assert add_working_time(OFFICE, msk(2026, 3, 2, 19), H) == utc(2026, 3, 3, 7)


def test_start_exactly_at_closing_counts_from_next_morning() -> None:
    # 18:00 is not working ([09:00, 18:00)); Tue 09:00 + 1 h = 10:00 MSK = 07:00 UTC.
    assert add_working_time(OFFICE, msk(2026, 3, 2, 18), H) == utc(2026, 3, 3, 7)


def test_friday_evening_rolls_to_monday() -> None:
    # Fri 2026-02-06 17:00 MSK: 1 h until 18:00, 1 h on Mon 02-09 -> 10:00 MSK = 07:00 UTC.
    assert add_working_time(OFFICE, msk(2026, 2, 6, 17), 2 * H) == utc(2026, 2, 9, 7)


def test_weekend_start_rolls_to_monday_opening() -> None:
    # Sat 2026-02-07 12:00 MSK: Mon 09:00 + 30 min = 09:30 MSK = 06:30 UTC.
    assert add_working_time(OFFICE, msk(2026, 2, 7, 12), 1800) == utc(2026, 2, 9, 6, 30)


def test_target_used_up_exactly_at_closing_is_due_at_closing() -> None:
    # Mon 09:00 + 9 h ends exactly at 18:00 MSK = 15:00 UTC, not at Tue 09:00.
    assert add_working_time(OFFICE, msk(2026, 2, 2, 9), 9 * H) == utc(2026, 2, 2, 15)


def test_zero_target_is_due_at_start_even_outside_hours() -> None:
    # Sunday night, zero target: due is exactly the start, microseconds included.
    start = datetime(2026, 2, 8, 3, 17, 42, 123456, tzinfo=UTC)
    assert add_working_time(OFFICE, start, 0) == start


def test_microseconds_are_kept_exactly() -> None:
    # 10:00:00.250 MSK + 1 s = 10:00:01.250 MSK = 07:00:01.250 UTC.
    start = datetime(2026, 3, 2, 10, 0, 0, 250000, tzinfo=MSK)
    assert add_working_time(OFFICE, start, 1) == datetime(2026, 3, 2, 7, 0, 1, 250000, tzinfo=UTC)


def test_negative_target_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_time(OFFICE, msk(2026, 3, 2, 10), -1)


# ----------------------------------------------------------------- shapes of the day


LUNCH = Calendar(
    zone="Europe/Moscow",
    weekly=tuple(
        WeeklyInterval(d, start, end)
        for d in range(5)
        for start, end in ((time(9), time(13)), (time(14), time(18)))
    ),
)


def test_lunch_break_is_skipped() -> None:
    # 12:30 MSK: 30 min until 13:00, lunch 13-14, 30 min more -> 14:30 MSK = 11:30 UTC.
    assert add_working_time(LUNCH, msk(2026, 3, 2, 12, 30), H) == utc(2026, 3, 2, 11, 30)


def test_start_inside_lunch_counts_from_afternoon() -> None:
    # 13:20 MSK is lunch; 14:00 + 10 min = 14:10 MSK = 11:10 UTC.
    assert add_working_time(LUNCH, msk(2026, 3, 2, 13, 20), 600) == utc(2026, 3, 2, 11, 10)


def test_lunch_day_holds_eight_hours() -> None:
    # 09-13 and 14-18 = 8 h.
    assert working_seconds_between(LUNCH, msk(2026, 3, 2), msk(2026, 3, 3)) == 8 * H


def test_interval_crossing_midnight() -> None:
    # Night shift 22:00-06:00: Mon 21:00 MSK waits until 22:00; + 3 h = Tue 01:00 MSK
    # = Mon 22:00 UTC.
    night = daily("Europe/Moscow", time(22), time(6))
    assert add_working_time(night, msk(2026, 2, 2, 21), 3 * H) == utc(2026, 2, 2, 22)


def test_friday_night_shift_runs_into_saturday() -> None:
    # Only Friday 22:00-06:00; Sat 05:00 MSK is still inside Friday's shift: + 30 min
    # = Sat 05:30 MSK = 02:30 UTC.
    night = Calendar("Europe/Moscow", weekly=(WeeklyInterval(4, time(22), time(6)),))
    assert add_working_time(night, msk(2026, 2, 7, 5), 1800) == utc(2026, 2, 7, 2, 30)


def test_end_midnight_means_until_midnight() -> None:
    # Mondays 18:00-00:00: Mon 23:00 MSK has 1 h left, next Monday 18:00 + 1 h = 19:00 MSK
    # = 16:00 UTC.
    evening = Calendar("Europe/Moscow", weekly=(WeeklyInterval(0, time(18), time(0)),))
    assert add_working_time(evening, msk(2026, 2, 2, 23), 2 * H) == utc(2026, 2, 9, 16)


def test_exception_adds_a_working_sunday_with_its_own_hours() -> None:
    # Sun 2026-02-08 made working 10:00-12:00: Sat start -> Sun 10:00 + 1 h = 11:00 MSK
    # = 08:00 UTC.
    cal = Calendar(
        "Europe/Moscow",
        weekly=OFFICE.weekly,
        exceptions={date(2026, 2, 8): ((time(10), time(12)),)},
    )
    assert add_working_time(cal, msk(2026, 2, 7, 12), H) == utc(2026, 2, 8, 8)


# ----------------------------------------------------------------- the production calendar

PROD = production_calendar("Europe/Moscow", [2025, 2026])


def test_new_year_holidays_are_skipped() -> None:
    # Tue 2025-12-30 17:00 MSK: 1 h; Dec 31 (2025 decree) and Jan 1-8 off, Jan 9 off
    # (moved from Sat Jan 3), Jan 10-11 weekend; Mon 01-12 09:00 + 1 h = 10:00 MSK = 07:00 UTC.
    assert add_working_time(PROD, msk(2025, 12, 30, 17), 2 * H) == utc(2026, 1, 12, 7)


def test_transferred_working_saturday_counts() -> None:
    # Fri 2025-10-31 17:00 MSK: 1 h; Sat 11-01 is a working day: 09:00 + 1 h = 10:00 MSK
    # = 07:00 UTC.
    assert add_working_time(PROD, msk(2025, 10, 31, 17), 2 * H) == utc(2025, 11, 1, 7)


def test_shortened_pre_holiday_saturday_closes_at_17() -> None:
    # Sat 2025-11-01 closes at 17:00 (pre-holiday); 16:00 + 2 h: 1 h that day, Nov 2 Sunday,
    # Nov 3 off, Nov 4 holiday; Wed 11-05 09:00 + 1 h = 10:00 MSK = 07:00 UTC.
    assert add_working_time(PROD, msk(2025, 11, 1, 16), 2 * H) == utc(2025, 11, 5, 7)


def test_target_ends_at_the_shortened_closing() -> None:
    # Thu 2026-04-30 closes at 17:00 (May 1 is a holiday): 16:00 + 1 h = 17:00 MSK = 14:00 UTC.
    assert add_working_time(PROD, msk(2026, 4, 30, 16), H) == utc(2026, 4, 30, 14)


def test_shortened_day_then_may_holiday() -> None:
    # 2026-04-30 16:00: 1 h to 17:00; May 1 (Fri) holiday, weekend; Mon 05-04 09:00 + 1 h
    # = 10:00 MSK = 07:00 UTC.
    assert add_working_time(PROD, msk(2026, 4, 30, 16), 2 * H) == utc(2026, 5, 4, 7)


# ----------------------------------------------------------------- zones


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        # 05:00 UTC is 07:00 in Kaliningrad (UTC+2): opens 08:00 = 06:00 UTC, + 6 h = 12:00 UTC.
        ("Europe/Kaliningrad", utc(2026, 2, 2, 12)),
        # 15:00 in Vladivostok (UTC+10): + 6 h = 21:00 local = 11:00 UTC.
        ("Asia/Vladivostok", utc(2026, 2, 2, 11)),
        # 17:00 in Kamchatka (UTC+12): 5 h to 22:00, 1 h from 08:00 next day -> 09:00 local
        # on 02-03 = 21:00 UTC on 02-02.
        ("Asia/Kamchatka", utc(2026, 2, 2, 21)),
    ],
)
def test_same_utc_moment_different_store_zones(zone: str, expected: datetime) -> None:
    assert add_working_time(calendar_store_hours(zone), utc(2026, 2, 2, 5), 6 * H) == expected


def test_volgograd_offset_change_2020() -> None:
    # Europe/Volgograd went from UTC+4 to UTC+3 at 02:00 on 2020-12-27. Fri 12-25 17:00
    # (+4, 13:00 UTC): 1 h; Mon 12-28 09:00 (+3) + 1 h = 10:00 local = 07:00 UTC.
    cal = calendar_office("Europe/Volgograd")
    start = datetime(2020, 12, 25, 17, tzinfo=ZoneInfo("Europe/Volgograd"))
    assert start == utc(2020, 12, 25, 13)
    assert add_working_time(cal, start, 2 * H) == utc(2020, 12, 28, 7)


def test_volgograd_store_opens_an_hour_later_in_utc_after_the_change() -> None:
    # 08:00 local is 04:00 UTC on Sat 12-26 (+4) and 05:00 UTC on Sun 12-27 (+3).
    cal = calendar_store_hours("Europe/Volgograd")
    assert next_opening(cal, utc(2020, 12, 25, 20)) == utc(2020, 12, 26, 4)
    assert next_opening(cal, utc(2020, 12, 26, 20)) == utc(2020, 12, 27, 5)


# ----------------------------------------------------------------- DST

BERLIN_NIGHT = daily("Europe/Berlin", time(1), time(4))
NY_NIGHT = daily("America/New_York", time(1), time(4))


def test_berlin_spring_forward_interval_loses_the_skipped_hour() -> None:
    # 2026-03-29: 01:00 CET = 00:00 UTC, 04:00 CEST = 02:00 UTC -> 2 h, not 3.
    assert working_seconds_between(BERLIN_NIGHT, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12)) == (
        2 * H
    )
    # 00:00 UTC + 90 min = 01:30 UTC (03:30 CEST; 02:00-03:00 never happened).
    assert add_working_time(BERLIN_NIGHT, utc(2026, 3, 29, 0), 5400) == utc(2026, 3, 29, 1, 30)


def test_berlin_opening_inside_the_gap_maps_forward() -> None:
    # 02:30 does not exist on 2026-03-29; fold=0 reads it as CET: 01:30 UTC (= 03:30 CEST).
    # Interval [02:30, 05:00) -> 01:30-03:00 UTC, 1.5 h.
    cal = daily("Europe/Berlin", time(2, 30), time(5))
    assert next_opening(cal, utc(2026, 3, 29, 0)) == utc(2026, 3, 29, 1, 30)
    assert working_seconds_between(cal, utc(2026, 3, 29), utc(2026, 3, 30)) == 5400


def test_berlin_interval_whose_bounds_cross_in_the_gap_is_empty_that_day() -> None:
    # [02:30, 03:10) on 2026-03-29: 02:30 -> 01:30 UTC, 03:10 CEST -> 01:10 UTC: nothing;
    # on 03-28 the same hours are 02:30-03:10 CET = 01:30-02:10 UTC, 40 min.
    cal = daily("Europe/Berlin", time(2, 30), time(3, 10))
    assert working_seconds_between(cal, utc(2026, 3, 29), utc(2026, 3, 30)) == 0
    assert working_seconds_between(cal, utc(2026, 3, 28), utc(2026, 3, 29)) == 40 * 60


def test_nuuk_gap_spanning_midnight_orders_days_correctly() -> None:
    # America/Nuuk jumps from 23:00 (-02) on Sat 2026-03-28 to 00:00 (-01) on Sunday. Sat
    # [23:30, 23:45) lies in the gap: fold=0 reads it at -02, 01:30-01:45 UTC on 03-29; Sun
    # [00:00, 01:00) is 01:00-02:00 UTC, which opens *before* Saturday's interval and covers
    # it: one hour in total, one merged interval.
    cal = Calendar(
        "America/Nuuk",
        weekly=(WeeklyInterval(5, time(23, 30), time(23, 45)), WeeklyInterval(6, time(0), time(1))),
    )
    got = list(cal.working_intervals(utc(2026, 3, 28), utc(2026, 3, 30)))
    assert got == [(utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))]
    assert add_working_time(cal, utc(2026, 3, 28), 1800) == utc(2026, 3, 29, 1, 30)


def test_berlin_fall_back_interval_counts_the_repeated_hour_twice() -> None:
    # 2026-10-25: 01:00 CEST = 10-24 23:00 UTC, 04:00 CET = 03:00 UTC -> 4 h.
    assert working_seconds_between(BERLIN_NIGHT, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12)) == (
        4 * H
    )
    # 23:00 UTC + 3.5 h = 02:30 UTC (03:30 CET).
    assert add_working_time(BERLIN_NIGHT, utc(2026, 10, 24, 23), 12600) == utc(2026, 10, 25, 2, 30)


def test_berlin_ambiguous_bound_is_its_first_occurrence() -> None:
    # [02:00, 02:30) on 2026-10-25 is read in CEST (fold=0): 00:00-00:30 UTC.
    cal = daily("Europe/Berlin", time(2), time(2, 30))
    assert next_opening(cal, utc(2026, 10, 24, 12)) == utc(2026, 10, 25, 0)
    assert add_working_time(cal, utc(2026, 10, 24, 12), 1800) == utc(2026, 10, 25, 0, 30)


def test_new_york_spring_forward_interval() -> None:
    # 2026-03-08: 01:00 EST = 06:00 UTC, 04:00 EDT = 08:00 UTC -> 2 h; 06:00 + 2 h = 08:00.
    assert working_seconds_between(NY_NIGHT, utc(2026, 3, 8), utc(2026, 3, 9)) == 2 * H
    assert add_working_time(NY_NIGHT, utc(2026, 3, 8, 3), 2 * H) == utc(2026, 3, 8, 8)


def test_new_york_fall_back_interval_is_three_real_hours() -> None:
    # 2026-11-01 [01:00, 03:00): 01:00 EDT = 05:00 UTC, 03:00 EST = 08:00 UTC -> 3 h.
    cal = daily("America/New_York", time(1), time(3))
    assert working_seconds_between(cal, utc(2026, 11, 1), utc(2026, 11, 2)) == 3 * H
    # 05:00 UTC + 2.5 h = 07:30 UTC (01:30 EST, the second 01:30).
    assert add_working_time(cal, utc(2026, 11, 1, 5), 9000) == utc(2026, 11, 1, 7, 30)


def test_new_york_office_across_spring_forward() -> None:
    # Fri 2026-03-06 17:00 EST (22:00 UTC): 1 h; Mon 03-09 09:00 EDT + 1 h = 10:00 EDT
    # = 14:00 UTC.
    cal = calendar_office("America/New_York")
    start = datetime(2026, 3, 6, 17, tzinfo=ZoneInfo("America/New_York"))
    assert add_working_time(cal, start, 2 * H) == utc(2026, 3, 9, 14)


def test_24x7_counts_elapsed_seconds_across_dst() -> None:
    # 24x7 in Berlin: + 86,400 s is exactly 24 h later in UTC across spring-forward...
    cal = calendar_24x7("Europe/Berlin")
    assert add_working_time(cal, utc(2026, 3, 28, 12), 86400) == utc(2026, 3, 29, 12)
    # ...and local noon to local noon over that night is 23 h of elapsed time.
    berlin = ZoneInfo("Europe/Berlin")
    noon_sat = datetime(2026, 3, 28, 12, tzinfo=berlin)
    noon_sun = datetime(2026, 3, 29, 12, tzinfo=berlin)
    assert working_seconds_between(cal, noon_sat, noon_sun) == 23 * H


# ----------------------------------------------------------------- pauses


def test_pause_outside_hours_changes_nothing() -> None:
    # Same as Friday -> Monday (Mon 10:00 MSK = 07:00 UTC): the Saturday pause is off-hours.
    pauses = [(msk(2026, 2, 7, 10), msk(2026, 2, 8, 10))]
    assert add_working_time(OFFICE, msk(2026, 2, 6, 17), 2 * H, pauses) == utc(2026, 2, 9, 7)


def test_pause_after_due_changes_nothing() -> None:
    # Due Mon 10:00 MSK = 07:00 UTC; a pause from 11:00, even open-ended, is irrelevant.
    start = msk(2026, 2, 2, 9)
    assert add_working_time(OFFICE, start, H, [(msk(2026, 2, 2, 11), msk(2026, 2, 2, 15))]) == (
        utc(2026, 2, 2, 7)
    )
    assert add_working_time(OFFICE, start, H, [(msk(2026, 2, 2, 11), None)]) == utc(2026, 2, 2, 7)


def test_pause_beginning_outside_hours() -> None:
    # Pause 07:00-10:00 MSK: working resumes at 10:00, + 1 h = 11:00 MSK = 08:00 UTC.
    pauses = [(msk(2026, 2, 2, 7), msk(2026, 2, 2, 10))]
    assert add_working_time(OFFICE, msk(2026, 2, 2, 7), H, pauses) == utc(2026, 2, 2, 8)


def test_pause_ending_outside_hours() -> None:
    # Mon 16:00 MSK: 1 h until the pause at 17:00, which ends Tue 08:00 (before opening);
    # Tue 09:00 + 1 h = 10:00 MSK = 07:00 UTC.
    pauses = [(msk(2026, 2, 2, 17), msk(2026, 2, 3, 8))]
    assert add_working_time(OFFICE, msk(2026, 2, 2, 16), 2 * H, pauses) == utc(2026, 2, 3, 7)


def test_overlapping_pauses_count_once() -> None:
    # Pauses 10-12 and 11-13 MSK cover 10-13: 09-10 (1 h) + 13-14 (1 h) -> 14:00 MSK = 11:00 UTC.
    pauses = [
        (msk(2026, 2, 2, 10), msk(2026, 2, 2, 12)),
        (msk(2026, 2, 2, 11), msk(2026, 2, 2, 13)),
    ]
    assert add_working_time(OFFICE, msk(2026, 2, 2, 9), 2 * H, pauses) == utc(2026, 2, 2, 11)
    # The day holds 9 h, 3 of them paused.
    assert working_seconds_between(OFFICE, msk(2026, 2, 2), msk(2026, 2, 3), pauses) == 6 * H


def test_open_ended_pause_before_due_raises() -> None:
    pauses = [(msk(2026, 2, 2, 9, 30), None)]
    with pytest.raises(NoWorkingTime, match="open-ended pause"):
        add_working_time(OFFICE, msk(2026, 2, 2, 9), H, pauses)


def test_pause_ending_before_it_starts_is_rejected() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        add_working_time(
            OFFICE, msk(2026, 2, 2, 9), H, [(msk(2026, 2, 2, 12), msk(2026, 2, 2, 11))]
        )


# ----------------------------------------------------------------- measuring


def test_working_seconds_between_empty_or_reversed_is_zero() -> None:
    assert working_seconds_between(OFFICE, msk(2026, 2, 2, 12), msk(2026, 2, 2, 12)) == 0
    assert working_seconds_between(OFFICE, msk(2026, 2, 2, 12), msk(2026, 2, 2, 10)) == 0


def test_overdue_is_measured_in_working_time() -> None:
    # Due Fri 17:00 MSK, now Mon 10:00: 1 h Friday + 1 h Monday = 7200 s overdue.
    assert working_seconds_between(OFFICE, msk(2026, 2, 6, 17), msk(2026, 2, 9, 10)) == 2 * H


def test_working_seconds_floor_fractions() -> None:
    # 1.5 s of working time floors to 1.
    start = msk(2026, 2, 2, 10)
    assert working_seconds_between(OFFICE, start, start + timedelta(milliseconds=1500)) == 1


def test_is_working_and_next_opening() -> None:
    assert is_working(OFFICE, msk(2026, 2, 2, 9))  # opening instant is working
    assert not is_working(OFFICE, msk(2026, 2, 2, 18))  # closing instant is not
    assert next_opening(OFFICE, msk(2026, 2, 2, 12)) == utc(2026, 2, 2, 9)  # itself
    # Sat -> Mon 09:00 MSK = 06:00 UTC.
    assert next_opening(OFFICE, msk(2026, 2, 7, 12)) == utc(2026, 2, 9, 6)


# ----------------------------------------------------------------- warnings


def test_warning_seconds() -> None:
    assert warning_seconds(3600, 0.75) == 2700
    assert warning_seconds(3600, Decimal("0.75")) == 2700
    assert warning_seconds(100, 0.29) == 29  # 100 * 0.29 is 28.999... in binary floats
    assert warning_seconds(100, Decimal("0.333")) == 33  # floored
    assert warning_seconds(7, 1) == 7
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            warning_seconds(3600, bad)


def test_warning_point_is_in_working_time_not_wall_clock() -> None:
    # 4 h target from Fri 17:00 MSK; 75 % = 3 h of working time: 1 h Friday, 2 h Monday
    # -> Mon 11:00 MSK = 08:00 UTC (not Fri 20:00).
    warn_at = add_working_time(OFFICE, msk(2026, 2, 6, 17), warning_seconds(4 * H, 0.75))
    assert warn_at == utc(2026, 2, 9, 8)


# ----------------------------------------------------------------- long targets


def reference_office_due(start_day: date, seconds: int) -> datetime:
    """Walk weekdays from 09:00 MSK on ``start_day``, 9 h each (Moscow has no DST)."""
    day, left = start_day, seconds
    while True:
        if day.weekday() < 5:
            if left <= 9 * H:
                return datetime.combine(day, time(9), tzinfo=MSK) + timedelta(seconds=left)
            left -= 9 * H
        day += timedelta(days=1)


@pytest.mark.parametrize("seconds", [2250 * H, 365 * 86400])
def test_year_long_target_is_exact_and_fast(seconds: int) -> None:
    # 2,250 h = 250 Moscow office days (a working year); 365 * 86,400 s = 973 1/3 office days.
    start = msk(2026, 1, 5, 9)
    expected = reference_office_due(date(2026, 1, 5), seconds)
    began = timer.perf_counter()
    due = add_working_time(OFFICE, start, seconds)
    elapsed = timer.perf_counter() - began
    assert due == expected.astimezone(UTC)
    assert working_seconds_between(OFFICE, start, due) == seconds
    assert elapsed < 0.05


def test_year_long_target_known_value() -> None:
    # 250 weekdays from Mon 2026-01-05 end on Fri 2026-12-18 (50 weeks): 18:00 MSK = 15:00 UTC.
    assert add_working_time(OFFICE, msk(2026, 1, 5, 9), 2250 * H) == utc(2026, 12, 18, 15)


# ----------------------------------------------------------------- composed calendars


V1 = OFFICE
V2 = daily("Europe/Moscow", time(14), time(20), range(5))
EDIT_AT = msk(2026, 2, 4, 12)  # Wednesday noon
EDITED = EffectiveDatedCalendar(versions=((None, V1), (EDIT_AT, V2)))


def test_effective_dated_before_the_edit_uses_old_hours() -> None:
    # Tue 17:00 MSK: 1 h Tue + 1 h Wed from 09:00 -> Wed 10:00 MSK = 07:00 UTC, before the edit.
    assert add_working_time(EDITED, msk(2026, 2, 3, 17), 2 * H) == utc(2026, 2, 4, 7)
    assert is_working(EDITED, msk(2026, 2, 4, 11))  # old hours before noon


def test_effective_dated_running_clock_counts_rest_on_new_hours() -> None:
    # 5 h from Tue 17:00: 1 h Tue, 3 h Wed 09-12 (old), then new hours 14-20: 1 h
    # -> Wed 15:00 MSK = 12:00 UTC (the old calendar alone would say 13:00 MSK).
    assert add_working_time(EDITED, msk(2026, 2, 3, 17), 5 * H) == utc(2026, 2, 4, 12)
    assert add_working_time(V1, msk(2026, 2, 3, 17), 5 * H) == utc(2026, 2, 4, 10)
    assert not is_working(EDITED, msk(2026, 2, 4, 13))  # old hours, but after the edit


def test_effective_dated_merges_across_the_edit_instant() -> None:
    # Same hours in both versions: one interval 09:00-18:00 MSK (06:00-15:00 UTC).
    same = EffectiveDatedCalendar(versions=((None, V1), (EDIT_AT, V1)))
    got = list(same.working_intervals(msk(2026, 2, 4), msk(2026, 2, 5)))
    assert got == [(utc(2026, 2, 4, 6), utc(2026, 2, 4, 15))]


def test_effective_dated_rejects_unordered_versions() -> None:
    with pytest.raises(ValueError, match="ascending"):
        EffectiveDatedCalendar(versions=((None, V1), (EDIT_AT, V2), (EDIT_AT, V1)))


def test_intersection_of_store_and_partner_hours_across_zones() -> None:
    # Vladivostok store 08-22 (+10) = 22:00-12:00 UTC; Moscow partner 09-18 (+3) = 06-15 UTC
    # on weekdays; common 06-12 UTC. Mon 2026-02-02 00:00 UTC + 7 h: 6 h Monday, 1 h Tuesday
    # -> Tue 07:00 UTC.
    both = IntersectionCalendar(parts=(calendar_store_hours("Asia/Vladivostok"), OFFICE))
    assert add_working_time(both, utc(2026, 2, 2), 7 * H) == utc(2026, 2, 3, 7)
    assert working_seconds_between(both, utc(2026, 2, 2), utc(2026, 2, 3)) == 6 * H


def test_intersection_as_access_window() -> None:
    # Store 08-22 ∩ access window 10-12 daily: Sat 07:00 MSK + 3 h -> Sat 10-12 (2 h),
    # Sun 10:00 + 1 h = 11:00 MSK = 08:00 UTC.
    window = daily("Europe/Moscow", time(10), time(12))
    both = IntersectionCalendar(parts=(calendar_store_hours("Europe/Moscow"), window))
    assert add_working_time(both, msk(2026, 2, 7, 7), 3 * H) == utc(2026, 2, 8, 8)


def test_all_calendars_satisfy_the_protocol() -> None:
    assert isinstance(OFFICE, WorkingTime)
    assert isinstance(EDITED, WorkingTime)
    assert isinstance(IntersectionCalendar(parts=(OFFICE,)), WorkingTime)


# ----------------------------------------------------------------- validation


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 2, 2, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(OFFICE, naive, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_seconds_between(OFFICE, msk(2026, 2, 2), naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(OFFICE, msk(2026, 2, 2), H, [(naive, None)])
    with pytest.raises(ValueError, match="timezone-aware"):
        is_working(OFFICE, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        EffectiveDatedCalendar(versions=((None, V1), (naive, V2)))


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "UTC+3"])
def test_invalid_zone_is_rejected(zone: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        Calendar(zone=zone)


def test_invalid_weekday_is_rejected() -> None:
    with pytest.raises(ValueError, match="weekday"):
        WeeklyInterval(7, time(9), time(18))


def test_no_working_time_raises_instead_of_looping() -> None:
    closed = Calendar(zone="Europe/Moscow")
    with pytest.raises(NoWorkingTime):
        add_working_time(closed, msk(2026, 2, 2), 1)
    assert next_opening(closed, msk(2026, 2, 2)) is None
    assert issubclass(NoWorkingTime, ValueError)


def test_calendars_are_hashable_values() -> None:
    assert calendar_office("Europe/Moscow") == OFFICE
    assert hash(calendar_office("Europe/Moscow")) == hash(OFFICE)
    assert hash(PROD) == hash(production_calendar("Europe/Moscow", [2025, 2026]))


def test_calendars_pickle_for_caches_and_workers() -> None:
    edited = pickle.loads(pickle.dumps(EDITED))
    assert edited == EDITED
    assert add_working_time(edited, msk(2026, 2, 3, 17), 5 * H) == utc(2026, 2, 4, 12)


def test_presets() -> None:
    assert PRESETS["office"]("Asia/Kamchatka") == calendar_office("Asia/Kamchatka")
    assert calendar_24x7().always_open
    # Store hours are every day 08-22: 14 h on a Sunday.
    sunday = calendar_store_hours("Europe/Moscow")
    assert working_seconds_between(sunday, msk(2026, 2, 8), msk(2026, 2, 9)) == 14 * H
