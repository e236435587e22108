"""Services a fault test may stop and start at will: a private Redis, a private PostgreSQL and
the web application served by gunicorn, each a real process of its own.

The machine's Redis and PostgreSQL are shared with every other test run (and, in CI, with
nothing else but still): a test that stopped them would break its neighbours. So the tests
that take a service down start their own instance on a free port, kill it, and start it again
on the same port and data directory, exactly as an operator's restart would.

Nothing here imports Django; pytest only through the fixtures in ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


# --- Redis ---------------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    """``redis-server`` on a port of its own, stoppable and restartable on that port."""

    port: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (CI installs it with the machine)"
        with self.log_path.open("ab") as log:
            argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
            self.process = subprocess.Popen(
                [*argv, "--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self.answers, timeout=20, what=f"redis on :{self.port} answering")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """Like a crash: SIGKILL, no chance to say goodbye to clients."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        wait_for(lambda: not self.answers(), timeout=10, what="redis gone")


@contextlib.contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(port=free_port(), log_path=directory / "redis.log")
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


# --- PostgreSQL ----------------------------------------------------------------------------


def postgres_bin(name: str) -> str:
    """A PostgreSQL binary: the ``pgserver`` wheel's (a dev dependency, so every machine that
    runs the suite has it), else the system's."""
    with contextlib.suppress(ImportError):
        import pgserver

        candidate = Path(pgserver.__path__[0]) / "pginstall" / "bin" / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    assert found, f"no {name} binary (pgserver's or the system's)"
    return found


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, on a TCP port of its own."""

    data_dir: Path
    port: int
    log_path: Path

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str) -> None:
        # PostgreSQL refuses to run as root; as root (CI), run it as pgserver's own user.
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=120, user=_server_user()
        )
        assert done.returncode == 0, f"{' '.join(argv)}: {done.stdout}{done.stderr}"

    def init(self) -> None:
        self._run(
            postgres_bin("initdb"), "-D", str(self.data_dir), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories='{self.data_dir}' -c fsync=off"
        )
        self._run(
            postgres_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_path),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        """``immediate`` is a crash as far as clients can tell: every connection is cut."""
        self._run(
            postgres_bin("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"
        )  # fmt: skip

    def createdb(self, name: str) -> None:
        self._run(postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "postgres", name)  # fmt: skip


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


@contextlib.contextmanager
def private_postgres(directory: Path) -> Iterator[PrivatePostgres]:
    """A new cluster; its files live in a directory of their own under the system temporary
    directory (pytest's are private to root, which the server's user could not enter)."""
    home = Path(tempfile.mkdtemp(prefix="sd-faults-pg-"))
    user = _server_user()
    if user:
        shutil.chown(home, user=user)
    cluster = PrivatePostgres(
        data_dir=home / "pgdata", port=free_port(), log_path=home / "postgres.log"
    )
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(AssertionError):
            cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


# --- the application -------------------------------------------------------------------------


def app_env(*, database_url: str, broker_url: str = "", **extra: str) -> dict[str, str]:
    """Environment of an application process: production-like (DEBUG off, the connection
    pool on), against the given database and broker."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="servicedesk.settings.local",
        DEBUG="false",
        PYTHONUNBUFFERED="1",
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    else:
        env.pop("CELERY_BROKER_URL", None)
    env.update(extra)
    return env


def manage(env: Mapping[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


@dataclass
class WebServer:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str = "",
        body: dict | None = None,
        timeout: float = 30,
    ) -> tuple[int, dict, dict]:
        """(status, headers, JSON body or {}) — never raises for an HTTP error status."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, headers, raw = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            status, headers, raw = error.code, dict(error.headers), error.read()
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {"raw": raw[:500].decode(errors="replace")}
        return status, headers, payload

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def web_server(env: Mapping[str, str], directory: Path, *, threads: int = 4) -> Iterator[WebServer]:
    """gunicorn with one worker and ``threads`` threads, as ``make run`` starts it."""
    port = free_port()
    log_path = directory / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "servicedesk.wsgi:application",
             f"--bind=127.0.0.1:{port}", "--workers=1", f"--threads={threads}",
             "--graceful-timeout=5", "--timeout=120", "--no-control-socket"],
            cwd=BASE_DIR, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = WebServer(process=process, port=port, log_path=log_path)
    try:

        def serving() -> bool:
            assert process.poll() is None, f"gunicorn died:\n{server.log()[-3000:]}"
            try:
                return server.request("GET", "/healthz", timeout=2)[0] == 200
            except OSError:
                return False

        wait_for(serving, timeout=60, what="gunicorn serving /healthz")
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
