"""Settings for ``make bench``: the local settings, pointed at a database of the bench's own.

The database is the one ``DATABASE_URL`` names (the runner sets it: embedded PostgreSQL or
the given server) with ``_bench`` appended, so generating a million clocks never touches the
demo data. ``bench`` is installed here only, for its ``bench_sweep`` management command.
"""

from urllib.parse import urlsplit

from servicedesk import env
from servicedesk.settings.base import database_config
from servicedesk.settings.local import *  # noqa: F403

DEBUG = False  # as in production; DEBUG also keeps a log of every query


def bench_database_url(url: str) -> str:
    """``url`` with ``_bench`` appended to its database name."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "servicedesk"
    return parts._replace(path=f"/{name}_bench").geturl()


BENCH_DATABASE_URL = bench_database_url(
    env.DATABASE_URL or "postgres://postgres@127.0.0.1:5432/servicedesk"
)
DATABASES = {"default": database_config(BENCH_DATABASE_URL)}
# One process, one connection: no pool (it would also keep the generator's session settings).
DATABASES["default"]["OPTIONS"].pop("pool", None)
# Publish to Celery's in-memory transport: the sweep's after-commit publishes run for real
# (and are counted), but no worker picks them up and nothing reaches a developer's broker.
CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = False
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
