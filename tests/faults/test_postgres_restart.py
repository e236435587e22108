"""PostgreSQL restarted under load: requests fail cleanly with 503 and the application
recovers by itself when the server is back.

The application runs as in production: gunicorn, DEBUG off, psycopg's connection pool. Its
database is a private PostgreSQL cluster (the machine's is shared with other test runs), which
the test crashes (``pg_ctl stop -m immediate`` cuts every connection) while four threads keep
reading and writing through the API, and then starts again on the same port and data.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest

from tests.faults.support import (
    BASE_DIR,
    app_env,
    manage,
    private_postgres,
    wait_for,
    web_server,
)

pytestmark = pytest.mark.faults


def _seed(env: dict[str, str]) -> dict:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.seed"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _sign_in(server) -> tuple[int, str]:
    """Post the login form (its GET needs no database; checking a password does)."""
    import http.cookiejar
    import re
    import urllib.error
    import urllib.parse
    import urllib.request

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    with opener.open(server.base_url + "/login/", timeout=60) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "dispatcher", "password": "whatever-1234"}
    ).encode()
    request = urllib.request.Request(server.base_url + "/login/", data=data, method="POST")
    request.add_header("Referer", server.base_url + "/login/")
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        assert error.headers.get("Retry-After")
        return error.code, error.read().decode()


def _seed_in_process() -> dict:
    """The same desk as ``tests.faults.seed``, in the test's own database."""
    from tests.faults.seed import seed

    return seed()


class Load:
    """Threads that list and open tickets through the API until told to stop, recording
    every answer: (phase, status, error code)."""

    def __init__(self, server, desk: dict, threads: int = 4) -> None:
        self.server, self.desk = server, desk
        self.phase = "before"
        self.answers: list[tuple[str, int, str]] = []
        self.created: list[int] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def _run(self, index: int) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            phase = self.phase
            if n % 2:
                status, headers, body = self.server.request(
                    "GET", "/api/v1/tickets/", token=self.desk["token"], timeout=60
                )
            else:
                status, headers, body = self.server.request(
                    "POST",
                    "/api/v1/tickets/",
                    token=self.desk["token"],
                    body={"store": self.desk["store"], "subject": f"load {index}-{n}"},
                    timeout=60,
                )
            code = (body.get("error") or {}).get("code", "") if isinstance(body, dict) else ""
            with self._lock:
                self.answers.append((phase, status, code))
                if status == 201:
                    self.created.append(body["id"])
                if status == 503:
                    assert headers.get("Retry-After"), "a 503 must say when to retry"
            time.sleep(0.05)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(90)

    def statuses(self, phase: str) -> Counter:
        return Counter(status for p, status, _ in self.answers if p == phase)


def test_requests_answer_503_while_postgres_is_down_and_recover_without_an_app_restart(tmp_path):
    with private_postgres(tmp_path) as cluster:
        cluster.createdb("desk")
        env = app_env(database_url=cluster.url("desk"))
        manage(env, "migrate", "-v0")
        desk = _seed(env)

        with web_server(env, tmp_path) as server, Load(server, desk) as load:
            wait_for(lambda: load.statuses("before")[201] >= 4, timeout=60, what="load running")

            cluster.stop("immediate")
            load.phase = "down"
            wait_for(lambda: load.statuses("down")[503] >= 4, timeout=90, what="503s while down")
            status, page = _sign_in(server)
            assert status == 503 and "503" in page  # the HTML side: the static page
            status, _, body = server.request("GET", "/readyz", timeout=60)
            assert status == 503 and body["down"] == ["database"]

            cluster.start()
            load.phase = "after"
            wait_for(lambda: load.statuses("after")[201] >= 4, timeout=90, what="writes again")
            wait_for(lambda: load.statuses("after")[200] >= 4, timeout=90, what="reads again")
            server_pid = server.process.pid
            assert server.process.poll() is None  # the same gunicorn, never restarted

        log = server.log()
        # Every ticket the API said it created is there after the restart: nothing lost.
        import psycopg

        with psycopg.connect(cluster.url("desk").replace("postgres://", "postgresql://")) as conn:
            stored = {
                row[0]
                for row in conn.execute(
                    "SELECT id FROM tickets_ticket WHERE id = ANY(%s)", [load.created]
                )
            }

    answers = load.answers
    # Not one 500 in any phase: an outage is a 503, never a "server error".
    assert not [a for a in answers if a[1] >= 500 and a[1] != 503], answers
    down = load.statuses("down")
    assert down[503] >= 4
    assert {code for phase, status, code in answers if status == 503} == {"service_unavailable"}
    # While down, nothing but 503 (and answers begun just before the crash).
    assert set(down) <= {200, 201, 503}, down
    assert "Traceback" not in log, log[-4000:]
    assert server_pid
    assert load.created and stored == set(load.created)
