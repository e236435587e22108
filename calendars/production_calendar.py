"""The Russian production calendar (производственный календарь) as business-time calendars.

Pure Python, no Django. Federal data come from the ``holidays`` package; regional holidays
and the shortened pre-holiday day are added here.

What the ``holidays`` package provides (checked against holidays 0.109)
-----------------------------------------------------------------------
* the public holidays of Labour Code art. 112 (New Year holidays Jan 1-6 and 8, Christmas
  Jan 7, Feb 23, Mar 8, May 1, May 9, Jun 12, Nov 4);
* the statutory move of a holiday that falls on a weekend to the next working day
  ("observed", e.g. 2026-03-09 for Sunday 2026-03-08);
* the government decrees' transfers: the freed weekday as a day off ("Day off (substituted
  from ...)") and the weekend day that becomes working in ``Russia.weekend_workdays``
  (2025-11-01, 2027-02-20), with the swap table in ``RussiaStaticHolidays``.
  Decrees cross-checked: 2025 (Jan 4 -> May 2, Jan 5 -> Dec 31, Feb 23 -> May 8,
  Mar 8 -> Jun 13, Sat Nov 1 <-> Mon Nov 3), 2026 (Jan 3 -> Jan 9, Jan 4 -> Dec 31),
  2027 (Jan 2 -> Nov 5, Jan 3 -> Dec 31, Sat Feb 20 <-> Mon Feb 22).

What this module adds
---------------------
* Regional non-working holidays per federal subject (ISO 3166-2): Tatarstan (RU-TA) and
  Bashkortostan (RU-BA). A regional holiday on a weekend is *not* moved to a weekday (a
  documented simplification; the republics rarely transfer them).
* Shortened pre-holiday days (Labour Code art. 95: the working day immediately preceding a
  non-working holiday is one hour shorter), which the package does not expose. The rule, as
  the Ministry of Labour applies it:

  1. a working day whose next calendar day is a non-working *holiday* (art. 112, or a
     regional holiday of the subdivision) is shortened. A day before a mere day off (an
     observed or transferred day, e.g. 2025-12-30 before the transferred 2025-12-31) is not;
  2. when a decree swaps a weekend day W (made working) with a weekday Y (made a day off)
     and Y was a pre-holiday day under rule 1, the shortening moves with the work to W:
     Sat 2025-11-01 (Y = Mon Nov 3, before Unity Day), Sat 2027-02-20 (Y = Mon Feb 22).

  Check: 2024 gives 248 working days and 1979 hours on a 40-hour week, 2025 gives 247 days
  and 1972 hours - the published norms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from calendars.business_time import Calendar, WeeklyInterval

__all__ = [
    "REGIONAL_SUBDIVISIONS",
    "ProductionYear",
    "production_calendar",
    "production_calendar_days",
]

_ONE_DAY = timedelta(days=1)

# Labour Code art. 112 (as amended in 2012): the non-working public holidays, by (month, day).
# Kept here rather than read from the package's names, which are translated strings.
_FEDERAL_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, day) for day in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}
)

# Islamic holidays as non-working days in Tatarstan and Bashkortostan, set every year by the
# decrees of the republics' heads on the advice of their muftiates. 2025 and 2026 are the
# decreed dates (Uraza Bayram 2025-03-30, Kurban Bayram 2025-06-06; 2026-03-20, 2026-05-27);
# 2027 is provisional - the tabular Hijri dates in ``holidays`` (Eid al-Fitr 2027-03-09, Eid
# al-Adha 2027-05-16) - until the 2027 decrees appear. Both republics use the same dates.
_ISLAMIC: dict[int, tuple[date, date]] = {
    2025: (date(2025, 3, 30), date(2025, 6, 6)),
    2026: (date(2026, 3, 20), date(2026, 5, 27)),
    2027: (date(2027, 3, 9), date(2027, 5, 16)),
}

_NAMES: dict[str, dict[str, str]] = {
    "uraza": {"ru": "Ураза-байрам", "en_US": "Eid al-Fitr (Uraza Bayram)"},
    "kurban": {"ru": "Курбан-байрам", "en_US": "Eid al-Adha (Kurban Bayram)"},
    "ta_republic": {"ru": "День Республики Татарстан", "en_US": "Republic of Tatarstan Day"},
    "ta_constitution": {
        "ru": "День Конституции Республики Татарстан",
        "en_US": "Constitution Day of the Republic of Tatarstan",
    },
    "ba_republic": {"ru": "День Республики Башкортостан", "en_US": "Republic of Bashkortostan Day"},
}

# Fixed-date regional non-working holidays: subdivision -> ((month, day, name key), ...).
_REGIONAL_FIXED: dict[str, tuple[tuple[int, int, str], ...]] = {
    "RU-TA": ((8, 30, "ta_republic"), (11, 6, "ta_constitution")),
    "RU-BA": ((10, 11, "ba_republic"),),
}

REGIONAL_SUBDIVISIONS: frozenset[str] = frozenset(_REGIONAL_FIXED)
"""ISO 3166-2 codes of the federal subjects whose regional holidays are known here."""

_LANGUAGES = ("ru", "en_US")


@dataclass(frozen=True)
class ProductionYear:
    """One year of the production calendar for Russia (optionally one federal subject).

    ``days_off`` holds holidays and transferred days off, not ordinary weekends;
    ``working_weekends`` the Saturdays/Sundays made working by decree; ``shortened`` the
    working days one hour shorter (pre-holiday); ``names`` names each date in ``days_off``.
    """

    year: int
    subdivision: str | None
    days_off: frozenset[date]
    working_weekends: frozenset[date]
    shortened: frozenset[date]
    names: dict[date, str] = field(hash=False)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (in this year) is a working day of the production calendar."""
        if day in self.days_off:
            return False
        return day.weekday() < 5 or day in self.working_weekends


