"""Calendar rows → the pure business-time calendars the SLA engine counts in; calendar edits."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from calendars import business_time as bt
from calendars.choices import ExceptionKind
from calendars.models import BusinessCalendar, CalendarException, WorkingInterval
from calendars.production_calendar import REGIONAL_SUBDIVISIONS, production_calendar_days
from servicedesk.actors import Actor
from servicedesk.choices import Role
from servicedesk.exceptions import NotFound, PermissionDenied, ValidationFailed
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
    return _working_time(calendar.pk, calendar.revision, zone, holiday_region)


def calendar_invalidate() -> None:
    _working_time.cache_clear()


@lru_cache(maxsize=512)
def _working_time(
    calendar_id: int, revision: int, zone: str, holiday_region: str
) -> bt.WorkingTime:
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


def calendar_touch(calendar: BusinessCalendar) -> None:
    """Mark an edit: a new revision, so every process rebuilds the calendar's working time."""
    BusinessCalendar.objects.filter(pk=calendar.pk).update(
        revision=F("revision") + 1, updated_at=timezone.now()
    )
    calendar.refresh_from_db(fields=["revision", "updated_at"])


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
    if calendar.always_open:
        raise ValidationFailed(
            _("A 24×7 calendar has no weekly hours."),
            fields={"intervals": [_("A 24×7 calendar has no weekly hours.")]},
        )
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
    calendar_touch(calendar)
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
def calendar_presets_ensure(
    calendar_model=BusinessCalendar, interval_model=WorkingInterval
) -> dict[str, BusinessCalendar]:
    """Create the preset calendars that are missing (all count in the store's own zone).

    The models can be passed in so the data migration runs the same code on its historical
    models."""
    result: dict[str, BusinessCalendar] = {}
    for code, (name, zone, always_open, production, weekly) in PRESETS.items():
        calendar, created = calendar_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "time_zone": zone,
                "always_open": always_open,
                "production_calendar": production,
            },
        )
        if created:
            interval_model.objects.bulk_create(
                interval_model(calendar=calendar, weekday=d, opens=o, closes=c)
                for d, o, c in weekly
            )
        result[code] = calendar
    return result


# =========================================================================================
# Calendar management: create, rename, dated exceptions (the calendars API and admin).
# A change of hours is followed by ``sla.services.clocks_follow_calendar_edit``; the
# orchestration that also writes the tickets' timelines lives in ``tickets.sla_admin``.
# =========================================================================================

_REGION_CODE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def calendar_admin_check(actor: Actor | None) -> None:
    """Calendars decide every deadline: only provider administrators change them.

    ``None`` is a trusted interface without a request actor (the admin site, a command).
    """
    if actor is not None and actor.role != Role.PROVIDER_ADMIN:
        raise PermissionDenied(_("Only provider administrators change calendars."))


def calendar_week_check(intervals: list[tuple[int, time, time]]) -> None:
    """Refuse a weekday outside 0..6 or an empty interval, naming the ``intervals`` field."""
    for weekday, opens, closes in intervals:
        if not 0 <= weekday <= 6:
            raise ValidationFailed(
                _("Weekday must be 0 (Monday) to 6 (Sunday)."),
                fields={"intervals": [_("Weekday must be 0 (Monday) to 6 (Sunday).")]},
            )
        if opens == closes and opens != time(0):
            message = _("An interval must not be empty (%(at)s–%(at)s).") % {
                "at": opens.strftime("%H:%M")
            }
            raise ValidationFailed(message, fields={"intervals": [message]})


