"""Business-time arithmetic: working calendars, SLA deadlines and elapsed working time.

Pure Python: no Django, no ORM, no clock. Every function takes the instants it needs and
returns timezone-aware UTC datetimes.

Model
-----
A calendar describes working time as ``[open, close)`` intervals of *local wall time* in an
IANA zone. Each interval belongs to the local date on which it opens: the weekday and any
dated exception (holiday, transferred working day, shortened day) are decided on that local
date, and an interval whose close is not after its open (``22:00-06:00``, ``18:00-00:00``)
runs into the next local day. Wall times become UTC per local date through the zone database
(:mod:`zoneinfo`), so DST and rule changes (Europe/Volgograd moving from UTC+4 to UTC+3 on
2020-12-27) are taken from the zone rules, never from a fixed offset.

DST semantics (the choice made here)
------------------------------------
Both bounds of an interval are resolved with ``fold=0`` and then normalised through UTC:

* a wall time inside a spring-forward gap does not exist; ``fold=0`` reads it with the offset
  in force *before* the gap, which moves it *forward* by the skipped amount (02:30 in Berlin on
  2026-03-29 is 01:30 UTC, i.e. 03:30 CEST). An interval that contains the gap therefore
  shrinks by the skipped hour (``[01:00, 04:00)`` is 2 real hours that day); an interval lying
  wholly inside the gap keeps its length and is shifted past it; an interval whose bounds
  cross after mapping (``[02:30, 03:10)``) is empty that day.
* a wall time inside a fall-back overlap is read as its *first* occurrence. An interval that
  contains the repeated hour counts it twice in elapsed time: ``[01:00, 03:00)`` in New York on
  2026-11-01 is 3 real hours.

Counting
--------
Working time is measured in real (UTC) seconds inside working intervals, minus pauses.
``add_working_time`` returns the earliest instant at which the working time in ``[start, due]``
equals the target; see its docstring for the edge rules. Arithmetic is exact to the
microsecond (``timedelta``), so results are exact to the second whenever the inputs are whole
seconds; ``working_seconds_between`` floors to whole seconds.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "HORIZON",
    "PRESETS",
    "UTC",
    "Calendar",
    "EffectiveDatedCalendar",
    "IntersectionCalendar",
    "Interval",
    "NoWorkingTime",
    "WeeklyInterval",
    "WorkingTime",
    "add_working_time",
    "calendar_24x7",
    "calendar_office",
    "calendar_store_hours",
    "is_working",
    "next_opening",
    "warning_seconds",
    "working_seconds_between",
]


Interval = tuple[datetime, datetime]
"""A half-open ``[start, end)`` span of working time, both ends aware UTC datetimes."""

HORIZON = timedelta(days=3 * 366)
"""How far ahead we look for working time before giving up: a calendar that has no working
second in this long a stretch is treated as never opening again (``NoWorkingTime``)."""

_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
_TINY = timedelta(microseconds=1)
# "Until forever" for open-ended pauses; only ever compared, never shifted.
_FOREVER = datetime.max.replace(tzinfo=UTC)
# Search windows stop here so that converting a window end to any zone cannot overflow.
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)
# Instants before this would need local dates before year 1 (a day early, in UTC-12).
_EARLIEST = datetime(1, 1, 3, tzinfo=UTC)
# No SLA target is a century long; past this one the search would run for seconds and a
# timedelta can overflow, so such a target is refused up front.
MAX_TARGET_SECONDS = 100 * 366 * 24 * 3600


class NoWorkingTime(ValueError):
    """The target can never be reached: no working time is left within the search horizon
    (a calendar without hours, a run of closed days longer than ``HORIZON``, or an open-ended
    pause)."""


@runtime_checkable
class WorkingTime(Protocol):
    """Anything that can list its working time between two instants."""

    def working_intervals(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Yield the working intervals inside ``[start, end)`` in UTC: clipped to the window,
        ascending, disjoint and merged (no two intervals touch). Lazy, so a caller may ask for
        a long window and stop early."""
        ...


# --------------------------------------------------------------------------- validation


def _as_utc(value: datetime, name: str) -> datetime:
    """Return ``value`` converted to UTC; reject naive datetimes with a clear message."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}; "
            "attach a zone, e.g. tzinfo=datetime.timezone.utc"
        )
    try:
        converted = value.astimezone(UTC)
    except OverflowError:
        converted = None
    if converted is None or not _EARLIEST <= converted <= _LATEST:
        raise ValueError(
            f"{name} {value.isoformat()} is outside the supported range "
            f"{_EARLIEST.isoformat()} .. {_LATEST.isoformat()}"
        )
    return converted


def _load_zone(name: str) -> ZoneInfo:
    """Return the IANA zone ``name`` or raise ``ValueError`` naming it."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"time zone must be a non-empty IANA name, got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {name!r}: expected an IANA name") from exc


