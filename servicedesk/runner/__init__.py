"""The process runner behind ``make demo``, ``make run``, ``make test`` and ``make migrate``.

It stands outside Django: it starts (or finds) PostgreSQL, composes the environment every
child process inherits, runs the set-up steps, then supervises gunicorn, Celery (or the
in-process beat loop) and stops them all, the embedded database last, on Ctrl-C or SIGTERM.

Entry point: ``python -m servicedesk.runner {demo,run,test,manage,beat-loop,stop-db}``.

Modules:
- ``plan``: pure decisions (child environment, command lines, the banner); no side effects.
- ``postgres``: the embedded PostgreSQL from ``pgserver`` and ``ensure_database``.
- ``supervisor``: children in their own process groups, stopped together.
- ``beat``: the in-process stand-in for ``celery beat`` when no broker is configured.
"""