def production_calendar_days(
    year: int, subdivision: str | None = None, *, language: str = "ru"
) -> ProductionYear:
    """The production calendar of ``year``: days off, working weekends, shortened days.

    ``subdivision`` is an ISO 3166-2 code ("RU-TA"); ``None`` gives the federal calendar.
    ``language`` ("ru" or "en_US") picks the holiday names. Transfers exist only for the years
    whose decrees the installed ``holidays`` release carries (2025-2027 are checked).
    """
    info = _production_year(year, _subdivision(subdivision), language)
    # The cached value is shared; hand out a names dict the caller may change.
    return replace(info, names=dict(info.names))


@lru_cache(maxsize=64)
def _production_year(year: int, subdivision: str | None, language: str) -> ProductionYear:
    if language not in _LANGUAGES:
        raise ValueError(f"language must be one of {_LANGUAGES}, got {language!r}")
    # A window of three years so that transfers and pre-holiday days at the year's edges
    # see their neighbours.
    federal = holidays.Russia(years=(year - 1, year, year + 1), language=language)
    names: dict[date, str] = {day: name for day, name in federal.items() if day.year == year}
    regional: set[date] = set()
    if subdivision is not None:
        for neighbour in (year, year + 1):
            for day, key in _regional_holidays(neighbour, subdivision):
                regional.add(day)
                if day.year == year:
                    # A regional holiday on a federal one keeps both names.
                    name = _NAMES[key][language]
                    names[day] = f"{names[day]}; {name}" if day in names else name

    off = set(federal) | regional
    weekend_workdays = set(federal.weekend_workdays)

    def is_holiday(day: date) -> bool:
        return (day.month, day.day) in _FEDERAL_HOLIDAYS or day in regional

    def is_working(day: date) -> bool:
        return day not in off and (day.weekday() < 5 or day in weekend_workdays)

    shortened = {
        day
        for day in _days_of(year)
        if is_working(day) and is_holiday(day + _ONE_DAY)  # rule 1
    }
    for worked, freed in _decree_swaps(year, weekend_workdays):  # rule 2
        if worked.year == year and is_working(worked) and is_holiday(freed + _ONE_DAY):
            shortened.add(worked)

    return ProductionYear(
        year=year,
        subdivision=subdivision,
        days_off=frozenset(day for day in off if day.year == year),
        working_weekends=frozenset(day for day in weekend_workdays if day.year == year),
        shortened=frozenset(shortened),
        names=names,
    )