def _check_wall_time(value: time, what: str) -> None:
    if not isinstance(value, time):
        raise TypeError(f"{what} must be a datetime.time, got {type(value).__name__}")
    if value.tzinfo is not None:
        # The calendar's zone decides the offset; a time with its own tzinfo would be ambiguous.
        raise ValueError(f"{what} must be a naive wall time (the calendar zone applies)")


# --------------------------------------------------------------------------- calendars


@dataclass(frozen=True)
class WeeklyInterval:
    """Working hours on one weekday, in local wall time.

    ``weekday`` is 0 for Monday to 6 for Sunday. ``end <= start`` means the interval crosses
    midnight into the next local day (``22:00-06:00``); ``end == time(0)`` means "until
    midnight" and ``start == end`` a full 24 hours.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not isinstance(self.weekday, int) or not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {self.weekday!r}")
        _check_wall_time(self.start, "WeeklyInterval.start")
        _check_wall_time(self.end, "WeeklyInterval.end")


@dataclass(frozen=True)
class Calendar:
    """Weekly working hours in an IANA zone, with dated exceptions.

    ``exceptions`` maps a local date to the hours that replace the weekly ones on that date:
    ``()`` makes it a day off (holiday, transferred day off); intervals make it a working day
    with those hours (transferred working Saturday, shortened pre-holiday day). An interval
    from the previous day that runs past midnight is not cut by the next day's exception.
    ``always_open`` makes the calendar 24x7: elapsed UTC seconds, weekly and exceptions ignored.
    """

    zone: str
    weekly: tuple[WeeklyInterval, ...] = ()
    exceptions: Mapping[date, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    always_open: bool = False

    def __post_init__(self) -> None:
        tz = _load_zone(self.zone)
        weekly = tuple(self.weekly)
        for item in weekly:
            if not isinstance(item, WeeklyInterval):
                raise TypeError(f"weekly must hold WeeklyInterval items, got {item!r}")
        exceptions: dict[date, tuple[tuple[time, time], ...]] = {}
        for day, hours in dict(self.exceptions).items():
            if not isinstance(day, date) or isinstance(day, datetime):
                raise TypeError(f"exception keys must be dates, got {day!r}")
            hours = tuple((open_, close) for open_, close in hours)
            for open_, close in hours:
                _check_wall_time(open_, f"exception {day} open")
                _check_wall_time(close, f"exception {day} close")
            exceptions[day] = hours
        by_weekday: list[list[tuple[time, time]]] = [[] for _ in range(7)]
        for item in weekly:
            by_weekday[item.weekday].append((item.start, item.end))
        # Normalised, read-only copies; the private ones are lookup caches.
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "exceptions", MappingProxyType(exceptions))
        object.__setattr__(self, "_tz", tz)
        object.__setattr__(self, "_by_weekday", tuple(tuple(hours) for hours in by_weekday))

    def __hash__(self) -> int:
        return hash(
            (self.zone, self.weekly, tuple(sorted(self.exceptions.items())), self.always_open)
        )

    def __reduce__(self) -> tuple[type[Calendar], tuple[object, ...]]:
        # The read-only mapping proxy cannot be pickled; rebuild from the plain values so
        # calendars can be cached or sent to a worker.
        return (type(self), (self.zone, self.weekly, dict(self.exceptions), self.always_open))

    @property
    def tz(self) -> ZoneInfo:
        """The calendar's zone as a ``ZoneInfo``."""
        return self._tz  # type: ignore[attr-defined]

    def hours_on(self, day: date) -> tuple[tuple[time, time], ...]:
        """The wall-time intervals that open on local date ``day`` (exception or weekly)."""
        hours = self.exceptions.get(day)
        if hours is None:
            hours = self._by_weekday[day.weekday()]  # type: ignore[attr-defined]
        return hours

    def _day_intervals(self, day: date) -> list[Interval]:
        """UTC intervals opening on local date ``day``, bounds resolved with fold=0."""
        tz = self._tz  # type: ignore[attr-defined]
        out: list[Interval] = []
        for open_, close in self.hours_on(day):
            close_day = day if close > open_ else day + _ONE_DAY
            start = datetime.combine(day, open_, tzinfo=tz).astimezone(UTC)
            end = datetime.combine(close_day, close, tzinfo=tz).astimezone(UTC)
            if start < end:  # a bound moved by a DST gap may leave nothing that day
                out.append((start, end))
        return out

    def working_intervals(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Working intervals inside ``[start, end)``: UTC, clipped, ascending, merged; lazy."""
        start = _as_utc(start, "start")
        end = _as_utc(end, "end")
        if end <= start:
            return iter(())
        if self.always_open:
            return iter(((start, end),))
        return _merge(self._unmerged(start, end))

    def _unmerged(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Clipped intervals in ascending start order, day by day.

        Days usually come out in order, but not always: America/Nuuk springs forward at
        23:00, so a Saturday 23:30 opening (in the gap, read forward) falls after Sunday's
        00:00 opening. A small heap therefore holds intervals until no later day can open
        before them: an interval opening on a day after ``d`` starts after the UTC instant of
        ``d``'s local midnight, because a zone shift moves a bound by hours, not by a day.
        """
        tz = self._tz  # type: ignore[attr-defined]
        # Start one day early: yesterday's interval may run past midnight into the window.
        day = start.astimezone(tz).date() - _ONE_DAY
        last_day = end.astimezone(tz).date()
        pending: list[Interval] = []
        while day <= last_day:
            for s, e in self._day_intervals(day):
                if e > start and s < end:
                    heapq.heappush(pending, (max(s, start), min(e, end)))
            bound = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
            while pending and pending[0][0] < bound:
                yield heapq.heappop(pending)
            day += _ONE_DAY
        while pending:
            yield heapq.heappop(pending)


@dataclass(frozen=True)
class EffectiveDatedCalendar:
    """A calendar whose edits take effect from an instant.

    ``versions`` is ``((effective_from, calendar), ...)`` in ascending order. Working time
    before the second version's instant comes from the first version (whose own instant, if
    any, is informational), between the second and third from the second, and so on. A
    running clock therefore keeps what it consumed under the old hours and counts the rest on
    the new ones.
    """

    versions: tuple[tuple[datetime | None, WorkingTime], ...]

    def __post_init__(self) -> None:
        versions = tuple(self.versions)
        if not versions:
            raise ValueError("EffectiveDatedCalendar needs at least one version")
        normalised: list[tuple[datetime | None, WorkingTime]] = []
        previous: datetime | None = None
        for index, (effective_from, calendar) in enumerate(versions):
            if not isinstance(calendar, WorkingTime):
                raise TypeError(f"version {index} is not a calendar: {calendar!r}")
            if effective_from is None:
                if index:
                    raise ValueError("only the first version may have effective_from=None")
                normalised.append((None, calendar))
                continue
            instant = _as_utc(effective_from, f"versions[{index}] effective_from")
            if previous is not None and instant <= previous:
                raise ValueError("versions must be in strictly ascending effective_from order")
            previous = instant
            normalised.append((instant, calendar))
        object.__setattr__(self, "versions", tuple(normalised))

    def working_intervals(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Working intervals inside ``[start, end)``, each instant counted on the version in
        force at that instant; UTC, clipped, ascending, merged across version boundaries."""
        start = _as_utc(start, "start")
        end = _as_utc(end, "end")
        return _merge(self._pieces(start, end))

    def _pieces(self, start: datetime, end: datetime) -> Iterator[Interval]:
        # Version i rules [from_i, from_{i+1}); the first also rules everything before.
        versions = self.versions
        for index, (_, calendar) in enumerate(versions):
            seg_start = start
            if index:
                seg_start = max(start, _instant(versions[index][0]))
            seg_end = end
            if index + 1 < len(versions):
                seg_end = min(end, _instant(versions[index + 1][0]))
            if seg_start < seg_end:
                yield from calendar.working_intervals(seg_start, seg_end)


def _instant(value: datetime | None) -> datetime:
    # Only the first version may lack an instant, and it is never looked up here.
    assert value is not None
    return value


@dataclass(frozen=True)
class IntersectionCalendar:
    """Working time common to all parts, e.g. store opening hours ∩ partner hours, or an
    access window inside a calendar."""

    parts: tuple[WorkingTime, ...]

    def __post_init__(self) -> None:
        parts = tuple(self.parts)
        if not parts:
            raise ValueError("IntersectionCalendar needs at least one part")
        for part in parts:
            if not isinstance(part, WorkingTime):
                raise TypeError(f"not a calendar: {part!r}")
        object.__setattr__(self, "parts", parts)

    def working_intervals(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Instants that are working in every part: UTC, clipped, ascending, merged; lazy."""
        start = _as_utc(start, "start")
        end = _as_utc(end, "end")
        stream = self.parts[0].working_intervals(start, end)
        for part in self.parts[1:]:
            stream = _intersect(stream, part.working_intervals(start, end))
        return _merge(stream)


# --------------------------------------------------------------------------- interval streams


def _merge(intervals: Iterable[Interval]) -> Iterator[Interval]:
    """Merge an ascending-by-start stream into disjoint, non-touching intervals (lazily)."""
    current: Interval | None = None
    for s, e in intervals:
        if current is None:
            current = (s, e)
        elif s <= current[1]:
            if e > current[1]:
                current = (current[0], e)
        else:
            yield current
            current = (s, e)
    if current is not None:
        yield current


def _intersect(a: Iterable[Interval], b: Iterable[Interval]) -> Iterator[Interval]:
    """Intersection of two ascending disjoint streams (may touch; callers merge)."""
    left, right = iter(a), iter(b)
    x, y = next(left, None), next(right, None)
    while x is not None and y is not None:
        s, e = max(x[0], y[0]), min(x[1], y[1])
        if s < e:
            yield s, e
        if x[1] <= y[1]:
            x = next(left, None)
        else:
            y = next(right, None)


def _normalise_pauses(pauses: Sequence[tuple[datetime, datetime | None]]) -> list[Interval]:
    """Validate pauses and merge them into ascending disjoint ``[from, to)`` spans.

    ``to=None`` means the pause never ends; it is represented by ``_FOREVER``.
    """
    spans: list[Interval] = []
    for index, (begin, finish) in enumerate(pauses):
        s = _as_utc(begin, f"pauses[{index}] start")
        e = _FOREVER if finish is None else _as_utc(finish, f"pauses[{index}] end")
        if e < s:
            raise ValueError(f"pauses[{index}] ends before it starts: {begin} > {finish}")
        if s < e:
            spans.append((s, e))
    spans.sort()
    return list(_merge(spans))


def _subtract(intervals: Iterable[Interval], holes: list[Interval]) -> Iterator[Interval]:
    """Remove ascending disjoint ``holes`` from an ascending disjoint stream (lazily)."""
    if not holes:
        yield from intervals
        return
    ends = [hole_end for _, hole_end in holes]
    i = 0
    for s, e in intervals:
        # First hole that ends after s; holes ending at or before s cannot touch [s, e).
        i = bisect_right(ends, s, lo=i)
        j = i
        while s < e:
            if j >= len(holes) or holes[j][0] >= e:
                yield s, e
                break
            hole_start, hole_end = holes[j]
            if hole_start > s:
                yield s, hole_start
            s = max(s, hole_end)
            j += 1


def _working(
    calendar: WorkingTime, start: datetime, end: datetime, holes: list[Interval]
) -> Iterator[Interval]:
    return _subtract(calendar.working_intervals(start, end), holes)


# --------------------------------------------------------------------------- public maths


def add_working_time(
    calendar: WorkingTime,
    start: datetime,
    seconds: int,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
) -> datetime:
    """Return the due instant (UTC) of a ``seconds`` target counted from ``start``.

    Guarantees: the result is the earliest instant ``due`` such that the working time in
    ``[start, due]`` (calendar minus pauses) equals ``seconds``. Hence a start outside hours
    counts from the next opening; a target used up exactly at a closing is due at that closing,
    not at the next opening; a zero target is due at ``start`` itself, even outside hours.
    Pauses are ``(from, to)`` spans removed from working time (``to=None``: never ends); they
    may overlap each other and may lie outside hours or after the due, where they change
    nothing.

    Raises ``TypeError`` for a target that is not a number, ``ValueError`` for a negative,
    non-finite or longer-than-a-century target and for naive or out-of-range datetimes, and
    ``NoWorkingTime`` when
    the target can never be reached: no working second within ``HORIZON`` of the point
    reached, or an open-ended pause that begins before the target is used up.
    """
    start = _as_utc(start, "start")
    if not isinstance(seconds, int | float):
        raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise ValueError(f"seconds must be a finite number, got {seconds!r}")
    if seconds < 0:
        raise ValueError(f"seconds must not be negative, got {seconds!r}")
    if seconds > MAX_TARGET_SECONDS:
        raise ValueError(f"seconds must be at most {MAX_TARGET_SECONDS} (a century), got {seconds}")
    remaining = timedelta(seconds=seconds)
    if not remaining:
        return start
    holes = _normalise_pauses(pauses)
    # Past an open-ended pause nothing is ever working again: stop there, not at the horizon.
    stop = holes[-1][0] if holes and holes[-1][1] == _FOREVER else None
    cursor = start
    while True:
        window_end = _window_end(cursor)
        if stop is not None:
            window_end = min(window_end, stop)
        found = False
        for s, e in _working(calendar, cursor, window_end, holes):
            found = True
            if remaining <= e - s:
                return s + remaining
            remaining -= e - s
        if stop is not None and window_end >= stop:
            raise NoWorkingTime(
                f"an open-ended pause from {stop.isoformat()} leaves {_fmt(remaining)} "
                f"of the {seconds} s target unreachable"
            )
        if not found or window_end >= _LATEST:
            raise NoWorkingTime(
                f"no working time between {cursor.isoformat()} and {window_end.isoformat()}; "
                f"{_fmt(remaining)} of the {seconds} s target can never be used up"
            )
        cursor = window_end


def working_seconds_between(
    calendar: WorkingTime,
    start: datetime,
    end: datetime,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
) -> int:
    """Working seconds in ``[start, end)`` minus pauses, floored to whole seconds.

    Returns 0 when ``end <= start``. Used for consumed time and for overdue time
    (``working_seconds_between(cal, due, now)``). Inverse of ``add_working_time``:
    ``working_seconds_between(cal, s, add_working_time(cal, s, n)) == n`` for whole-second
    inputs.
    """
    start = _as_utc(start, "start")
    end = _as_utc(end, "end")
    if end <= start:
        return 0
    holes = _normalise_pauses(pauses)
    total = timedelta(0)
    for s, e in _working(calendar, start, end, holes):
        total += e - s
    return total // _ONE_SECOND


def is_working(calendar: WorkingTime, instant: datetime) -> bool:
    """Whether ``instant`` lies inside a working interval (``[open, close)``: the closing
    instant itself is not working)."""
    instant = _as_utc(instant, "instant")
    return next(iter(calendar.working_intervals(instant, instant + _TINY)), None) is not None


def next_opening(calendar: WorkingTime, instant: datetime) -> datetime | None:
    """The first working instant at or after ``instant`` (``instant`` itself if working),
    or ``None`` when there is none within ``HORIZON``."""
    instant = _as_utc(instant, "instant")
    first = next(iter(calendar.working_intervals(instant, _window_end(instant))), None)
    return None if first is None else first[0]


def warning_seconds(target_seconds: int, threshold: Decimal | float | str) -> int:
    """Working seconds after which a clock warns: ``floor(target_seconds * threshold)``.

    The share is computed in decimal (a float threshold is read by its shortest repr, so 0.29
    is exactly 0.29) and floored, so the warning never fires later than the exact share:
    ``warning_seconds(3600, 0.75) == 2700``. ``threshold`` must be within ``[0, 1]``.
    """
    if target_seconds < 0:
        raise ValueError(f"target_seconds must not be negative, got {target_seconds!r}")
    try:
        share = threshold if isinstance(threshold, Decimal) else Decimal(str(threshold))
    except ArithmeticError:  # not a number at all, e.g. "abc" or None
        share = Decimal("NaN")
    if not share.is_finite() or not Decimal(0) <= share <= Decimal(1):
        raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
    return math.floor(Decimal(target_seconds) * share)


def _window_end(cursor: datetime) -> datetime:
    """``cursor + HORIZON``, capped where zone conversions would overflow."""
    if cursor >= _LATEST - HORIZON:
        return _LATEST
    return cursor + HORIZON


def _fmt(delta: timedelta) -> str:
    return f"{delta.total_seconds():.0f} s"


# --------------------------------------------------------------------------- presets


def calendar_24x7(zone: str = "UTC") -> Calendar:
    """Round the clock: elapsed UTC seconds (a 24-hour target across DST is 86,400 s)."""
    return Calendar(zone=zone, always_open=True)


def calendar_office(zone: str) -> Calendar:
    """Monday to Friday, 09:00-18:00 local time."""
    return Calendar(
        zone=zone, weekly=tuple(WeeklyInterval(day, time(9), time(18)) for day in range(5))
    )


def calendar_store_hours(zone: str) -> Calendar:
    """Every day, 08:00-22:00 local time."""
    return Calendar(
        zone=zone, weekly=tuple(WeeklyInterval(day, time(8), time(22)) for day in range(7))
    )


PRESETS: Mapping[str, Callable[[str], Calendar]] = MappingProxyType(
    {
        "24x7": calendar_24x7,
        "office": calendar_office,
        "store_hours": calendar_store_hours,
    }
)
"""Named calendar builders, each taking an IANA zone name."""
