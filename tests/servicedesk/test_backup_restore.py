"""A backup is only a backup once it has been restored: pg_dump, pg_restore, compare.

This is the procedure docs/OPERATIONS.md describes, run against the test database: a
custom-format dump restored into a new, empty database must hold every table with the same
number of rows, and the audit triggers (schema, not data) must come back and work.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from audit.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)

PGSERVER_BIN = (
    Path(__file__).resolve().parents[2]
    / ".venv/lib/python3.11/site-packages/pgserver/pginstall/bin"
)


def _major(binary: str) -> int | None:
    output = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"\(PostgreSQL\) (\d+)", output)
    return int(found.group(1)) if found else None


def pg_binary(name: str) -> str:
    """The ``name`` tool of the server's major version: the machine's, else pgserver's."""
    server_major = connection.cursor().connection.info.server_version // 10000
    for candidate in (shutil.which(name), str(PGSERVER_BIN / name)):
        if candidate and Path(candidate).exists() and _major(candidate) == server_major:
            return candidate
    pytest.fail(f"no {name} for PostgreSQL {server_major}", pytrace=False)


def _conninfo(dbname: str) -> dict[str, str]:
    params = connection.settings_dict
    info = {"dbname": dbname, "host": params["HOST"] or "", "port": str(params["PORT"] or "")}
    if params["USER"]:
        info["user"] = params["USER"]
    if params["PASSWORD"]:
        info["password"] = params["PASSWORD"]
    return {k: v for k, v in info.items() if v}


def _cli_args(info: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    args = [f"--dbname={info['dbname']}"]
    for key, flag in (("host", "--host"), ("port", "--port"), ("user", "--username")):
        if key in info:
            args.append(f"{flag}={info[key]}")
    env = {**os.environ, **({"PGPASSWORD": info["password"]} if "password" in info else {})}
    return args, env


def row_counts(info: dict[str, str]) -> dict[str, int]:
    with psycopg.connect(**info) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }


def audit_triggers(info: dict[str, str]) -> set[tuple[str, str]]:
    with psycopg.connect(**info) as conn:
        rows = conn.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgname LIKE 'audit%'"
        ).fetchall()
    return set(rows)


def test_a_dump_restores_every_row_and_the_audit_triggers(world, tmp_path):
    # given a small committed data set with an audit trail
    source = _conninfo(connection.settings_dict["NAME"])
    assert AuditEntry.objects.exists()
    dump = tmp_path / "servicedesk.dump"
    target = {**source, "dbname": f"{source['dbname']}_restore_{uuid.uuid4().hex[:8]}"}

    # when it is dumped in custom format and restored into a new database
    args, env = _cli_args(source)
    subprocess.run(
        [pg_binary("pg_dump"), "--format=custom", "--no-owner", f"--file={dump}", *args],
        check=True,
        env=env,
        timeout=60,
    )
    admin = {**source, "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target["dbname"])))
    try:
        target_args, target_env = _cli_args(target)
        subprocess.run(
            [pg_binary("pg_restore"), "--no-owner", "--exit-on-error", *target_args, str(dump)],
            check=True,
            env=target_env,
            timeout=60,
        )

        # then every table has the same rows, and the triggers are back and enforced
        before = row_counts(source)
        assert before["audit_auditentry"] > 0 and before["tickets_ticket"] == 3
        assert row_counts(target) == before
        assert audit_triggers(target) == audit_triggers(source)
        assert ("tickets_ticket", "audit_row_change") in audit_triggers(target)
        with psycopg.connect(**target) as conn, pytest.raises(psycopg.Error, match="append-only"):
            conn.execute("DELETE FROM audit_auditentry")
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(target["dbname"])
                )
            )
