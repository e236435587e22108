"""The runner's pure parts: child environments, command lines, URLs and the in-process beat.

Nothing here starts a server or sleeps: clocks are plain numbers passed in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dj_database_url
import pytest
from celery.schedules import crontab, schedule

from servicedesk.runner import plan
from servicedesk.runner.__main__ import _strip_separator, parser
from servicedesk.runner.beat import (
    MAX_SLEEP_SECONDS,
    PeriodicTask,
    Timetable,
    interval_seconds,
    next_slot,
    periodic_tasks,
)
from servicedesk.runner.postgres import (
    connection_kwargs,
    live_handles,
    socket_url,
    stale_lock_files,
)

START = 1000.0
START_AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

# --- environment and commands ------------------------------------------------------------


def test_child_env_sets_database_and_settings_over_the_shell():
    # given a shell with stale values
    base = {"PATH": "/bin", "DATABASE_URL": "postgres://old/x", "DJANGO_SETTINGS_MODULE": "x.y"}
    # when
    env = plan.child_env(base, database_url="postgres://new/db", settings=plan.DEMO_SETTINGS)
    # then
    assert env["DATABASE_URL"] == "postgres://new/db"
    assert env["DJANGO_SETTINGS_MODULE"] == "servicedesk.settings.local"
    assert env["PATH"] == "/bin"
    assert base["DATABASE_URL"] == "postgres://old/x"  # the caller's mapping is not changed


def test_child_env_for_tests_drops_the_broker_and_demo_keeps_it():
    base = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    test_env = plan.child_env(
        base, database_url="u", settings=plan.TEST_SETTINGS, keep_broker=False
    )
    demo_env = plan.child_env(base, database_url="u", settings=plan.DEMO_SETTINGS)
    assert "CELERY_BROKER_URL" not in test_env
    assert demo_env["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"


def test_setup_steps_migrate_first_and_seed_only_for_the_demo():
    demo = [name for name, _ in plan.setup_steps("py", seed=True)]
    run = [name for name, _ in plan.setup_steps("py", seed=False)]
    assert demo == ["migrate", "seed_demo", "collectstatic"]
    assert run == ["migrate", "collectstatic"]
    assert dict(plan.setup_steps("py", seed=True))["seed_demo"] == ["py", "manage.py", "seed_demo"]


def test_web_command_serves_the_wsgi_app_on_the_requested_port():
    argv = plan.web_command("py", host="127.0.0.1", port=8123)
    assert argv[:4] == ["py", "-m", "gunicorn", "servicedesk.wsgi:application"]
    assert "--bind=127.0.0.1:8123" in argv


def test_beat_command_keeps_its_schedule_file_where_asked(tmp_path):
    argv = plan.beat_command("py", schedule_file=tmp_path / "beat")
    assert argv[:6] == ["py", "-m", "celery", "-A", "servicedesk", "beat"]
    assert f"--schedule={tmp_path / 'beat'}" in argv


def test_redact_url_hides_only_the_password():
    assert plan.redact_url("redis://:s3cret@h:6379/0") == "redis://:***@h:6379/0"
    assert plan.redact_url("postgres://u:pw@db/sd") == "postgres://u:***@db/sd"
    assert plan.redact_url("postgres://u@db/sd") == "postgres://u@db/sd"


def test_banner_lists_every_demo_login_with_its_role():
    text = plan.banner(url="http://127.0.0.1:8000/", database="embedded", broker=None, seeded=True)
    assert "http://127.0.0.1:8000/" in text
    assert 'password "demo"' in text
    for username, role in [
        ("admin", "provider_admin"),
        ("dispatcher", "dispatcher"),
        ("client", "client_manager"),
        ("store", "store_staff"),
        ("partner", "partner_manager"),
        ("engineer", "partner_engineer"),
    ]:
        assert any(line.split()[:2] == [username, role] for line in text.splitlines())


def test_banner_never_prints_the_broker_password():
    text = plan.banner(url="u", database="d", broker="redis://:s3cret@h:6379/0", seeded=True)
    assert "s3cret" not in text


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["--", "-x", "tests"], ["-x", "tests"]), (["-k", "--", "x"], ["-k", "--", "x"]), ([], [])],
)
def test_only_the_leading_separator_is_dropped(argv, expected):
    assert _strip_separator(argv) == expected


def test_cli_passes_pytest_arguments_through_untouched():
    options = parser().parse_args(["test", "--", "-x", "-k", "health"])
    assert _strip_separator(options.pytest_args) == ["-x", "-k", "health"]


# --- database URLs ---------------------------------------------------------------------


def test_socket_url_round_trips_through_the_settings_parser():
    # given a socket directory with capitals and a space, which a hostname would mangle
    url = socket_url("/srv/My Checkout/var/pgdata", 5432, "servicedesk")
    # when
    config = dj_database_url.parse(url)
    # then
    assert config["HOST"] == "/srv/My Checkout/var/pgdata"
    assert config["PORT"] == 5432
    assert config["NAME"] == "servicedesk"
    assert config["USER"] == "postgres"


def test_connection_kwargs_target_the_named_or_the_maintenance_database():
    url = "postgres://app:pw@db.internal:6543/servicedesk?sslmode=require"
    assert connection_kwargs(url) == {
        "dbname": "servicedesk",
        "user": "app",
        "password": "pw",
        "host": "db.internal",
        "port": 6543,
        "connect_timeout": 5,
        "sslmode": "require",
    }
    assert connection_kwargs(url, "postgres")["dbname"] == "postgres"


def test_live_handles_forget_runners_killed_without_cleanup():
    alive = {10, 30}
    assert live_handles([10, 20, 30, 10], alive.__contains__) == [10, 30]


POSTMASTER_PID = """16369
/srv/app/var/pgdata
1795972280
5432
/srv/app/var/pgdata

  2148075        15
