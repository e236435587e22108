"""PostgreSQL for the runner: the embedded server under ``var/pgdata``, or the one in the URL.

The embedded server comes from the ``pgserver`` package (PostgreSQL binaries in a wheel). It
listens on a Unix socket only, so two checkouts on one machine never fight over a port.
``pgserver`` counts the processes holding a handle on the data directory and stops the server
when the last one lets go; that makes ``make demo`` and ``make test`` share one server safely.
What it does not survive is a ``kill -9``: a dead holder stays counted (the server would never
stop) and a dead or zombie postmaster's ``postmaster.pid`` looks alive to it. Both are
repaired here before every start.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

logger = logging.getLogger("servicedesk.runner")

DATABASE_NAME = "servicedesk"
# pgserver's own bookkeeping file inside the data directory (pgserver 0.1.x).
HANDLES_FILE = ".handle_pids.json"
MAINTENANCE_DATABASE = "postgres"


class DatabaseUnavailable(RuntimeError):
    """PostgreSQL cannot be reached or the database cannot be made to exist; the message says
    what to do."""


def socket_url(socket_dir: Path | str, port: int, database: str, user: str = "postgres") -> str:
    """A ``postgres://`` URL for a server on a Unix socket, in the form ``dj_database_url``
    understands: the socket directory percent-encoded in the host part (case is kept)."""
    return f"postgres://{user}@{quote(str(socket_dir), safe='')}:{port}/{database}"


def connection_kwargs(url: str, database: str | None = None) -> dict[str, Any]:
    """psycopg keyword arguments for ``url`` (optionally for another ``database``), parsed the
    same way Django's settings parse it, so the runner checks the server the app will use."""
    import dj_database_url

    config = dj_database_url.parse(url)
    kwargs: dict[str, Any] = {
        "dbname": database or config["NAME"],
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "connect_timeout": 5,
    }
    kwargs.update(config.get("OPTIONS", {}))
    return {key: value for key, value in kwargs.items() if value is not None}


