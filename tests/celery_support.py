"""Real Celery processes for tests: workers and beat against a real Redis broker.

The integration and fault-injection tests start Celery the way production runs it, as
separate processes, each in its own process group, with its output captured to a file::

    # `redis_broker` (tests/conftest.py): a Redis DB claimed for this test, emptied
    env = celery_env(
        database_url=connected_database_url(), broker_url=redis_broker, SLA_SWEEP_SECONDS="2"
    )
    with celery_processes(workers=2, beat=True, env=env, log_dir=tmp_path) as celery:
        ...  # both workers are ready and beat is running
        celery.workers[0].kill(signal.SIGKILL)  # a fault test kills a worker (its group)...
        os.kill(celery.workers[1].pool_pids()[0], signal.SIGKILL)  # ...or its pool process
        celery.workers[1].log()  # what it wrote so far

On leaving the block every process is stopped (SIGTERM to the main process, then SIGKILL
to its whole group after a grace period) and waited for, whatever happened inside; if the
block raised, every child's log is then printed, so pytest shows it with the failure.

The processes connect to the database named by ``DATABASE_URL`` in ``env``: under
pytest-django that is the *test* database (:func:`connected_database_url`), so tests using
this need ``@pytest.mark.django_db(transaction=True)`` (the children only see committed
rows) and must leave the block before the test's teardown empties the tables.

Nothing here imports pytest; Django only where a function says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# The Redis databases Celery tests may take, one per test at a time: several test runs on
# one machine (or one Redis) must not consume each other's tasks or flush each other's
# queues, so each test claims a database nobody else holds (db 0 is left to applications).
TEST_REDIS_DBS = tuple(range(15, 7, -1))
CLAIM_KEY = "servicedesk-tests:claimed-by"
# A claim left by a run that was killed expires after this long.
CLAIM_SECONDS = 900

# A worker logs "<name> ready." once its consumer is running; beat logs this on start.
WORKER_READY = " ready."
BEAT_READY = "beat: Starting..."


class CeleryStartError(RuntimeError):
    """A process died or was not ready in time; the message carries its log."""


# --- broker and database ------------------------------------------------------------------


def _redis_url(base: str, db: int) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def redis_check(*, timeout: float = 3.0) -> str:
    """``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) after checking that Redis answers.
    Raises ``RuntimeError`` with a clear message if it does not: CI always provides Redis,
    so a missing one is a failure, never a skip."""
    import redis

    base = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    try:
        with redis.Redis.from_url(
            base, socket_connect_timeout=timeout, socket_timeout=timeout
        ) as client:
            client.ping()
    except Exception as exc:
        raise RuntimeError(
            f"Redis at {base} (REDIS_URL) does not answer ({type(exc).__name__}: {exc}). "
            "The Celery integration tests need a real Redis broker: start one "
            "(e.g. `redis-server --port 6379`) or point REDIS_URL at it."
        ) from exc
    return base


@contextlib.contextmanager
def redis_test_broker(*, dbs: Sequence[int] = TEST_REDIS_DBS) -> Iterator[str]:
    """Claim a Redis database that no other test holds, empty it, and yield its URL (the
    Celery broker of one test); on exit empty it again and release the claim.

    The claim is a key in the database itself, set only if absent and expiring after
    ``CLAIM_SECONDS``; emptying keeps it (FLUSHDB and the new claim in one transaction)."""
    import redis

    base = redis_check()
    token = f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}"
    for db in dbs:
        client = redis.Redis.from_url(_redis_url(base, db), socket_timeout=3)
        try:
            claimed = client.set(CLAIM_KEY, token, nx=True, ex=CLAIM_SECONDS)
        except redis.ResponseError:  # a server with fewer databases
            client.close()
            continue
        if claimed:
            break
        client.close()
    else:
        raise RuntimeError(
            f"Every Redis database the Celery tests may use ({', '.join(map(str, dbs))}) at "
            f"{base} is claimed by another test run (key {CLAIM_KEY!r}); wait for it to "
            "finish, or delete stale claims."
        )
    try:
        _flush_keeping_claim(client, token)
        yield _redis_url(base, db)
    finally:
        try:
            if client.get(CLAIM_KEY) == token.encode():
                client.flushdb()  # our queues and the claim with them
        finally:
            client.close()


def _flush_keeping_claim(client, token: str) -> None:
    with client.pipeline(transaction=True) as pipe:
        pipe.flushdb()
        pipe.set(CLAIM_KEY, token, ex=CLAIM_SECONDS)
        pipe.execute()


def connected_database_url(alias: str = "default") -> str:
    """A ``DATABASE_URL`` for the database Django is connected to right now: under
    pytest-django, after the database set-up, that is the test database."""
    from django.db import connections

    settings = connections[alias].settings_dict
    user = quote(settings.get("USER") or "", safe="")
    password = quote(settings.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings.get("HOST") or "127.0.0.1"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(settings['NAME'], safe='')}"


def celery_env(
    *,
    database_url: str,
    broker_url: str,
    settings: str = "servicedesk.settings.test",
    base: Mapping[str, str] | None = None,
    **extra: str,
) -> dict[str, str]:
    """The environment of the Celery children: the current one (PATH and the like) with the
    database, the broker and the settings module set, plus ``extra`` (e.g. SLA_SWEEP_SECONDS).
    With ``CELERY_BROKER_URL`` set the settings turn eager execution off."""
    env = dict(os.environ if base is None else base)
    env.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        DJANGO_SETTINGS_MODULE=settings,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


# --- processes ----------------------------------------------------------------------------


@dataclass
class CeleryProcess:
    """One Celery program (a worker or beat) in its own process group."""

    name: str
    role: str  # "worker" or "beat"
    argv: list[str]
    log_path: Path
    process: subprocess.Popen[bytes]
    ready_marker: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        """Everything the process wrote so far (stdout and stderr)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self, signum: int = signal.SIGKILL, *, group: bool = True) -> None:
        """Send ``signum`` to the whole process group (the worker and its pool processes)
        or, with ``group=False``, to the main process only. A process already gone is fine."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(self.pid, signum)
            else:
                self.process.send_signal(signum)

    def pool_pids(self) -> list[int]:
        """The pids of the worker's pool (child) processes: the ones that execute tasks."""
        import psutil

        try:
            return [child.pid for child in psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def wait_for_log(self, text: str, *, timeout: float, since: int = 0) -> None:
        """Wait until ``text`` appears in the log after character ``since``; raise
        :class:`CeleryStartError` (with the log) if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while text not in self.log()[since:]:
            if not self.alive():
                raise CeleryStartError(
                    f"{self.name} exited with {self.process.returncode} before logging "
                    f"{text!r}:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                raise CeleryStartError(
                    f"{self.name} did not log {text!r} within {timeout:.0f}s:\n{self.log()}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = 10.0, *, terminate: bool = True) -> int | None:
        """SIGTERM the main process (Celery's warm shutdown: running tasks finish;
        ``terminate=False`` if that was sent already, as a second SIGTERM interrupts Celery's
        own clean-up), then SIGKILL the whole group, which also takes pool processes the
        main one left behind; returns the main process's exit code. Idempotent."""
        if self.alive():
            if terminate:
                self.kill(signal.SIGTERM, group=False)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        # Orphaned pool processes may outlive the leader: the group goes in any case.
        self.kill(signal.SIGKILL)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


@dataclass
class CeleryProcesses:
    """What :func:`celery_processes` yields: the running workers and beats."""

    workers: list[CeleryProcess]
    beats: list[CeleryProcess]
    env: dict[str, str] = field(repr=False)

    @property
    def beat(self) -> CeleryProcess | None:
        return self.beats[0] if self.beats else None

    @property
    def all(self) -> list[CeleryProcess]:
        return [*self.workers, *self.beats]

    def logs(self) -> str:
        """Every child's log, one section each, for a failure report."""
        return "\n".join(
            f"===== {p.name} (pid {p.pid}, {' '.join(p.argv[2:])}) =====\n{p.log()}"
            for p in self.all
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop everything: SIGTERM to every main process at once (beats first, so no new
        work is sent), then wait for each up to ``timeout`` and SIGKILL its whole group."""
        ordered = [*self.beats, *self.workers]
        for p in ordered:
            if p.alive():
                p.kill(signal.SIGTERM, group=False)
        for p in ordered:
            p.stop(timeout, terminate=False)


def _start(
    name: str, role: str, argv: list[str], env: Mapping[str, str], log_dir: Path, marker: str
) -> CeleryProcess:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg reaches its pool too
        )
    return CeleryProcess(name, role, argv, log_path, process, marker)


@contextlib.contextmanager
def celery_processes(
    *,
    env: Mapping[str, str],
    log_dir: Path,
    workers: int = 2,
    beat: bool | int = True,
    concurrency: int = 1,
    queues: str = "celery",
    worker_args: Sequence[str] = (),
    beat_args: Sequence[str] = (),
    ready_timeout: float = 45.0,
    stop_timeout: float = 10.0,
    echo_logs_on_error: bool = True,
) -> Iterator[CeleryProcesses]:
    """Start ``workers`` prefork workers (named w1@, w2@, ... each with ``concurrency`` pool
    processes on ``queues``) and ``beat`` beat instances (True = 1), wait until every worker
    logs that it is ready and every beat that it started, and yield them.

    Mingle and gossip are off (they only slow the start; the tests need neither). Each beat
    keeps its schedule file under ``log_dir``. On exit every process group is stopped and
    reaped; if the block raised, all logs are printed after that.
    """
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    celery = [sys.executable, "-m", "celery", "-A", "servicedesk"]
    host = socket.gethostname()
    beats = int(beat)
    started = CeleryProcesses(workers=[], beats=[], env=dict(env))
    failed = False
    try:
        for i in range(1, workers + 1):
            argv = [
                *celery,
                "worker",
                "-n",
                f"w{i}@{host}",
                f"--concurrency={concurrency}",
                "--pool=prefork",
                "-Q",
                queues,
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                *worker_args,
            ]
            started.workers.append(_start(f"w{i}", "worker", argv, env, log_dir, WORKER_READY))
        for i in range(1, beats + 1):
            schedule = log_dir / f"beat{i}-schedule"
            argv = [
                *celery,
                "beat",
                f"--schedule={schedule}",
                "--loglevel=INFO",
                *beat_args,
            ]
            started.beats.append(_start(f"beat{i}", "beat", argv, env, log_dir, BEAT_READY))
        for p in started.all:
            p.wait_for_log(p.ready_marker, timeout=ready_timeout)
        yield started
    except BaseException:
        failed = True
        raise
    finally:
        started.stop(stop_timeout)
        if failed and echo_logs_on_error:
            print("\n" + started.logs(), file=sys.stderr)