ready
"""


def test_a_dead_servers_socket_and_its_lock_file_are_cleared():
    assert stale_lock_files(POSTMASTER_PID) == [
        Path("/srv/app/var/pgdata/.s.PGSQL.5432.lock"),
        Path("/srv/app/var/pgdata/.s.PGSQL.5432"),
    ]


def test_a_tcp_only_or_truncated_pid_file_names_no_socket_files():
    tcp_only = POSTMASTER_PID.replace("5432\n/srv/app/var/pgdata\n", "5432\n\n")
    assert stale_lock_files(tcp_only) == []
    assert stale_lock_files("16369\n") == []


# --- in-process beat -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        (2.5, 2.5),
        (timedelta(minutes=1), 60.0),
        (schedule(run_every=timedelta(seconds=45)), 45.0),
        (crontab(minute="*/5"), None),
        (True, None),
    ],
)
def test_interval_seconds_understands_what_beat_accepts(value, seconds):
    assert interval_seconds(value) == seconds


def test_periodic_tasks_read_beat_schedule_entries_and_skip_unusable_ones():
    # given the shape of servicedesk.celery.app.conf.beat_schedule
    beat_schedule = {
        "sla-sweep": {"task": "tickets.tasks.sla_sweep_task", "schedule": 30.0},
        "report": {"task": "reports.r", "schedule": crontab(hour=6), "kwargs": {"a": 1}},
        "broken": {"task": "x", "schedule": 0},
        "nonsense": {"task": "y", "schedule": "often"},
    }
    # when
    tasks = periodic_tasks(beat_schedule)
    # then
    assert [(t.name, t.task, t.every) for t in tasks] == [
        ("sla-sweep", "tickets.tasks.sla_sweep_task", 30.0),
        ("report", "reports.r", None),
    ]
    assert tasks[1].kwargs == {"a": 1}


def test_an_empty_schedule_runs_nothing_and_sleeps_in_short_steps():
    table = Timetable(periodic_tasks({}), started=START, started_at=START_AT)
    assert table.due(START + 3600) == []
    assert table.seconds_until_next(START) == MAX_SLEEP_SECONDS


def _sweep(every: float = 30.0) -> PeriodicTask:
    return PeriodicTask(name="sweep", task="t", every=every)


def test_an_interval_task_first_runs_one_interval_after_start_like_beat():
    table = Timetable([_sweep()], started=START, started_at=START_AT)
    assert table.due(START) == []
    assert table.due(START + 29.9) == []
    assert [t.name for t in table.due(START + 30)] == ["sweep"]


def test_after_a_run_the_next_one_keeps_to_the_grid():
    # given a sweep that was due at +30 and ran a little late
    task = _sweep()
    table = Timetable([task], started=START, started_at=START_AT)
    # when it finishes at +31.5
    table.ran(task, now=START + 31.5, now_at=START_AT)
    # then the next run is at +60, not +61.5
    assert table.due(START + 59.9) == []
    assert table.due(START + 60) == [task]


def test_a_slow_run_skips_missed_slots_instead_of_bursting():
    task = _sweep()
    table = Timetable([task], started=START, started_at=START_AT)
    # when the run due at +30 takes until +100
    table.ran(task, now=START + 100, now_at=START_AT)
    # then it runs once more at +120, the first slot after it finished
    assert table.due(START + 119) == []
    assert table.due(START + 120) == [task]


@pytest.mark.parametrize(
    ("previous", "now", "expected"),
    [(0, 0, 30), (0, 29, 30), (0, 30, 60), (0, 95, 120), (10, 10.5, 40)],
)
def test_next_slot_is_the_first_grid_point_after_now(previous, now, expected):
    assert next_slot(previous, 30, now) == expected


def test_sleep_lasts_until_the_next_slot_but_never_long():
    table = Timetable([_sweep(every=0.25)], started=START, started_at=START_AT)
    assert table.seconds_until_next(START) == pytest.approx(0.25)
    assert table.seconds_until_next(START + 1) == 0.0
    slow = Timetable([_sweep(every=3600)], started=START, started_at=START_AT)
    assert slow.seconds_until_next(START) == MAX_SLEEP_SECONDS


def test_crontab_entries_ask_their_schedule_like_beat_does():
    # given a once-a-minute crontab whose clock reads 09:05:00
    every_minute = crontab(minute="*", nowfun=lambda: datetime(2025, 3, 3, 9, 5, tzinfo=UTC))
    task = PeriodicTask(name="minutely", task="t", every=None, schedule=every_minute)
    # when it last ran two minutes ago, then it is due; when it just ran, it is not
    stale = Timetable([task], started=START, started_at=START_AT + timedelta(minutes=3))
    fresh = Timetable([task], started=START, started_at=START_AT + timedelta(minutes=5))
    assert stale.due(START) == [task]
    assert fresh.due(START) == []
