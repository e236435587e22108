"""Command line of the runner; the Makefile's targets call these sub-commands.

- ``demo``: database, migrate, seed_demo, collectstatic, then serve with background work.
- ``run``: the same without seed_demo (serve what the database already holds).
- ``test [PYTEST_ARGS...]``: pytest on PostgreSQL; exits with pytest's exit code.
- ``manage ARGS...``: ``manage.py ARGS`` with the database up (``make migrate``).
- ``stop-db``: stop the embedded server whoever started it (``make clean-all``).
- ``beat-loop``: the in-process beat, started by ``demo``/``run`` when there is no broker.

Reads ``DATABASE_URL`` (unset: embedded PostgreSQL under ``var/pgdata``),
``CELERY_BROKER_URL`` (set: real Celery worker and beat), ``PORT`` (default 8000) and
``SERVICEDESK_VAR_DIR`` (default ``var`` in the checkout; a relative path is taken from the
checkout): where the runner keeps the embedded database (``pgdata``) and Celery beat's
schedule file, so a test can run a throw-away demo beside the developer's. Django's
``STATIC_ROOT`` and ``MEDIA_ROOT`` are separate settings and do not follow it.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

from servicedesk.env import BASE_DIR
from servicedesk.runner import plan
from servicedesk.runner.postgres import DatabaseUnavailable, database_url, force_stop
from servicedesk.runner.supervisor import Child, Interrupted, StopRequested, Supervisor

logger = logging.getLogger("servicedesk.runner")

VAR_DIR = BASE_DIR / (os.environ.get("SERVICEDESK_VAR_DIR") or "var")
PGDATA = VAR_DIR / "pgdata"
BEAT_SCHEDULE_FILE = VAR_DIR / "celerybeat-schedule"
PYTHON = sys.executable
SERVE_TIMEOUT_SECONDS = 120.0


def port_free(host: str, port: int) -> bool:
    """Whether gunicorn could bind ``host:port`` (same SO_REUSEADDR semantics as gunicorn)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_until_serving(url: str, supervisor: Supervisor, web: Child) -> bool:
    """Poll ``url`` until gunicorn answers anything over HTTP (a 404 too: the route may not be
    wired yet). False if gunicorn died or did not answer in time; raises
    :class:`Interrupted` on a stop request."""
    deadline = time.monotonic() + SERVE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if supervisor.stop:
            raise Interrupted("startup", 0)
        if not web.running():
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.3)
    return False


def _serve(supervisor: Supervisor, options: argparse.Namespace, *, seed: bool, db: str) -> int:
    for name, argv in plan.setup_steps(PYTHON, seed=seed):
        code = supervisor.run(name, argv)
        if code != 0:
            logger.error("%s failed (exit code %s): not serving", name, code)
            return code if code > 0 else 1
    broker = supervisor.env.get("CELERY_BROKER_URL", "")
    if broker:
        supervisor.start("celery worker", plan.worker_command(PYTHON), stop_timeout=20)
        supervisor.start("celery beat", plan.beat_command(PYTHON, schedule_file=BEAT_SCHEDULE_FILE))
    else:
        supervisor.start("beat loop", plan.beat_loop_command(PYTHON))
    web = supervisor.start(
        "gunicorn", plan.web_command(PYTHON, host=options.host, port=options.port)
    )
    url = f"http://{options.host}:{options.port}/"
    if not wait_until_serving(url + "healthz", supervisor, web):
        logger.error("gunicorn did not start serving %s: see its output above", url)
        return 1
    print(plan.banner(url=url, database=db, broker=broker or None, seeded=seed), flush=True)
    exited = supervisor.watch()
    if exited is not None:
        logger.error("%s exited (code %s): stopping the rest", exited.name, exited.process.poll())
        return 1
    return 0


