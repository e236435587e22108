"""The in-process stand-in for ``celery beat`` when no broker is configured.

It reads ``servicedesk.celery.app.conf.beat_schedule`` (the same schedule real beat uses, so a
new entry such as the SLA sweep runs here with no change) and calls each task in this
process with ``Task.apply()`` when it is due. Interval schedules (seconds, ``timedelta`` or
``celery.schedules.schedule``) are timed here on a monotonic clock; any other schedule
(``crontab``, ``solar``) is asked ``is_due()`` as beat would.

Like beat, an interval entry first runs one interval after start. Runs never pile up: after a
slow run, missed slots are skipped, and the next run keeps to the original grid. A failing
task is logged and retried at its next slot; the loop itself never dies of it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

logger = logging.getLogger("servicedesk.runner.beat")

# Longest sleep between checks: bounds how late a stop request or a crontab slot is noticed.
MAX_SLEEP_SECONDS = 1.0


@dataclass(frozen=True)
class PeriodicTask:
    """One ``beat_schedule`` entry. ``every`` is its interval in seconds, or ``None`` when
    ``schedule`` decides by itself (crontab-like)."""

    name: str
    task: str
    every: float | None
    schedule: Any = None
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def interval_seconds(schedule: Any) -> float | None:
    """Seconds between runs for an interval schedule; ``None`` for anything else."""
    if isinstance(schedule, bool):
        return None
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    run_every = getattr(schedule, "run_every", None)  # celery.schedules.schedule
    if isinstance(run_every, timedelta):
        return run_every.total_seconds()
    return None


def periodic_tasks(beat_schedule: Mapping[str, Mapping[str, Any]]) -> list[PeriodicTask]:
    """The runnable entries of ``beat_schedule``; a malformed one is logged and left out."""
    tasks = []
    for name, entry in beat_schedule.items():
        schedule = entry.get("schedule")
        every = interval_seconds(schedule)
        unusable = (every is not None and every <= 0) or (
            every is None and not hasattr(schedule, "is_due")
        )
        if unusable:
            logger.error("beat entry %r has an unusable schedule %r: skipped", name, schedule)
            continue
        tasks.append(
            PeriodicTask(
                name=name,
                task=entry["task"],
                every=every,
                schedule=schedule,
                args=tuple(entry.get("args", ())),
                kwargs=dict(entry.get("kwargs", {})),
            )
        )
    return tasks


def next_slot(previous: float, every: float, now: float) -> float:
    """The first slot ``previous + k * every`` (k >= 1) strictly after ``now``: a late or slow
    run skips the slots it missed instead of firing them in a burst."""
    if now < previous + every:
        return previous + every
    return previous + (math.floor((now - previous) / every) + 1) * every


class Timetable:
    """When each periodic task is next due. Interval times are on the caller's monotonic
    clock; crontab-like entries are asked ``is_due(last_run_at)`` with wall-clock times."""

    def __init__(self, tasks: list[PeriodicTask], *, started: float, started_at: datetime):
        self.tasks = tasks
        self._next: dict[str, float] = {t.name: started + t.every for t in tasks if t.every}
        self._last_run_at: dict[str, datetime] = {t.name: started_at for t in tasks}

    def due(self, now: float) -> list[PeriodicTask]:
        result = []
        for task in self.tasks:
            if task.every is not None:
                if now >= self._next[task.name]:
                    result.append(task)
            elif task.schedule.is_due(self._last_run_at[task.name])[0]:
                result.append(task)
        return result

    def ran(self, task: PeriodicTask, *, now: float, now_at: datetime) -> None:
        """Record that ``task`` ran at ``now`` (monotonic) / ``now_at`` (wall clock)."""
        self._last_run_at[task.name] = now_at
        if task.every is not None:
            self._next[task.name] = next_slot(self._next[task.name], task.every, now)

    def seconds_until_next(self, now: float) -> float:
        """How long the loop may sleep: until the next interval slot, at most
        :data:`MAX_SLEEP_SECONDS`, never negative."""
        upcoming = min(self._next.values(), default=now + MAX_SLEEP_SECONDS)
        return max(0.0, min(upcoming - now, MAX_SLEEP_SECONDS))


def run_once(app: Any, task: PeriodicTask) -> bool:
    """Call ``task`` in this process; True when it succeeded. Never raises: a periodic task
    that fails must not stop the others."""
    from django.db import close_old_connections

    # As a Celery worker does around each task: drop connections broken since last time.
    close_old_connections()
    try:
        result = app.tasks[task.task].apply(args=task.args, kwargs=task.kwargs)
        if result.failed():
            # Celery's tracer has already logged the traceback; one line here says which entry.
            logger.error("periodic task %s failed: %r", task.name, result.result)
            return False
        logger.debug("periodic task %s done", task.name)
        return True
    except Exception:
        logger.exception("periodic task %s could not run", task.name)
        return False
    finally:
        close_old_connections()


def run_loop(
    should_stop: Callable[[], bool],
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Set up Django, then run the beat schedule in-process until ``should_stop()``."""
    import django

    django.setup()
    from servicedesk.celery import app

    # Import every app's tasks module, as a worker does at start, so app.tasks knows them.
    app.loader.import_default_modules()
    tasks = periodic_tasks(app.conf.beat_schedule)
    if tasks:
        for task in tasks:
            every = f"every {task.every:g}s" if task.every else str(task.schedule)
            logger.info("in-process beat: %s -> %s, %s", task.name, task.task, every)
    else:
        logger.info("in-process beat: the beat schedule is empty; idling")
    table = Timetable(tasks, started=clock(), started_at=datetime.now(UTC))
    while not should_stop():
        for task in table.due(clock()):
            run_once(app, task)
            table.ran(task, now=clock(), now_at=datetime.now(UTC))
            if should_stop():
                return
        sleep(table.seconds_until_next(clock()))