def ensure_database(url: str) -> None:
    """Guarantee that the database named in ``url`` exists, creating it when the server lets
    this user; otherwise raise :class:`DatabaseUnavailable` naming the cause."""
    import psycopg
    from psycopg import sql

    target = connection_kwargs(url)
    name = target["dbname"]
    where = f"{target.get('host', 'localhost')}:{target.get('port', 5432)}"
    try:
        psycopg.connect(**target).close()
        return
    except psycopg.OperationalError as error:
        first_error = error
    try:
        # autocommit: CREATE DATABASE cannot run inside a transaction block.
        with psycopg.connect(
            **connection_kwargs(url, MAINTENANCE_DATABASE), autocommit=True
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists:
                raise DatabaseUnavailable(
                    f"Cannot connect to database {name!r} at {where}: {first_error}"
                )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            logger.info("created database %r at %s", name, where)
    except psycopg.errors.InsufficientPrivilege as error:
        raise DatabaseUnavailable(
            f"Database {name!r} does not exist at {where} and this user may not create it "
            f"({error}). Create it (createdb {name}) or point DATABASE_URL at one that exists."
        ) from error
    except psycopg.OperationalError as error:
        raise DatabaseUnavailable(
            f"Cannot reach PostgreSQL at {where}: {first_error}\nStart that server or fix "
            "DATABASE_URL (unset it to use the embedded server under var/pgdata)."
        ) from error


def _pgserver() -> ModuleType:
    """The ``pgserver`` module, imported late: only the embedded path needs it."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (as on servers and in CI) and falls
    # back to /tmp, which is what we want anyway.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    # pgserver logs every command line at INFO and, on a failed start, the whole server log
    # since initdb; EmbeddedPostgres.start reports failures itself, with the log's tail.
    logging.getLogger("pgserver").setLevel(logging.CRITICAL)
    return pgserver


def postmaster_alive(pgdata: Path) -> bool:
    """True when ``postmaster.pid`` names a live (not zombie) postgres process serving
    ``pgdata``. A recycled pid, a zombie or an unreadable file counts as dead."""
    import psutil

    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        cmdline = process.cmdline()
    except (OSError, IndexError, ValueError, psutil.Error):
        return False
    return bool(cmdline) and Path(cmdline[0]).name == "postgres" and str(pgdata) in cmdline


def stale_lock_files(postmaster_pid: str) -> list[Path]:
    """The socket files named by the contents of a dead server's ``postmaster.pid``.

    Postgres checks the socket lock file's pid with ``kill(pid, 0)``, so a recycled pid or an
    unreaped zombie (seen in containers whose init reaps slowly) makes it refuse to start.
    The socket directory is private to this data directory, so nothing else owns them.
    """
    lines = [line.strip() for line in postmaster_pid.splitlines()]
    if len(lines) < 5 or not lines[3] or not lines[4]:
        return []  # TCP-only server, or a file cut short: no socket files to clear
    socket = Path(lines[4]) / f".s.PGSQL.{lines[3]}"
    return [socket.with_name(socket.name + ".lock"), socket]


def live_handles(pids: list[int], is_alive: Callable[[int], bool]) -> list[int]:
    """The holders in ``pids`` that are still running, in order, without duplicates."""
    seen: list[int] = []
    for pid in pids:
        if pid not in seen and is_alive(pid):
            seen.append(pid)
    return seen


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (killed, not yet reaped) does not."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def repair_after_crash(pgdata: Path) -> None:
    """Undo what a ``kill -9`` of a runner or of the postmaster leaves behind, so that
    ``pgserver`` starts (or adopts) the server and stops it when the last live holder exits."""
    from pgserver.utils import DiskList

    pidfile = pgdata / "postmaster.pid"
    if pidfile.exists() and not postmaster_alive(pgdata):
        logger.info("removing the lock files of a server that is gone (%s)", pidfile)
        for path in stale_lock_files(pidfile.read_text()):
            path.unlink(missing_ok=True)
        pidfile.unlink(missing_ok=True)
    handles = DiskList(pgdata / HANDLES_FILE)
    recorded = handles.get()
    alive = live_handles(recorded, process_alive)
    if alive != recorded:
        handles.put(alive)


class EmbeddedPostgres:
    """A handle on the server under ``pgdata``; ``url`` points at database ``servicedesk``.

    Starting creates the data directory on first use and the database if missing. Stopping
    releases this process's handle; the server stops when no other live runner holds one.
    """

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.resolve()
        self._server: Any = None
        self.url = ""

    def start(self) -> str:
        pgserver = _pgserver()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if self.pgdata.exists():
            # Under pgserver's own inter-process lock, so a runner starting at the same time
            # never sees its server's files half-written. (Released before get_server takes
            # it again: the file lock is not re-entrant.)
            with pgserver.PostgresServer._lock:
                repair_after_crash(self.pgdata)
        try:
            self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        except Exception as error:  # pgserver raises whatever initdb or pg_ctl raised
            raise DatabaseUnavailable(
                f"The embedded PostgreSQL in {self.pgdata} did not start ({error}). "
                f"Last lines of its log ({self.pgdata / 'log'}):\n{self._log_tail()}"
            ) from error
        info = self._server.get_postmaster_info()
        self.url = socket_url(info.socket_dir, info.port or 5432, DATABASE_NAME)
        ensure_database(self.url)
        logger.info("embedded PostgreSQL ready (pid %s, data %s)", info.pid, self.pgdata)
        return self.url

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join((self.pgdata / "log").read_text().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self._server is None:
            return
        server, self._server = self._server, None
        try:
            server.cleanup()
        except Exception:  # a failed stop must not hide why we are stopping
            logger.exception("stopping the embedded PostgreSQL failed")
            return
        if postmaster_alive(self.pgdata):
            logger.info("embedded PostgreSQL left running for another runner still using it")
        else:
            logger.info("embedded PostgreSQL stopped")


@contextmanager
def database_url(explicit_url: str, pgdata: Path, *, create: bool = True) -> Iterator[str]:
    """Yield the URL every child gets as ``DATABASE_URL``: ``explicit_url`` when given (its
    database created if missing and ``create``), else the embedded server's, which is
    stopped on exit."""
    if explicit_url:
        if create:
            ensure_database(explicit_url)
        yield explicit_url
        return
    server = EmbeddedPostgres(pgdata)
    try:
        yield server.start()
    finally:
        server.stop()


def force_stop(pgdata: Path) -> bool:
    """Stop the embedded server under ``pgdata`` whoever started it (``make clean-all`` uses
    this before deleting the directory). Returns whether a server was running."""
    pgdata = pgdata.resolve()
    if not postmaster_alive(pgdata):
        return False
    pgserver = _pgserver()
    user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs postgres as this user
    pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    (pgdata / HANDLES_FILE).unlink(missing_ok=True)
    return True