@transaction.atomic
def calendar_create(
    *,
    actor: Actor | None,
    code: str,
    name: str,
    time_zone: str = "",
    always_open: bool = False,
    production_calendar: bool = False,
    holiday_region: str = "",
    intervals: list[tuple[int, time, time]] | None = None,
) -> BusinessCalendar:
    """Create a calendar with its weekly hours (in force from the beginning of time).

    Its zone, 24×7 flag, production calendar and holiday region are fixed from then on:
    changing them would silently recount time clocks have already consumed, so a different
    kind of calendar is a new calendar.
    """
    calendar_admin_check(actor)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("A name is required.")]
    if BusinessCalendar.objects.filter(code=code).exists():
        errors["code"] = [_("A calendar with code “%(code)s” exists.") % {"code": code}]
    if time_zone and not is_valid_time_zone(time_zone):
        errors["time_zone"] = [
            _("“%(zone)s” is not an IANA time zone (e.g. Europe/Moscow).") % {"zone": time_zone}
        ]
    if holiday_region and not _REGION_CODE.match(holiday_region):
        errors["holiday_region"] = [_("An ISO 3166-2 code such as RU-TA, or empty.")]
    week = list(intervals or [])
    if always_open and week:
        errors["intervals"] = [_("A 24×7 calendar has no weekly hours.")]
    if errors:
        raise ValidationFailed(_("The calendar is not valid."), fields=errors)
    calendar_week_check(week)
    calendar = BusinessCalendar.objects.create(
        code=code,
        name=name,
        time_zone=time_zone,
        always_open=always_open,
        production_calendar=production_calendar,
        holiday_region=holiday_region,
    )
    WorkingInterval.objects.bulk_create(
        WorkingInterval(calendar=calendar, weekday=d, opens=o, closes=c) for d, o, c in week
    )
    return calendar


@transaction.atomic
def calendar_rename(*, actor: Actor | None, calendar_id: int, name: str) -> BusinessCalendar:
    """Change a calendar's display name; nothing is recounted."""
    calendar_admin_check(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(
            _("A name is required."), fields={"name": [_("A name is required.")]}
        )
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar_id)
    calendar.name = name
    calendar.save(update_fields=["name", "updated_at"])
    calendar_touch(calendar)
    return calendar


@transaction.atomic
def calendar_exception_add(
    *,
    calendar: BusinessCalendar,
    day: date,
    kind: str,
    opens: time | None = None,
    closes: time | None = None,
    note: str = "",
) -> CalendarException:
    """Make ``day`` a day off, or give it working hours of its own (several rows allowed).

    Returns the row; the caller then moves the running clocks that count in the calendar.
    A date in the past is allowed on purpose: it is how a wrong calendar is corrected before
    the affected tickets are recomputed.
    """
    errors: dict[str, list[str]] = {}
    BusinessCalendar.objects.select_for_update().filter(pk=calendar.pk).first()
    same_day = CalendarException.objects.filter(calendar=calendar, day=day)
    if kind == ExceptionKind.DAY_OFF:
        if opens is not None or closes is not None:
            errors["opens"] = [_("A day off has no hours.")]
        if same_day.exists():
            errors["day"] = [_("%(day)s already has an exception; remove it first.") % {"day": day}]
    elif kind == ExceptionKind.WORKING:
        if opens is None or closes is None:
            errors["opens"] = [_("Working hours need an opening and a closing time.")]
        elif opens == closes and opens != time(0):
            errors["closes"] = [_("An interval must not be empty.")]
        if same_day.filter(kind=ExceptionKind.DAY_OFF).exists():
            errors["day"] = [_("%(day)s is a day off; remove that first.") % {"day": day}]
    else:
        errors["kind"] = [_("Unknown kind: %(kind)s.") % {"kind": kind}]
    if errors:
        raise ValidationFailed(_("The calendar exception is not valid."), fields=errors)
    row = CalendarException.objects.create(
        calendar=calendar, day=day, kind=kind, opens=opens, closes=closes, note=note
    )
    calendar_touch(calendar)
    return row


@transaction.atomic
def calendar_exception_remove(*, calendar: BusinessCalendar, exception_id: int) -> date:
    """Delete one dated exception of ``calendar``; returns its date."""
    BusinessCalendar.objects.select_for_update().filter(pk=calendar.pk).first()
    row = CalendarException.objects.filter(calendar=calendar, pk=exception_id).first()
    if row is None:
        raise NotFound(_("Calendar exception not found."))
    row.delete()
    calendar_touch(calendar)
    return row.day
