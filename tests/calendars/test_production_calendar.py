"""The Russian production calendar: federal data from ``holidays``, regional holidays and
shortened pre-holiday days added by ``calendars.production_calendar``.

Expected dates come from the government decrees on transfers of days off (2025: decree of
2024-10-04 No. 1335; 2026 and 2027 as the ``holidays`` package carries them) and from the
published working-hour norms (2024: 248 days / 1979 h; 2025: 247 days / 1972 h on a 40-hour
week). Shortened days are computed by the module's rule and cross-checked against those norms.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import holidays
import pytest

from calendars.business_time import working_seconds_between
from calendars.production_calendar import (
    REGIONAL_SUBDIVISIONS,
    production_calendar,
    production_calendar_days,
)


def days(year: int, month: int, *numbers: int) -> set[date]:
    return {date(year, month, number) for number in numbers}


def norm(year: int, subdivision: str | None = None) -> tuple[int, int]:
    """(working days, working hours) on a 40-hour week (8 h days) for ``year``."""
    info = production_calendar_days(year, subdivision)
    day, count = date(year, 1, 1), 0
    while day.year == year:
        count += info.is_working_day(day)
        day += timedelta(days=1)
    cal = production_calendar("UTC", [year], subdivision, hours=(time(9), time(17)))
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    return count, working_seconds_between(cal, start, end) // 3600


# ----------------------------------------------------------------- federal


def test_new_year_holidays_2026() -> None:
    info = production_calendar_days(2026)
    # Jan 1-8 by law, Jan 9 moved from Saturday Jan 3 by the 2026 decree.
    assert days(2026, 1, *range(1, 10)) <= info.days_off
    assert info.is_working_day(date(2026, 1, 12))
    assert not info.is_working_day(date(2026, 1, 9))


def test_transferred_working_saturday_2025() -> None:
    info = production_calendar_days(2025)
    # Sat Nov 1 works instead of Mon Nov 3 (2025 decree).
    assert info.working_weekends == {date(2025, 11, 1)}
    assert date(2025, 11, 3) in info.days_off
    assert info.is_working_day(date(2025, 11, 1))


def test_2025_days_off_match_the_decree() -> None:
    info = production_calendar_days(2025)
    weekday_days_off = {d for d in info.days_off if d.weekday() < 5}
    assert weekday_days_off == (
        days(2025, 1, 1, 2, 3, 6, 7, 8)
        | days(2025, 5, 1, 2, 8, 9)
        | days(2025, 6, 12, 13)
        | days(2025, 11, 3, 4)
        | days(2025, 12, 31)
    )


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        # 2024: Feb 22, Mar 7, May 8, Jun 11 precede holidays; Sat Nov 2 works instead of
        # Tue Apr 30, the eve of May 1, and inherits its short day.
        (2024, days(2024, 2, 22) | days(2024, 3, 7) | days(2024, 5, 8) | days(2024, 6, 11)
         | days(2024, 11, 2)),
        # 2025: Mar 7, Apr 30, Jun 11, and Sat Nov 1 (works instead of Mon Nov 3, the eve of
        # Unity Day). Dec 30 is not shortened: Dec 31 is a transferred day off, not a holiday.
        (2025, days(2025, 3, 7) | days(2025, 4, 30) | days(2025, 6, 11) | days(2025, 11, 1)),
        # 2026: Apr 30, May 8 (Victory Day on Saturday), Jun 11, Nov 3.
        (2026, days(2026, 4, 30) | days(2026, 5, 8) | days(2026, 6, 11) | days(2026, 11, 3)),
        # 2027: Sat Feb 20 (works instead of Mon Feb 22, the eve of Feb 23), Apr 30, Jun 11,
        # Nov 3.
        (2027, days(2027, 2, 20) | days(2027, 4, 30) | days(2027, 6, 11) | days(2027, 11, 3)),
    ],
)  # fmt: skip
def test_shortened_pre_holiday_days(year: int, expected: set[date]) -> None:
    assert production_calendar_days(year).shortened == expected


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2024, (248, 1979)),  # published norm
        (2025, (247, 1972)),  # published norm
        (2026, (247, 1972)),  # 247 * 8 - 4 shortened days
        (2027, (247, 1972)),  # 247 * 8 - 4 shortened days
    ],
)
def test_annual_norm_of_working_hours(year: int, expected: tuple[int, int]) -> None:
    assert norm(year) == expected


def test_statutory_holidays_agree_with_the_package() -> None:
    # The module keeps art. 112's list itself; the package must list the same dates.
    for year in (2025, 2026, 2027):
        statutory = holidays.Russia(years=year, observed=False)
        for month, day in [(1, d) for d in range(1, 9)] + [
            (2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)
        ]:  # fmt: skip
            assert date(year, month, day) in statutory


def test_names_in_both_languages() -> None:
    assert production_calendar_days(2026, language="en_US").names[date(2026, 6, 12)] == (
        "Russia Day"
    )
    assert production_calendar_days(2026).names[date(2026, 6, 12)] == "День России"
    with pytest.raises(ValueError, match="language"):
        production_calendar_days(2026, language="de")


# ----------------------------------------------------------------- regional


def test_tatarstan_republic_day_2026_on_a_sunday() -> None:
    info = production_calendar_days(2026, "RU-TA", language="en_US")
    assert date(2026, 8, 30) in info.days_off
    assert info.names[date(2026, 8, 30)] == "Republic of Tatarstan Day"
    # A Sunday: nothing moves, Friday Aug 28 is an ordinary day.
    assert date(2026, 8, 31) not in info.days_off
    assert date(2026, 8, 28) not in info.shortened


def test_tatarstan_2026_holidays_and_eves() -> None:
    info = production_calendar_days(2026, "ru-ta")
    # Uraza Bayram Fri Mar 20, Kurban Bayram Wed May 27, Constitution Day Fri Nov 6.
    assert days(2026, 3, 20) | days(2026, 5, 27) | days(2026, 11, 6) <= info.days_off
    # Their eves are shortened in Tatarstan (Thu Mar 19, Tue May 26, Thu Nov 5) ...
    assert days(2026, 3, 19) | days(2026, 5, 26) | days(2026, 11, 5) <= info.shortened
    # ... but not in the federal calendar.
    assert date(2026, 11, 5) not in production_calendar_days(2026).shortened
    assert norm(2026, "RU-TA") == (244, 1945)  # 247 - 3 weekday holidays; 7 short days


def test_bashkortostan_republic_day() -> None:
    info = production_calendar_days(2025, "RU-BA", language="en_US")
    # Oct 11 2025 is a Saturday: listed, not moved; Friday Oct 10 is its eve.
    assert date(2025, 10, 11) in info.days_off
    assert info.names[date(2025, 10, 11)] == "Republic of Bashkortostan Day"
    assert date(2025, 10, 10) in info.shortened
    # 2027: Monday Oct 11 is closed in a Bashkortostan calendar.
    cal = production_calendar("Asia/Yekaterinburg", [2027], "RU-BA")
    assert cal.exceptions[date(2027, 10, 11)] == ()


def test_islamic_holidays_agree_with_the_package_tables() -> None:
    from holidays.calendars.islamic import _IslamicLunar

    lunar = _IslamicLunar()
    for year in (2025, 2026, 2027):
        info = production_calendar_days(year, "RU-BA")
        fitr = {d for d, _ in lunar.eid_al_fitr_dates(year) if d.year == year}
        adha = {d for d, _ in lunar.eid_al_adha_dates(year) if d.year == year}
        assert fitr | adha <= info.days_off


def test_unknown_subdivision_is_rejected() -> None:
    assert {"RU-TA", "RU-BA"} <= REGIONAL_SUBDIVISIONS
    with pytest.raises(ValueError, match="RU-XX"):
        production_calendar_days(2026, "RU-XX")


# ----------------------------------------------------------------- as a business calendar


def test_production_calendar_exceptions() -> None:
    cal = production_calendar("Europe/Moscow", [2025, 2026])
    assert cal.exceptions[date(2025, 11, 1)] == ((time(9), time(17)),)  # short working Saturday
    assert cal.exceptions[date(2026, 4, 30)] == ((time(9), time(17)),)  # eve of May 1
    assert cal.exceptions[date(2026, 1, 5)] == ()  # New Year holidays
    assert date(2026, 1, 12) not in cal.exceptions  # ordinary Monday
    assert cal.hours_on(date(2026, 1, 12)) == ((time(9), time(18)),)


def test_production_calendar_rejects_hours_too_short_to_shorten() -> None:
    with pytest.raises(ValueError, match="too short"):
        production_calendar("Europe/Moscow", [2026], hours=(time(9), time(10)))
