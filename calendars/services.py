"""Calendar rows → the pure business-time calendars the SLA engine counts in; calendar edits."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from django.db import transaction
from django.utils.translation import gettext as _

from calendars import business_time as bt
from calendars.models import BusinessCalendar, CalendarException, WorkingInterval
from calendars.production_calendar import REGIONAL_SUBDIVISIONS, production_calendar_days
from servicedesk.exceptions import ValidationFailed
from servicedesk.timezones import is_valid_time_zone

# The production calendar is known for these years (the holidays package's decrees).
PRODUCTION_YEARS = range(2024, 2028)


@dataclass(frozen=True)
class CalendarContext:
    """Where a calendar is used: the zone and region to read "the store's own" from."""

    time_zone: str
    region_code: str = ""


def calendar_zone(calendar: BusinessCalendar, context: CalendarContext) -> str:
    """The zone ``calendar`` counts in for ``context``; refuses an invalid store zone."""
    zone = calendar.time_zone or context.time_zone
    if not is_valid_time_zone(zone):
        # Never fall back to the server's zone: a wrong zone silently shifts every deadline.
        raise ValidationFailed(
            _("“%(zone)s” is not a valid time zone; the SLA cannot be counted.") % {"zone": zone},
            code="invalid_time_zone",
            fields={"time_zone": [_("Unknown time zone.")]},
        )
    return zone


def calendar_holiday_region(calendar: BusinessCalendar, context: CalendarContext) -> str:
    return calendar.holiday_region or context.region_code


def calendar_working_time(
    calendar: BusinessCalendar, *, zone: str, holiday_region: str = ""
) -> bt.WorkingTime:
    """The pure calendar for ``calendar`` in ``zone``, every effective-dated edit included.

    Cached per (calendar, last change, zone, region): building one reads two small tables.
    """
    stamp = calendar.updated_at.isoformat() if calendar.updated_at else ""
    return _working_time(calendar.pk, stamp, zone, holiday_region)


def calendar_invalidate() -> None:
    _working_time.cache_clear()


@lru_cache(maxsize=512)
def _working_time(calendar_id: int, stamp: str, zone: str, holiday_region: str) -> bt.WorkingTime:
    calendar = BusinessCalendar.objects.get(pk=calendar_id)
    if calendar.always_open:
        return bt.calendar_24x7(zone)
    intervals = list(WorkingInterval.objects.filter(calendar_id=calendar_id))
    exceptions = _exceptions(calendar, holiday_region)
    boundaries = sorted(
        {i.effective_from for i in intervals if i.effective_from}
        | {i.effective_until for i in intervals if i.effective_until}
    )
    if not boundaries:
        return _calendar(zone, intervals, exceptions)
    versions: list[tuple[datetime | None, bt.WorkingTime]] = []
    for begin in [None, *boundaries]:
        in_force = [i for i in intervals if _in_force(i, begin)]
        versions.append((begin, _calendar(zone, in_force, exceptions)))
    return bt.EffectiveDatedCalendar(versions=tuple(versions))


def _in_force(interval: WorkingInterval, instant: datetime | None) -> bool:
    if instant is None:
        return interval.effective_from is None
    starts_ok = interval.effective_from is None or interval.effective_from <= instant
    ends_ok = interval.effective_until is None or interval.effective_until > instant
    return starts_ok and ends_ok


def _calendar(
    zone: str,
    intervals: list[WorkingInterval],
    exceptions: dict[date, tuple[tuple[time, time], ...] | None],
) -> bt.Calendar:
    weekly = tuple(bt.WeeklyInterval(i.weekday, i.opens, i.closes) for i in intervals)
    by_day: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for item in weekly:
        by_day[item.weekday].append((item.start, item.end))
    first_working_day = next((d for d in range(7) if by_day[d]), None)
    resolved: dict[date, tuple[tuple[time, time], ...]] = {}
    for day, hours in exceptions.items():
        if hours is None:  # a decreed working weekend: that week's ordinary working hours
            hours = tuple(by_day[first_working_day]) if first_working_day is not None else ()
        resolved[day] = hours
    return bt.Calendar(zone=zone, weekly=weekly, exceptions=resolved)


def _exceptions(
    calendar: BusinessCalendar, holiday_region: str
) -> dict[date, tuple[tuple[time, time], ...] | None]:
    """Production-calendar days first, then the calendar's own dated exceptions on top.

    ``None`` marks a decreed working weekend whose hours come from the weekly intervals.
    """
    result: dict[date, tuple[tuple[time, time], ...] | None] = {}
    shortened: set[date] = set()
    if calendar.production_calendar:
        # Regional holidays where the platform knows them; the federal calendar elsewhere.
        region = holiday_region if holiday_region in REGIONAL_SUBDIVISIONS else None
        for year in PRODUCTION_YEARS:
            info = production_calendar_days(year, region)
            result.update(dict.fromkeys(info.days_off, ()))
            result.update(dict.fromkeys(info.working_weekends))
            shortened |= info.shortened
    own: dict[date, list[tuple[time, time]]] = defaultdict(list)
    days_off: set[date] = set()
    for row in CalendarException.objects.filter(calendar=calendar):
        if row.kind == "day_off":
            days_off.add(row.day)
        else:
            own[row.day].append((row.opens, row.closes))
    # A day marked off wins over working hours given for the same date.
    result.update({day: tuple(sorted(hours)) for day, hours in own.items()})
    result.update(dict.fromkeys(days_off, ()))
    own_days = own.keys() | days_off
    result.update(_shortened(calendar, shortened - own_days))
    return result


def _shortened(
    calendar: BusinessCalendar, days: set[date]
) -> dict[date, tuple[tuple[time, time], ...]]:
    """Labour Code art. 95: the working day before a holiday is one hour shorter."""
    if not days:
        return {}
    weekly: dict[int, list[tuple[time, time]]] = defaultdict(list)
    for row in WorkingInterval.objects.filter(calendar=calendar, effective_until__isnull=True):
        weekly[row.weekday].append((row.opens, row.closes))
    result: dict[date, tuple[tuple[time, time], ...]] = {}
    for day in days:
        hours = sorted(weekly.get(day.weekday()) or weekly.get(0) or [])
        if not hours:
            continue
        *head, (opens, closes) = hours
        shorter = (datetime.combine(day, closes) - timedelta(hours=1)).time()
        result[day] = (*head, (opens, shorter)) if shorter > opens else tuple(head)
    return result


@transaction.atomic
def calendar_set_week(
    *,
    calendar: BusinessCalendar,
    intervals: list[tuple[int, time, time]],
    effective_from: datetime,
) -> BusinessCalendar:
    """Replace the weekly hours from ``effective_from`` on; earlier time keeps the old hours.

    Returns the calendar; the SLA engine then moves the running clocks that count in it.
    """
    for weekday, opens, closes in intervals:
        if not 0 <= weekday <= 6:
            raise ValidationFailed(_("Weekday must be 0 (Monday) to 6 (Sunday)."))
        if opens == closes and opens != time(0):
            raise ValidationFailed(_("An interval must not be empty."))
    BusinessCalendar.objects.select_for_update().filter(pk=calendar.pk).first()
    current = WorkingInterval.objects.filter(calendar=calendar, effective_until__isnull=True)
    current.filter(effective_from__gte=effective_from).delete()
    current.update(effective_until=effective_from)
    WorkingInterval.objects.bulk_create(
        WorkingInterval(
            calendar=calendar,
            weekday=weekday,
            opens=opens,
            closes=closes,
            effective_from=effective_from,
        )
        for weekday, opens, closes in intervals
    )
    calendar.save(update_fields=["updated_at"])
    return calendar


# code → (name, zone, always open, production calendar, weekly [(weekday, opens, closes)])
PRESETS: dict[str, tuple[str, str, bool, bool, list[tuple[int, time, time]]]] = {
    "24x7": ("24×7", "", True, False, []),
    "office": (
        "Mon–Fri 09:00–18:00",
        "",
        False,
        False,
        [(d, time(9), time(18)) for d in range(5)],
    ),
    "store-hours": (
        "Store hours, daily 08:00–22:00",
        "",
        False,
        False,
        [(d, time(8), time(22)) for d in range(7)],
    ),
    "ru-production": (
        "Russian production calendar, Mon–Fri 09:00–18:00",
        "",
        False,
        True,
        [(d, time(9), time(18)) for d in range(5)],
    ),
}


@transaction.atomic
def calendar_presets_ensure() -> dict[str, BusinessCalendar]:
    """Create the preset calendars that are missing (all count in the store's own zone)."""
    result: dict[str, BusinessCalendar] = {}
    for code, (name, zone, always_open, production, weekly) in PRESETS.items():
        calendar, created = BusinessCalendar.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "time_zone": zone,
                "always_open": always_open,
                "production_calendar": production,
            },
        )
        if created:
            WorkingInterval.objects.bulk_create(
                WorkingInterval(calendar=calendar, weekday=d, opens=o, closes=c)
                for d, o, c in weekly
            )
        result[code] = calendar
    return result
