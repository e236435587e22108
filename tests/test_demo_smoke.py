"""``make demo`` end to end, as a newcomer on a clean clone runs it (issue 2's acceptance).

Proves, against the real runner (``python -m servicedesk.runner demo``, what ``make demo``
calls) with no ``DATABASE_URL`` and no broker, in a throw-away ``SERVICEDESK_VAR_DIR``:

- it starts the embedded PostgreSQL, migrates, seeds and serves the login page;
- every demo login (password ``demo``) signs in and lands on its own home page, which names
  the login's role;
- Ctrl-C (SIGINT) stops it with exit code 0 and leaves no process behind: no postgres, no
  gunicorn, no beat loop;
- a second run serves again and leaves every table with the same number of rows as the
  first run left (``seed_demo`` adds nothing twice).

The test talks HTTP to the child and counts rows over the embedded server's Unix socket, found
in its ``postmaster.pid``; it needs no Django database of its own.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import NoReturn

import psutil
import psycopg
import pytest
from django.utils import translation
from psycopg import sql

from servicedesk.choices import Role
from servicedesk.env import BASE_DIR
from servicedesk.runner.plan import DEMO_LOGINS, DEMO_PASSWORD
from servicedesk.runner.postgres import DATABASE_NAME

SERVE_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 60.0
# Processes torn down by a signal may take a moment to be reaped by their parent.
REAP_GRACE_SECONDS = 5.0
HTTP_TIMEOUT_SECONDS = 10.0
LOG_TAIL_LINES = 60

RUNNER = [sys.executable, "-m", "servicedesk.runner"]
# The variables a developer's shell (or CI: .ci/run exports both) may hold that would make
# the runner skip the embedded database or start real Celery; the child must not see them.
DROPPED_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
# Where the runner keeps the embedded database (see servicedesk/runner/__main__.py).
VAR_DIR_VARIABLE = "SERVICEDESK_VAR_DIR"

HTML_LANG = re.compile(r'<html lang="([^"]+)"')
PAGE_HEAD_SUB = re.compile(r'<p class="page-head__sub">(.*?)</p>', re.DOTALL)
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ADMIN_LINK = 'href="/admin/"'


# --- the child ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Demo:
    """One ``python -m servicedesk.runner demo`` in its own session, output in ``log``."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no output)"
        return "\n".join(lines[-LOG_TAIL_LINES:])

    def fail(self, message: str) -> NoReturn:
        pytest.fail(f"{message}\n--- last lines of {self.log} ---\n{self.log_tail()}")

    def wait_for_login_page(self) -> float:
        """Poll ``/login/`` until it answers 200; returns the seconds it took."""
        started = time.monotonic()
        last = "no answer"
        while time.monotonic() - started < SERVE_TIMEOUT_SECONDS:
            if self.process.poll() is not None:
                self.fail(f"the demo exited with code {self.process.returncode} before serving")
            try:
                with urllib.request.urlopen(
                    self.base_url + "/login/", timeout=HTTP_TIMEOUT_SECONDS
                ) as response:
                    if response.status == 200:
                        return time.monotonic() - started
                    last = f"HTTP {response.status}"
            except urllib.error.HTTPError as error:
                last = f"HTTP {error.code}"
            except OSError as error:
                last = str(error)
            time.sleep(0.5)
        self.fail(f"/login/ did not answer 200 within {SERVE_TIMEOUT_SECONDS:.0f}s ({last})")

    def interrupt(self) -> int:
        """Ctrl-C as a terminal sends it (SIGINT to the foreground group); the exit code."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.fail(f"the demo did not stop within {STOP_TIMEOUT_SECONDS:.0f}s of SIGINT")

    def kill(self) -> None:
        """Clean-up after a failure: a graceful stop first (the runner stops its children and
        the database on SIGTERM), then SIGKILL to its group."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@contextlib.contextmanager
