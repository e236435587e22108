"""Bad input to the business-time maths: a clear ``ValueError``/``TypeError``, never a crash.

The SLA engine feeds these functions values that came from forms, the API and the database
(zone names, targets, thresholds, instants); whatever arrives, the answer is an error that
names the argument and says what was expected, not an ``OverflowError`` from deep inside
``datetime``, a ``decimal.InvalidOperation`` or a loop that runs for minutes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars.business_time import (
    Calendar,
    EffectiveDatedCalendar,
    IntersectionCalendar,
    WeeklyInterval,
    add_working_time,
    calendar_24x7,
    calendar_office,
    is_working,
    next_opening,
    warning_seconds,
    working_seconds_between,
)

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None)
OFFICE = calendar_office("Europe/Moscow")
CALENDARS = [
    OFFICE,
    calendar_24x7(),
    Calendar(zone="Asia/Kamchatka", weekly=(WeeklyInterval(0, time(22), time(6)),)),
    EffectiveDatedCalendar(
        versions=((None, OFFICE), (datetime(2026, 6, 1, tzinfo=UTC), calendar_24x7()))
    ),
    IntersectionCalendar(parts=(OFFICE, calendar_office("Asia/Vladivostok"))),
]
AWARE = datetime(2026, 2, 2, 6, tzinfo=UTC)
KNOWN_ZONES = available_timezones()

calendars_ = st.sampled_from(CALENDARS)
naive_instants = st.datetimes()
# Aware instants anywhere in datetime's range, in zones east and west of UTC: the year-1
# and year-9999 edges are where a local-date conversion overflows.
any_instants = st.datetimes(
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
)


def _calls_with(instant: datetime, cal, other: datetime = AWARE) -> list:
    """Every public entry point, each given ``instant`` in one of its datetime arguments
    (``other`` fills the second instant where there is one)."""
    return [
        lambda: add_working_time(cal, instant, 3600),
        lambda: working_seconds_between(cal, instant, other),
        lambda: working_seconds_between(cal, other, instant),
        lambda: is_working(cal, instant),
        lambda: next_opening(cal, instant),
        lambda: add_working_time(cal, other, 3600, [(instant, None)]),
        lambda: add_working_time(cal, other, 3600, [(other, instant)]),
        lambda: list(cal.working_intervals(instant, other)),
    ]


@SETTINGS
@given(instant=naive_instants, cal=calendars_, which=st.integers(0, 7))
def test_a_naive_instant_is_refused_everywhere(instant, cal, which) -> None:
    with pytest.raises(ValueError, match="must be a timezone-aware datetime"):
        _calls_with(instant, cal)[which]()


@SETTINGS
@given(instant=naive_instants)
def test_a_naive_edit_instant_is_refused(instant) -> None:
    with pytest.raises(ValueError, match=r"versions\[1\] effective_from must be a timezone-aware"):
        EffectiveDatedCalendar(versions=((None, OFFICE), (instant, OFFICE)))


@SETTINGS
@given(instant=any_instants, cal=calendars_, which=st.integers(0, 7))
def test_any_aware_instant_gives_an_answer_or_a_clear_error(instant, cal, which) -> None:
    """Even at the ends of ``datetime``'s range: a result, ``NoWorkingTime`` (a ValueError)
    or a ValueError saying the instant is outside the supported range."""
    # The other instant is a day away, so the answer never needs centuries of days.
    near = instant + timedelta(days=1) if instant.year < 9999 else instant - timedelta(days=1)
    try:
        _calls_with(instant, cal, near)[which]()
    except ValueError as exc:
        message = str(exc)
        assert "supported range" in message or "working time" in message or "pause" in message, (
            message
        )


@SETTINGS
@given(
    name=st.text(
        alphabet=st.sampled_from("ABCEMOPSTUacemoprstu/_-+.0123\x00 "), min_size=0, max_size=24
    ).filter(lambda name: name not in KNOWN_ZONES)
)
def test_an_unknown_zone_name_is_refused_with_its_name(name: str) -> None:
    with pytest.raises(ValueError, match="time zone") as error:
        Calendar(zone=name)
    assert repr(name) in str(error.value)


@pytest.mark.parametrize("name", [None, 3, b"Europe/Moscow", ["UTC"]])
def test_a_zone_that_is_not_a_string_is_refused(name) -> None:
    with pytest.raises(ValueError, match="time zone must be a non-empty IANA name"):
        Calendar(zone=name)


@SETTINGS
@given(
    seconds=st.one_of(st.integers(max_value=-1), st.floats(max_value=-1e-9, allow_infinity=False)),
    cal=calendars_,
)
def test_a_negative_target_is_refused(seconds, cal) -> None:
    with pytest.raises(ValueError, match="seconds must not be negative"):
        add_working_time(cal, AWARE, seconds)


@pytest.mark.parametrize(
    "seconds", [float("nan"), float("inf"), "3600", None, Decimal("NaN"), [3600], 10**400]
)
def test_a_target_that_is_not_a_finite_number_is_refused(seconds) -> None:
    with pytest.raises((TypeError, ValueError), match="seconds must be"):
        add_working_time(OFFICE, AWARE, seconds)


@SETTINGS
@given(seconds=st.integers(min_value=10**10, max_value=10**30), cal=calendars_)
def test_an_impossibly_long_target_is_refused_at_once(seconds, cal) -> None:
    """More than the calendar can ever hold before year 9999: refused up front, instead of
    a timedelta overflow or minutes of searching."""
    with pytest.raises(ValueError, match="seconds must be at most"):
        add_working_time(cal, AWARE, seconds)


@SETTINGS
@given(target=st.integers(max_value=-1), threshold=st.decimals(0, 1, places=2))
def test_a_negative_warning_target_is_refused(target, threshold) -> None:
    with pytest.raises(ValueError, match="target_seconds must not be negative"):
        warning_seconds(target, threshold)


@SETTINGS
@given(
    threshold=st.one_of(
        st.floats().filter(lambda x: not 0 <= x <= 1),
        st.decimals().filter(lambda x: not x.is_finite() or not 0 <= x <= 1),
        st.text(max_size=8).filter(lambda s: not _is_share(s)),
        st.none(),
    )
)
def test_a_warning_threshold_outside_0_to_1_is_refused(threshold) -> None:
    with pytest.raises(ValueError, match="threshold must be"):
        warning_seconds(3600, threshold)


def _is_share(text: str) -> bool:
    try:
        return Decimal(0) <= Decimal(text.strip()) <= Decimal(1)
    except ArithmeticError:
        return False


@SETTINGS
@given(
    begin=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1)),
    back=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=30)),
)
def test_a_pause_that_ends_before_it_starts_is_refused(begin, back) -> None:
    begin = begin.replace(tzinfo=UTC)
    with pytest.raises(ValueError, match=r"pauses\[0\] ends before it starts"):
        add_working_time(OFFICE, AWARE, 3600, [(begin, begin - back)])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: WeeklyInterval(7, time(9), time(18)), "weekday must be 0"),
        (lambda: WeeklyInterval(-1, time(9), time(18)), "weekday must be 0"),
        (lambda: WeeklyInterval("1", time(9), time(18)), "weekday must be 0"),
        (lambda: WeeklyInterval(0, "09:00", time(18)), "must be a datetime.time"),
        (lambda: WeeklyInterval(0, time(9, tzinfo=UTC), time(18)), "naive wall time"),
        (lambda: Calendar(zone="UTC", weekly=((0, time(9), time(18)),)), "WeeklyInterval"),
        (lambda: Calendar(zone="UTC", exceptions={"2026-01-01": ()}), "must be dates"),
        (
            lambda: Calendar(zone="UTC", exceptions={date(2026, 1, 1): ((time(9), "18:00"),)}),
            "must be a datetime.time",
        ),
        (lambda: EffectiveDatedCalendar(versions=()), "at least one version"),
        (lambda: EffectiveDatedCalendar(versions=((None, "office"),)), "not a calendar"),
        (lambda: IntersectionCalendar(parts=()), "at least one part"),
    ],
)
def test_a_malformed_calendar_is_refused_with_a_message(build, message) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        build()
