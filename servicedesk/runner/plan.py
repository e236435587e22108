"""The runner's pure decisions: child environments, command lines and the banner.

Nothing here starts a process or reads the process environment; the CLI passes
``os.environ`` in. (The runner is the one place besides ``servicedesk.env`` that touches the
environment: it runs before any settings load and writes what they will read.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEMO_SETTINGS = "servicedesk.settings.local"
TEST_SETTINGS = "servicedesk.settings.test"
DEMO_PASSWORD = "demo"
WSGI_APP = "servicedesk.wsgi:application"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    sees: str


# What seed_demo creates (issue 2, item 8); printed so a newcomer knows whom to log in as.
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin", "provider_admin", "everything, and the admin site"),
    DemoLogin("dispatcher", "dispatcher", "all clients' tickets; assigns partners"),
    DemoLogin("client", "client_manager", "every store of the grocery chain"),
    DemoLogin("store", "store_staff", "one grocery store's tickets"),
    DemoLogin("partner", "partner_manager", "an operational partner's jobs and engineers"),
    DemoLogin("engineer", "partner_engineer", "own jobs at that partner"),
)


def child_env(
    base: Mapping[str, str],
    *,
    database_url: str,
    settings: str,
    keep_broker: bool = True,
) -> dict[str, str]:
    """The environment of every child: ``base`` plus ``DATABASE_URL`` and
    ``DJANGO_SETTINGS_MODULE`` (always overridden: the mode decides the settings, not a value
    left in the shell). ``keep_broker=False`` drops ``CELERY_BROKER_URL`` so the test suite
    runs tasks eagerly whatever the developer's shell says; tests that need a real broker
    read ``REDIS_URL``."""
    env = dict(base)
    env["DATABASE_URL"] = database_url
    env["DJANGO_SETTINGS_MODULE"] = settings
    env["PYTHONUNBUFFERED"] = "1"  # children's logs interleave in order with the runner's
    if not keep_broker:
        env.pop("CELERY_BROKER_URL", None)
    return env


def manage_command(python: str, args: Sequence[str]) -> list[str]:
    return [python, "manage.py", *args]


def setup_steps(python: str, *, seed: bool) -> list[tuple[str, list[str]]]:
    """The steps before serving, in order; each is idempotent, so a second ``make demo``
    changes nothing that the first one made."""
    steps = [("migrate", manage_command(python, ["migrate", "--noinput"]))]
    if seed:
        steps.append(("seed_demo", manage_command(python, ["seed_demo"])))
    steps.append(("collectstatic", manage_command(python, ["collectstatic", "--noinput", "-v0"])))
    return steps


def web_command(
    python: str, *, host: str, port: int, workers: int = 2, threads: int = 2
) -> list[str]:
    """gunicorn serving the WSGI app; a short graceful timeout keeps Ctrl-C quick."""
    return [
        python,
        "-m",
        "gunicorn",
        WSGI_APP,
        f"--bind={host}:{port}",
        f"--workers={workers}",
        f"--threads={threads}",
        "--graceful-timeout=5",
        # gunicorn's control socket defaults to one path per user ($HOME/.gunicorn), which a
        # second checkout's server would take over; the runner stops gunicorn by signal.
        "--no-control-socket",
    ]


def worker_command(python: str, *, concurrency: int = 2) -> list[str]:
    celery = [python, "-m", "celery", "-A", "servicedesk"]
    return [*celery, "worker", "--loglevel=INFO", f"--concurrency={concurrency}"]


def beat_command(python: str, *, schedule_file: Path) -> list[str]:
    celery = [python, "-m", "celery", "-A", "servicedesk"]
    return [*celery, "beat", "--loglevel=INFO", f"--schedule={schedule_file}"]


def beat_loop_command(python: str) -> list[str]:
    return [python, "-m", "servicedesk.runner", "beat-loop"]


def pytest_command(python: str, args: Sequence[str]) -> list[str]:
    return [python, "-m", "pytest", *args]


def redact_url(url: str) -> str:
    """``url`` without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def banner(*, url: str, database: str, broker: str | None, seeded: bool) -> str:
    """What a newcomer needs on screen once the app answers: where, as whom, and how to stop."""
    background = (
        f"Celery worker + beat, broker {redact_url(broker)}"
        if broker
        else "in-process (set CELERY_BROKER_URL for real Celery workers)"
    )
    lines = [
        "",
        f"  Service desk is up:  {url}",
        f"  Database:            {database}",
        f"  Background work:     {background}",
        "",
        f'  Demo logins (password "{DEMO_PASSWORD}" for all):'
        if seeded
        else "  Demo logins, if the demo data were loaded before (make demo loads them):",
    ]
    lines += [f"    {login.username:<11} {login.role:<17} {login.sees}" for login in DEMO_LOGINS]
    lines += ["", "  Press Ctrl-C to stop everything.", ""]
    return "\n".join(lines)