def running_demo(env: dict[str, str], log: Path) -> Iterator[Demo]:
    """Start the demo on a free port; whatever happens in the block, it is gone afterwards."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*RUNNER, "demo"],
            cwd=BASE_DIR,
            env={**env, "PORT": str(port)},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        demo = Demo(process, port, log)
        try:
            yield demo
        finally:
            demo.kill()


def processes_of(var_dir: Path) -> list[psutil.Process]:
    """Live processes started for this test: the environment every child of the runner
    inherits names ``var_dir``; postgres rewrites its command line and environment, but runs
    in its data directory (and the postmaster names it in its arguments)."""
    found: list[psutil.Process] = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        with contextlib.suppress(psutil.Error):
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            ours = (
                str(var_dir) in " ".join(process.cmdline())
                or process.environ().get(VAR_DIR_VARIABLE) == str(var_dir)
                or Path(process.cwd()).is_relative_to(var_dir)
            )
            if ours:
                found.append(process)
    return found


def describe(process: psutil.Process) -> str:
    try:
        return f"{process.pid} {' '.join(process.cmdline())}"
    except psutil.Error as error:
        return f"{process.pid} ({error})"


def wait_until_no_processes_left(var_dir: Path) -> list[psutil.Process]:
    """The processes still running after :data:`REAP_GRACE_SECONDS` (none, normally)."""
    deadline = time.monotonic() + REAP_GRACE_SECONDS
    while True:
        left = processes_of(var_dir)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@pytest.fixture
def demo_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a clean clone's ``make demo``, its state under ``tmp_path``.

    Teardown, even after a failure: stop the embedded server the way ``make stop-db`` does,
    then kill whatever this test started that is still running.
    """
    var_dir = tmp_path / "var"
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_VARIABLES}
    env |= {
        VAR_DIR_VARIABLE: str(var_dir),
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    try:
        yield env
    finally:
        subprocess.run(
            [*RUNNER, "stop-db"],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=STOP_TIMEOUT_SECONDS,
            check=False,
        )
        for process in processes_of(var_dir):
            with contextlib.suppress(psutil.Error):
                process.kill()


# --- what a newcomer does -----------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    text: str


def sign_in(base_url: str, username: str, password: str) -> Page:
    """Sign in as a browser does (the login form's CSRF token and cookie, then the redirect)
    and return the page it lands on."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    login_url = base_url + "/login/"
    with opener.open(login_url, timeout=HTTP_TIMEOUT_SECONDS) as response:
        form = response.read().decode()
    token = CSRF_INPUT.search(form)
    assert token, "the login page has no CSRF token"
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    request = urllib.request.Request(login_url, data=data, headers={"Referer": login_url})
    with opener.open(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
        return Page(response.geturl(), response.status, response.read().decode())


def role_label(role: str, language: str) -> str:
    with translation.override(language):
        return str(Role(role).label)


def assert_home_page_of(page: Page, base_url: str, username: str, role: str) -> None:
    context = f"{username}: landed on {page.url}"
    assert page.status == 200, context
    assert page.url == base_url + "/", context  # the home page, not the login form again
    language = HTML_LANG.search(page.text)
    subtitle = PAGE_HEAD_SUB.search(page.text)
    assert language and subtitle, f"{context}, which is not the home page"
    # "<organisation> · <role>": the home page is the one of this login's role
    who = html.unescape(" ".join(subtitle.group(1).split()))
    assert who.endswith(" · " + role_label(role, language.group(1))), f"{context} as {who!r}"
    # and so is the menu: only the provider's administrator gets the admin site
    assert (ADMIN_LINK in page.text) == (role == Role.PROVIDER_ADMIN), context


WRITTEN_BY_TIME = frozenset(
    {
        "sla_clockthreshold",
        "tickets_ticketevent",
        "servicedesk_outboxmessage",
        "servicedesk_notification",
    }
)


def row_counts(pgdata: Path) -> dict[str, int]:
    """Rows in every table of the demo database, over the Unix socket that the running
    server names in ``postmaster.pid`` (line 4: port, line 5: socket directory)."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    port, socket_dir = int(lines[3]), lines[4].strip()
    with psycopg.connect(
        host=socket_dir, port=port, user="postgres", dbname=DATABASE_NAME, connect_timeout=5
    ) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        counts = {}
        for table in tables:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            row = conn.execute(query).fetchone()
            assert row is not None
            counts[table] = int(row[0])
    return counts


def stop_and_check_nothing_is_left(demo: Demo, var_dir: Path) -> None:
    code = demo.interrupt()
    if code != 0:
        demo.fail(f"Ctrl-C stopped the demo with exit code {code}, not 0")
    left = wait_until_no_processes_left(var_dir)
    if left:
        demo.fail("processes left running after Ctrl-C:\n" + "\n".join(map(describe, left)))


# --- the acceptance --------------------------------------------------------------------------


def test_demo_serves_every_login_and_a_second_run_adds_no_rows(
    tmp_path: Path, demo_env: dict[str, str]
) -> None:
    var_dir = tmp_path / "var"
    pgdata = var_dir / "pgdata"

    # given a clean clone: no database yet, none configured, no broker
    assert not var_dir.exists()
    assert not set(DROPPED_VARIABLES) & demo_env.keys()

    # when make demo runs the first time
    with running_demo(demo_env, tmp_path / "first-run.log") as first:
        first.wait_for_login_page()
        # then every demo login reaches its own home page
        for login in DEMO_LOGINS:
            page = sign_in(first.base_url, login.username, DEMO_PASSWORD)
            assert_home_page_of(page, first.base_url, login.username, login.role)
        # (counted after signing in: the second run's count, before anyone signs in,
        # must find these sessions and nothing more)
        after_first = row_counts(pgdata)
        # and Ctrl-C stops everything it started
        stop_and_check_nothing_is_left(first, var_dir)

    assert after_first.get("django_migrations", 0) > 0
    assert sum(after_first.values()) > 1000, "the demo data was not loaded"

    # when make demo runs again on the same database
    with running_demo(demo_env, tmp_path / "second-run.log") as second:
        second.wait_for_login_page()
        after_second = row_counts(pgdata)
        # then it still serves every login
        for login in DEMO_LOGINS:
            page = sign_in(second.base_url, login.username, DEMO_PASSWORD)
            assert_home_page_of(page, second.base_url, login.username, login.role)
        stop_and_check_nothing_is_left(second, var_dir)

    # and the second run changed no table's row count — but for what the running platform
    # itself writes as time passes: the SLA sweep records thresholds, timeline entries,
    # escalation messages and notifications whenever a live clock crosses a deadline.
    changed = {
        table: (after_first.get(table), after_second.get(table))
        for table in sorted(after_first.keys() | after_second.keys())
        if after_first.get(table) != after_second.get(table) and table not in WRITTEN_BY_TIME
    }
    assert not changed, f"rows per table (first run, second run) that differ: {changed}"