def serve(options: argparse.Namespace, *, seed: bool) -> int:
    """``demo`` and ``run``: guarantees that on return (normal, error or Ctrl-C) every child
    is stopped and the embedded database released."""
    stop = StopRequested().install()
    if not port_free(options.host, options.port):
        logger.error(
            "port %s on %s is taken: stop what uses it or set PORT", options.port, options.host
        )
        return 1
    explicit = os.environ.get("DATABASE_URL", "")
    db = plan.redact_url(explicit) if explicit else f"embedded PostgreSQL in {PGDATA}"
    try:
        with database_url(explicit, PGDATA) as url:
            env = plan.child_env(os.environ, database_url=url, settings=plan.DEMO_SETTINGS)
            supervisor = Supervisor(stop, env, BASE_DIR)
            try:
                if stop:
                    return 0
                return _serve(supervisor, options, seed=seed, db=db)
            except Interrupted:
                return 0
            finally:
                supervisor.stop_all()
    except DatabaseUnavailable as error:
        logger.error("%s", error)
        return 1


def run_one(name: str, argv: Sequence[str], *, settings: str | None, test: bool) -> int:
    """Run one command against the database (embedded unless ``DATABASE_URL``) and return its
    exit code; the embedded server is released afterwards."""
    stop = StopRequested().install()
    explicit = os.environ.get("DATABASE_URL", "")
    try:
        # pytest-django creates its own test database; only manage.py needs the named one.
        with database_url(explicit, PGDATA, create=not test) as url:
            env = plan.child_env(
                os.environ,
                database_url=url,
                settings=settings or os.environ.get("DJANGO_SETTINGS_MODULE", plan.DEMO_SETTINGS),
                keep_broker=not test,
            )
            supervisor = Supervisor(stop, env, BASE_DIR)
            try:
                code = supervisor.run(name, argv)
            except Interrupted as interrupted:
                code = interrupted.code
            finally:
                supervisor.stop_all()
    except DatabaseUnavailable as error:
        logger.error("%s", error)
        return 1
    # A child killed by a signal has a negative code; a shell would report 128 + signal.
    return code if code >= 0 else 128 - code


def beat_loop() -> int:
    from servicedesk.runner.beat import run_loop

    stop = StopRequested().install()
    run_loop(lambda: bool(stop))
    return 0


def stop_db() -> int:
    if force_stop(PGDATA):
        logger.info("embedded PostgreSQL in %s stopped", PGDATA)
    else:
        logger.info("no embedded PostgreSQL running in %s", PGDATA)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m servicedesk.runner",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(dest="command", required=True)
    for name in ("demo", "run"):
        serve_parser = commands.add_parser(name)
        serve_parser.add_argument("--host", default="127.0.0.1")
        serve_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    commands.add_parser("test").add_argument("pytest_args", nargs=argparse.REMAINDER)
    commands.add_parser("manage").add_argument("manage_args", nargs=argparse.REMAINDER)
    commands.add_parser("beat-loop")
    commands.add_parser("stop-db")
    return root


def _strip_separator(args: list[str]) -> list[str]:
    """``args`` without the leading ``--`` that separates them from the runner's own."""
    return args[1:] if args[:1] == ["--"] else args


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if options.command == "beat-loop":
        return beat_loop()  # logs through Django's LOGGING, configured by django.setup()
    logging.basicConfig(level=logging.INFO, format="[runner] %(message)s")
    if options.command in ("demo", "run"):
        return serve(options, seed=options.command == "demo")
    if options.command == "test":
        args = _strip_separator(options.pytest_args)
        command = plan.pytest_command(PYTHON, args)
        return run_one("pytest", command, settings=plan.TEST_SETTINGS, test=True)
    if options.command == "manage":
        args = _strip_separator(options.manage_args)
        command = plan.manage_command(PYTHON, args)
        return run_one(" ".join(["manage.py", *args]), command, settings=None, test=False)
    return stop_db()


if __name__ == "__main__":
    sys.exit(main())
