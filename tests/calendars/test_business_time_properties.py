"""Property tests of the business-time maths against a brute-force reference.

Calendars are random minute-granularity weekly hours (with dated exceptions) in zones with
DST or offset changes, starts are drawn near those changes, and the reference counts working
minutes one by one from the wall-time definition, sharing none of the streaming code
(merging, clipping, pause subtraction) under test.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from calendars.business_time import (
    Calendar,
    EffectiveDatedCalendar,
    IntersectionCalendar,
    WeeklyInterval,
    add_working_time,
    calendar_24x7,
    is_working,
    working_seconds_between,
)

MINUTE = timedelta(minutes=1)
HORIZON_DAYS = 9
SETTINGS = settings(max_examples=200, deadline=None)

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Nuuk",  # springs forward at 23:00 straight into the next day
    "Europe/Volgograd",
    "Asia/Kamchatka",
]
# Days just before a transition in at least one of the zones above.
BASES = [
    datetime(2026, 3, 6, tzinfo=UTC),  # New York springs forward on 03-08
    datetime(2026, 3, 27, tzinfo=UTC),  # Berlin (03-29) and Nuuk (03-28 23:00) spring forward
    datetime(2026, 10, 23, tzinfo=UTC),  # Berlin falls back on 10-25
    datetime(2026, 10, 30, tzinfo=UTC),  # New York falls back on 11-01
    datetime(2020, 12, 25, tzinfo=UTC),  # Volgograd moves from UTC+4 to UTC+3 on 12-27
]


def wall(minute: int) -> time:
    return time(minute // 60, minute % 60)


@st.composite
def hours(draw: st.DrawFn) -> tuple[time, time]:
    """A wall-time interval: any start minute, 1 minute to 24 hours long."""
    start = draw(st.integers(0, 1439))
    length = draw(st.sampled_from([1, 30, 60, 90, 150, 240, 480, 540, 720, 1200, 1440]))
    return wall(start), wall((start + length) % 1440)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    zone = draw(st.sampled_from(ZONES))
    weekly = tuple(
        WeeklyInterval(weekday, *span)
        for weekday, span in draw(
            st.lists(st.tuples(st.integers(0, 6), hours()), min_size=1, max_size=8)
        )
    )
    exceptions = draw(
        st.dictionaries(
            st.sampled_from([b.date() + timedelta(days=n) for b in BASES for n in range(7)]),
            st.lists(hours(), max_size=2).map(tuple),
            max_size=4,
        )
    )
    return Calendar(zone=zone, weekly=weekly, exceptions=exceptions)


@st.composite
def starts(draw: st.DrawFn) -> datetime:
    base = draw(st.sampled_from(BASES))
    return base + MINUTE * draw(st.integers(-1440, 4 * 1440))


@st.composite
def pause_lists(draw: st.DrawFn, start: datetime) -> list[tuple[datetime, datetime | None]]:
    """Up to three pauses near ``start``, possibly overlapping, possibly open-ended."""
    pauses: list[tuple[datetime, datetime | None]] = []
    for _ in range(draw(st.integers(0, 3))):
        begin = start + MINUTE * draw(st.integers(-600, 4 * 1440))
        if draw(st.integers(0, 9)) == 0:
            pauses.append((begin, None))
        else:
            pauses.append((begin, begin + MINUTE * draw(st.integers(0, 2 * 1440))))
    return pauses


def reference_minutes(
    cal: Calendar, start: datetime, pauses: list[tuple[datetime, datetime | None]]
) -> list[datetime]:
    """Every working minute [m, m+1min) from ``start`` over the horizon, ascending.

    Straight from the definition: each local date's wall-time intervals, bounds resolved with
    fold=0, minus pauses; minutes are collected in a set so overlaps count once.
    """
    end = start + timedelta(days=HORIZON_DAYS)
    first_day = start.astimezone(cal.tz).date() - timedelta(days=2)
    working: set[datetime] = set()
    for n in range(HORIZON_DAYS + 4):
        day: date = first_day + timedelta(days=n)
        for open_, close in cal.hours_on(day):
            close_day = day if close > open_ else day + timedelta(days=1)
            m = datetime.combine(day, open_, tzinfo=cal.tz).astimezone(UTC)
            stop = datetime.combine(close_day, close, tzinfo=cal.tz).astimezone(UTC)
            while m < stop:
                if start <= m < end:
                    working.add(m)
                m += MINUTE

    def paused(m: datetime) -> bool:
        return any(b <= m and (f is None or m < f) for b, f in pauses)

    return sorted(m for m in working if not paused(m))


@SETTINGS
@given(cal=calendars(), start=starts(), data=st.data())
def test_agrees_with_brute_force(cal: Calendar, start: datetime, data: st.DataObject) -> None:
    pauses = data.draw(pause_lists(start))
    minutes = reference_minutes(cal, start, pauses)
    target = data.draw(st.integers(0, len(minutes)))
    due = add_working_time(cal, start, target * 60, pauses)
    # The due is the end of the target-th working minute (or the start for a zero target).
    assert due == (minutes[target - 1] + MINUTE if target else start)
    horizon_end = start + timedelta(days=HORIZON_DAYS)
    assert working_seconds_between(cal, start, horizon_end, pauses) == 60 * len(minutes)


@SETTINGS
@given(cal=calendars(), start=starts(), data=st.data())
def test_add_then_measure_round_trips(cal: Calendar, start: datetime, data: st.DataObject) -> None:
    pauses = data.draw(pause_lists(start))
    pauses = [(b, f) for b, f in pauses if f is not None]  # keep the target reachable
    seconds = data.draw(st.integers(0, 3 * 86400))
    due = add_working_time(cal, start, seconds, pauses)
    assert due >= start
    assert working_seconds_between(cal, start, due, pauses) == seconds
    if seconds:
        # The due ends working time: the second before it is working and not paused.
        just_before = due - timedelta(seconds=1)
        assert is_working(cal, just_before)
        assert not any(b <= just_before < f for b, f in pauses)


@SETTINGS
@given(
    cal=calendars(),
    start=starts(),
    shift=st.integers(0, 3 * 86400),
    seconds=st.integers(0, 2 * 86400),
    more=st.integers(0, 86400),
)
def test_monotonic_in_start_and_duration(
    cal: Calendar, start: datetime, shift: int, seconds: int, more: int
) -> None:
    later = start + timedelta(seconds=shift)
    due = add_working_time(cal, start, seconds)
    assert add_working_time(cal, later, seconds) >= due
    assert add_working_time(cal, start, seconds + more) >= due


@SETTINGS
@given(cal=calendars(), start=starts(), cut=st.integers(0, 5 * 86400), span=st.integers(0, 86400))
def test_measure_is_additive(cal: Calendar, start: datetime, cut: int, span: int) -> None:
    middle = start + timedelta(seconds=cut)
    end = middle + timedelta(seconds=span)
    whole = working_seconds_between(cal, start, end)
    assert whole == working_seconds_between(cal, start, middle) + working_seconds_between(
        cal, middle, end
    )


@settings(max_examples=100, deadline=None)
@given(a=calendars(), b=calendars(), start=starts(), edit=st.integers(0, 4 * 1440))
def test_composed_calendars_match_their_definition(
    a: Calendar, b: Calendar, start: datetime, edit: int
) -> None:
    end = start + timedelta(days=5)
    at = start + edit * MINUTE
    pieces = {
        "a": list(a.working_intervals(start, end)),
        "b": list(b.working_intervals(start, end)),
        "ab": list(IntersectionCalendar(parts=(a, b)).working_intervals(start, end)),
        "edited": list(
            EffectiveDatedCalendar(versions=((None, a), (at, b))).working_intervals(start, end)
        ),
    }
    for intervals in pieces.values():
        # Clipped, ascending, disjoint and not touching.
        assert all(start <= s < e <= end for s, e in intervals)
        assert all(e1 < s2 for (_, e1), (s2, _) in itertools.pairwise(intervals))

    def inside(intervals: list[tuple[datetime, datetime]], m: datetime) -> bool:
        return any(s <= m < e for s, e in intervals)

    m = start
    while m < end:  # every minute, checked against the definitions
        in_a, in_b = inside(pieces["a"], m), inside(pieces["b"], m)
        assert inside(pieces["ab"], m) == (in_a and in_b)
        assert inside(pieces["edited"], m) == (in_a if m < at else in_b)
        m += 15 * MINUTE


@SETTINGS
@given(start=starts(), seconds=st.integers(0, 10 * 86400))
def test_24x7_is_elapsed_time(start: datetime, seconds: int) -> None:
    cal = calendar_24x7("Europe/Berlin")
    assert add_working_time(cal, start, seconds) == start + timedelta(seconds=seconds)