def production_calendar(
    zone: str,
    years: Iterable[int],
    subdivision: str | None = None,
    hours: tuple[time, time] = (time(9), time(18)),
) -> Calendar:
    """A Monday-Friday calendar with ``hours`` in ``zone``, following the production calendar
    of ``years``: holidays and transferred days off are closed, decreed working weekends
    open with full hours, pre-holiday days close one hour early. Outside ``years`` only the
    weekly hours apply."""
    open_, close = hours
    short_close = _one_hour_earlier(open_, close)
    exceptions: dict[date, tuple[tuple[time, time], ...]] = {}
    for year in sorted(set(years)):
        info = production_calendar_days(year, subdivision)
        for day in info.days_off:
            exceptions[day] = ()
        for day in info.working_weekends:
            exceptions[day] = ((open_, close),)
        for day in info.shortened:
            exceptions[day] = ((open_, short_close),)
    return Calendar(
        zone=zone,
        weekly=tuple(WeeklyInterval(weekday, open_, close) for weekday in range(5)),
        exceptions=exceptions,
    )


def _subdivision(code: str | None) -> str | None:
    if code is None:
        return None
    normalised = code.strip().upper()
    if normalised not in REGIONAL_SUBDIVISIONS:
        known = ", ".join(sorted(REGIONAL_SUBDIVISIONS))
        raise ValueError(f"no regional holidays known for {code!r}; supported: {known}")
    return normalised


def _regional_holidays(year: int, subdivision: str) -> list[tuple[date, str]]:
    """Regional non-working holidays of ``subdivision`` in ``year`` as (date, name key)."""
    uraza, kurban = _islamic_dates(year)
    days = [(uraza, "uraza"), (kurban, "kurban")]
    days += [(date(year, month, day), key) for month, day, key in _REGIONAL_FIXED[subdivision]]
    return days


def _islamic_dates(year: int) -> tuple[date, date]:
    """(Uraza Bayram, Kurban Bayram) of ``year``: the table above, else the package's
    tabular Hijri estimate."""
    if year in _ISLAMIC:
        return _ISLAMIC[year]
    try:
        # A private helper of ``holidays``; only reached for years outside the table.
        from holidays.calendars.islamic import _IslamicLunar

        lunar = _IslamicLunar()
        fitr = [day for day, _ in lunar.eid_al_fitr_dates(year) if day.year == year]
        adha = [day for day, _ in lunar.eid_al_adha_dates(year) if day.year == year]
    except (ImportError, AttributeError) as exc:  # pragma: no cover - depends on the package
        raise ValueError(f"no Uraza/Kurban Bayram dates known for {year}") from exc
    if len(fitr) != 1 or len(adha) != 1:
        raise ValueError(f"no unambiguous Uraza/Kurban Bayram dates for {year}")
    return fitr[0], adha[0]


def _decree_swaps(year: int, weekend_workdays: set[date]) -> list[tuple[date, date]]:
    """(worked weekend day, freed weekday) pairs of the decrees around ``year``.

    Read from the package's decree table: entries are (to month, to day, from month, from
    day) within one year; a pair whose "from" day became a working weekend is a swap.
    """
    from holidays.countries.russia import RussiaStaticHolidays

    pairs: list[tuple[date, date]] = []
    table: Mapping[int, object] = RussiaStaticHolidays.special_public_holidays
    for table_year in (year - 1, year, year + 1):
        entries = table.get(table_year, ())
        if entries and isinstance(entries[0], int):  # type: ignore[index]
            entries = (entries,)  # a year with one entry stores a bare tuple
        for to_month, to_day, from_month, from_day in entries:  # type: ignore[attr-defined]
            worked = date(table_year, from_month, from_day)
            if worked in weekend_workdays:
                pairs.append((worked, date(table_year, to_month, to_day)))
    return pairs


def _days_of(year: int) -> Iterable[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += _ONE_DAY


def _one_hour_earlier(open_: time, close: time) -> time:
    """``close`` minus one hour, refusing hours too short to shorten."""
    anchor = date(2000, 1, 3)
    start = datetime.combine(anchor, open_)
    end = datetime.combine(anchor if close > open_ else anchor + _ONE_DAY, close)
    if end - start <= timedelta(hours=1):
        raise ValueError(f"working hours {open_}-{close} are too short to shorten by an hour")
    return (end - timedelta(hours=1)).time()
