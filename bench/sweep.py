"""SLA sweep benchmark: one sweep over a million clocks of which ten thousand are newly due.

DESIGN.md ("Scale") promises "a sweep over a million clocks in under a second" and issue 3
asks for the figure and a plan that uses the partial index ``sla_clock_next_check``. This
module

1. generates the clocks with set-based SQL (``generate_series``; no ORM loops): clients,
   contracts and policies, stores, tickets with their history, and three SLA clocks per
   ticket in a realistic mix of states, of which exactly ``due`` are newly due at the
   bench's instant ``now`` (half a warning, half a breach);
2. shows the plan of the sweep's selecting query (the ``picked`` CTE of
   ``sla.services._SWEEP_SQL``) and checks that it reads the partial index;
3. times the real ``tickets.escalation.sla_sweep`` (thresholds, timeline events, outbox rows,
   after-commit publishes: nothing stubbed) and a sweep when nothing is due;
4. resets the due clocks and repeats, reporting min and median.

Run it with ``make bench`` (its own database, see ``bench/settings.py``) or, with the same
settings, ``python -m bench.sweep --help``. ``tests/bench`` runs it at a tiny scale.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import connection, transaction

RESULTS_DIR = Path(__file__).resolve().parent / "results"
INDEX_NAME = "sla_clock_next_check"
CLOCK_TABLE = "sla_slaclock"

# Targets per priority (seconds): response, arrival on site, resolution.
TARGETS = {
    "p1": (900, 4 * 3600, 8 * 3600),
    "p2": (1800, 8 * 3600, 24 * 3600),
    "p3": (3600, 24 * 3600, 3 * 86400),
    "p4": (4 * 3600, 48 * 3600, 5 * 86400),
}
METRICS = ("response", "arrival", "resolution")
# Calendars the migrations install, with how much wall-clock time a working second takes in
# each (24×7: 1; daily 08–22: 24/14; Mon–Fri 09–18: 168/45). Clients take them in turn.
CALENDARS = (("24x7", 1.0), ("store-hours", 24 / 14), ("office", 168 / 45))
REGIONS = (
    ("RU-MOW", "Москва", "Moscow", "Europe/Moscow"),
    ("RU-SPE", "Санкт-Петербург", "Saint Petersburg", "Europe/Moscow"),
    ("RU-KGD", "Калининградская область", "Kaliningrad Oblast", "Europe/Kaliningrad"),
    ("RU-TA", "Республика Татарстан", "Tatarstan", "Europe/Moscow"),
    ("RU-SVE", "Свердловская область", "Sverdlovsk Oblast", "Asia/Yekaterinburg"),
    ("RU-NVS", "Новосибирская область", "Novosibirsk Oblast", "Asia/Novosibirsk"),
    ("RU-PRI", "Приморский край", "Primorsky Krai", "Asia/Vladivostok"),
    ("RU-KAM", "Камчатский край", "Kamchatka Krai", "Asia/Kamchatka"),
)
# Tables the generator fills, in insertion order (their identity sequences are moved on).
TABLES = (
    "servicedesk_organisation",
    "clients_clientcontract",
    "sla_slapolicy",
    "clients_store",
    "tickets_ticket",
    "sla_slaclock",
    "sla_clockthreshold",
    "tickets_ticketevent",
    "servicedesk_outboxmessage",
)
SWEPT_TABLES = ("sla_slaclock", "sla_clockthreshold", "tickets_ticketevent")


@dataclass(frozen=True)
class Params:
    """The generated world. ``stores`` is rounded up to a multiple of ``clients``."""

    clocks: int = 1_000_000
    due: int = 10_000
    clients: int = 20
    stores: int = 20_000
    seed: float = 0.42

    def __post_init__(self) -> None:
        if not 1 <= self.clients <= 676:
            raise ValueError("--clients must be between 1 and 676 (two-letter client codes)")
        if self.clocks < 3 or not 0 <= self.due <= self.clocks // 4:
            raise ValueError("need at least 3 clocks and at most a quarter of them due")
        if self.stores % self.clients:
            rounded = -(-self.stores // self.clients) * self.clients
            object.__setattr__(self, "stores", rounded)

    @property
    def tickets(self) -> int:
        return -(-self.clocks // len(METRICS))


@dataclass
class Meta:
    """What a generated world needs to be swept and reset: kept in ``bench_meta``."""

    params: dict[str, Any]
    now: str  # the bench's instant; every sweep runs at it
    baseline: dict[str, int]  # max id per table after generation: later rows are the sweep's
    generation_seconds: float
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def at(self) -> datetime:
        return datetime.fromisoformat(self.now)


# --- generation ----------------------------------------------------------------------------


def _max_ids(cursor) -> dict[str, int]:
    ids = {}
    for table in TABLES:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        ids[table] = cursor.fetchone()[0]
    return ids


def complete_insert(sql: str, params: dict[str, Any]) -> str:
    """``sql`` with the columns its INSERTs do not name added, with the model's defaults.

    Each INSERT marks where the columns and the values go (``/*cols:table*/``,
    ``/*vals:table*/``), so a migration that adds a column with a default (or a nullable one)
    does not break the bench; a new NOT NULL column without a default stops it with a message.
    The defaults' values are added to ``params``.
    """
    from django.apps import apps

    models = {model._meta.db_table: model for model in apps.get_models()}
    for table in sorted(set(re.findall(r"/\*cols:(\w+)\*/", sql))):
        named = re.search(rf"INSERT INTO {table} \(([^)]*)\)", sql)
        if named is None:
            raise RuntimeError(f"no column list for {table} in the bench's SQL")
        given = {c.strip() for c in named.group(1).replace(f"/*cols:{table}*/", "").split(",")}
        columns, values = [], []
        for model_field in models[table]._meta.concrete_fields:
            if (
                model_field.column in given
                or model_field.primary_key
                or model_field.db_type(connection) is None
                or model_field.has_db_default()  # the database fills it in (e.g. txid)
            ):
                continue
            if not model_field.has_default() and model_field.null:
                continue  # NULL
            value = model_field.get_default()
            if value is None and not model_field.null:
                raise RuntimeError(
                    f"{table}.{model_field.column} is NOT NULL without a default: "
                    "set it in bench/sweep.py's generator"
                )
            name = f"default__{table}__{model_field.column}"
            params[name] = model_field.get_db_prep_save(value, connection)
            columns.append(f", {model_field.column}")
            values.append(f", CAST(%({name})s AS {model_field.db_type(connection)})")
        sql = sql.replace(f"/*cols:{table}*/", "".join(columns))
        sql = sql.replace(f"/*vals:{table}*/", "".join(values))
    return sql


def _calendar_ids(cursor, now: datetime) -> list[int]:
    ids = []
    for code, _stretch in CALENDARS:
        cursor.execute("SELECT id FROM calendars_businesscalendar WHERE code = %s", [code])
        row = cursor.fetchone()
        if row is None:  # the presets are a data migration's; a flushed database lacks them
            values = {"now": now, "code": f"bench-{code}", "name": f"Bench {code}"}
            sql = complete_insert(
                "INSERT INTO calendars_businesscalendar (created_at, updated_at, code, name, "
                "time_zone, always_open, production_calendar, "
                "holiday_region/*cols:calendars_businesscalendar*/) VALUES (%(now)s, %(now)s, "
                "%(code)s, %(name)s, '', true, false, ''/*vals:calendars_businesscalendar*/) "
                "RETURNING id",
                values,
            )
            cursor.execute(sql, values)
            row = cursor.fetchone()
        ids.append(row[0])
    return ids


def _region_ids(cursor) -> list[int]:
    ids = []
    for code, name_ru, name_en, zone in REGIONS:
        values = {"code": code, "ru": name_ru, "en": name_en, "zone": zone}
        sql = complete_insert(
            "INSERT INTO clients_region (code, name_ru, name_en, country, "
            "time_zone/*cols:clients_region*/) VALUES (%(code)s, %(ru)s, %(en)s, 'RU', "
            "%(zone)s/*vals:clients_region*/) ON CONFLICT (code) DO NOTHING",
            values,
        )
        cursor.execute(sql, values)
        cursor.execute("SELECT id FROM clients_region WHERE code = %s", [code])
        ids.append(cursor.fetchone()[0])
    return ids


# Tickets: status from the first draw (10% closed, 5% waiting for the client, the rest open:
# new, assigned, accepted, en route, on site); age from the second, bounded by the target of
# the clock the status leaves running, so its deadline is still ahead, except for 3% of open
# tickets that are overdue already (breached, recorded, still running).
_TICKETS_SQL = """
WITH r AS MATERIALIZED (
    SELECT i, random() AS u_status, random() AS u_age, random() AS u_priority,
           random() AS u_over
    FROM generate_series(0, %(tickets)s - 1) AS i
),
t AS (
    SELECT i,
           CASE WHEN u_priority < 0.05 THEN 'p1' WHEN u_priority < 0.25 THEN 'p2'
                WHEN u_priority < 0.80 THEN 'p3' ELSE 'p4' END AS priority,
           CASE WHEN u_status < 0.10 THEN 'closed'
                WHEN u_status < 0.15 THEN 'waiting_client'
                WHEN u_status < 0.49 THEN 'new'
                WHEN u_status < 0.66 THEN 'assigned'
                WHEN u_status < 0.74 THEN 'accepted'
                WHEN u_status < 0.87 THEN 'en_route'
                ELSE 'on_site' END AS status,
           u_age, u_over, (i %% %(stores)s) %% %(clients)s AS client_idx
    FROM r
),
aged AS (
    SELECT t.*,
           (%(stretch)s::float8[])[client_idx %% 3 + 1] AS stretch,
           CASE status WHEN 'new' THEN 1 WHEN 'on_site' THEN 3 ELSE 2 END AS running_metric
    FROM t
)
INSERT INTO tickets_ticket (
    id, created_at, updated_at, number, kind, category, priority, needs_visit, status,
    status_before_wait, subject, description, external_id, version, first_response_at,
    resolved_at, closed_at, client_id, store_id/*cols:tickets_ticket*/
)
SELECT %(ticket0)s + i + 1, created, created, i / %(clients)s + 1, 'incident',
       (ARRAY['hardware','software','network','fiscal','cctv','security','access','other'])
           [i %% 8 + 1],
       priority, true, status,
       CASE WHEN status = 'waiting_client' THEN 'assigned' ELSE '' END,
       'Bench ticket ' || i, '', NULL, 1,
       CASE WHEN status <> 'new' THEN least(created + interval '10 minutes', %(now)s) END,
       CASE WHEN status = 'closed' THEN %(now)s - interval '1 day' END,
       CASE WHEN status = 'closed' THEN %(now)s - interval '1 day' END,
       %(org0)s + client_idx + 1, %(store0)s + i %% %(stores)s + 1/*vals:tickets_ticket*/
FROM (
    SELECT aged.*,
           %(now)s - make_interval(secs => CASE
               WHEN status = 'closed' THEN 2 * 86400 + u_age * 58 * 86400
               WHEN status = 'waiting_client' THEN 3600 + u_age * 3 * 86400
               WHEN u_over < 0.03 THEN (1 + u_age) * stretch * (CASE priority
                   WHEN 'p1' THEN %(p1)s::int[] WHEN 'p2' THEN %(p2)s::int[]
                   WHEN 'p3' THEN %(p3)s::int[] ELSE %(p4)s::int[] END)[running_metric]
               ELSE 0.98 * u_age * stretch * (CASE priority
                   WHEN 'p1' THEN %(p1)s::int[] WHEN 'p2' THEN %(p2)s::int[]
                   WHEN 'p3' THEN %(p3)s::int[] ELSE %(p4)s::int[] END)[running_metric]
               END) AS created
    FROM aged
) AS tickets
"""

# Clocks: three per ticket (response, arrival, resolution), all started with the ticket.
# A clock is stopped (met, or breached when it stopped after its due), paused (deadlines
# cleared) or running, by the ticket's status; a running clock's thresholds already passed
# are recorded (warned_at/breached_at) and next_check_at is the next one ahead, or NULL.
_CLOCKS_SQL = """
WITH c AS (
    SELECT k, t.id AS ticket_id, t.status, t.priority, t.created_at AS started,
           t.client_id - %(org0)s - 1 AS client_idx, s.time_zone, rg.code AS region_code,
           k %% 3 + 1 AS metric_no, random() AS u_stop
    FROM generate_series(0, %(clocks)s - 1) AS k
    JOIN tickets_ticket AS t ON t.id = %(ticket0)s + k / 3 + 1
    JOIN clients_store AS s ON s.id = t.store_id
    JOIN clients_region AS rg ON rg.id = s.region_id
),
f AS (
    SELECT c.*,
           (CASE priority WHEN 'p1' THEN %(p1)s::int[] WHEN 'p2' THEN %(p2)s::int[]
                WHEN 'p3' THEN %(p3)s::int[] ELSE %(p4)s::int[] END)[metric_no] AS target,
           (%(stretch)s::float8[])[client_idx %% 3 + 1] AS stretch,
           (%(calendars)s::bigint[])[client_idx %% 3 + 1] AS calendar_id,
           CASE
               WHEN status = 'closed' THEN 'stopped'
               WHEN status = 'waiting_client' THEN
                   CASE WHEN metric_no = 1 THEN 'stopped' ELSE 'paused' END
               WHEN status = 'new' THEN 'running'
               WHEN status = 'on_site' THEN
                   CASE WHEN metric_no = 3 THEN 'running' ELSE 'stopped' END
               ELSE CASE WHEN metric_no = 1 THEN 'stopped' ELSE 'running' END
           END AS fate
    FROM c
),
d AS (
    SELECT f.*,
           started + make_interval(secs => target * stretch) AS due,
           started + make_interval(secs => 0.75 * target * stretch) AS warn,
           greatest(started, least(
               started + make_interval(secs => (0.1 + u_stop) * target * stretch),
               %(now)s - interval '1 second')) AS stop
    FROM f
)
INSERT INTO sla_slaclock (
    id, agreement, metric, time_zone, holiday_region, target_seconds, warning_threshold,
    cycle, state, started_at, consumed_seconds, running_since, due_at, warn_at, next_check_at,
    warned_at, breached_at, stopped_at, access_calendar_id, calendar_id, partner_id,
    ticket_id, policy_id/*cols:sla_slaclock*/
)
SELECT %(clock0)s + k + 1, 'sla', (ARRAY['response','arrival','resolution'])[metric_no],
       time_zone, CASE WHEN client_idx %% 3 = 0 THEN '' ELSE region_code END,
       target, 0.75, 1,
       CASE fate WHEN 'running' THEN 'running' WHEN 'paused' THEN 'paused'
            ELSE CASE WHEN stop <= due THEN 'met' ELSE 'breached' END END,
       started,
       CASE fate
           WHEN 'stopped' THEN
               least(target, floor(extract(epoch FROM stop - started) / stretch))::int
           WHEN 'paused' THEN
               least(target - 1, floor(extract(epoch FROM %(now)s - started) / stretch))::int
           ELSE 0 END,
       CASE WHEN fate = 'running' THEN started END,
       CASE WHEN fate <> 'paused' THEN due END,
       CASE WHEN fate <> 'paused' THEN warn END,
       CASE WHEN fate <> 'running' THEN NULL WHEN warn > %(now)s THEN warn
            WHEN due > %(now)s THEN due END,
       CASE WHEN fate = 'running' AND warn <= %(now)s THEN warn
            WHEN fate = 'stopped' AND warn <= stop THEN warn END,
       CASE WHEN fate = 'running' AND due <= %(now)s THEN due
            WHEN fate = 'stopped' AND due < stop THEN due END,
       CASE WHEN fate = 'stopped' THEN stop END,
       NULL, calendar_id, NULL, ticket_id,
       %(policy0)s + client_idx * 4 + substr(priority, 2)::int/*vals:sla_slaclock*/
FROM d
"""

# The newly due: ``due`` running clocks with a check ahead, spread over the table; the first
# half has just passed its warning point, the second half its due (warned long ago). Their
# timelines shift so the threshold fell 1–29 s before ``now``: within one sweep interval.
_DUE_SQL = """
INSERT INTO bench_due (clock_id, kind)
SELECT id, CASE WHEN n <= (%(due)s + 1) / 2 THEN 'warning' ELSE 'breach' END
FROM (
    SELECT id, row_number() OVER (ORDER BY md5(id::text)) AS n
    FROM sla_slaclock
    WHERE id > %(clock0)s AND state = 'running' AND next_check_at IS NOT NULL
) AS candidates
WHERE n <= %(due)s
"""

_DUE_SHIFT_SQL = """
UPDATE sla_slaclock AS c SET
    started_at = c.started_at + s.delta,
    running_since = c.running_since + s.delta,
    warn_at = c.warn_at + s.delta,
    due_at = c.due_at + s.delta,
    warned_at = CASE WHEN s.kind = 'warning' THEN NULL ELSE c.warn_at + s.delta END,
    breached_at = NULL,
    next_check_at = CASE WHEN s.kind = 'warning' THEN c.warn_at ELSE c.due_at END + s.delta
FROM (
    SELECT d.clock_id, d.kind,
           %(now)s - make_interval(secs => 1 + d.clock_id %% 29)
           - CASE WHEN d.kind = 'warning' THEN x.warn_at ELSE x.due_at END AS delta
    FROM bench_due AS d JOIN sla_slaclock AS x ON x.id = d.clock_id
) AS s
WHERE c.id = s.clock_id
"""

_THRESHOLDS_SQL = """
INSERT INTO sla_clockthreshold (
    clock_id, kind, cycle, reached_at, recorded_at/*cols:sla_clockthreshold*/
)
SELECT id, 'warning', cycle, warned_at, warned_at/*vals:sla_clockthreshold*/
FROM sla_slaclock
WHERE id > %(clock0)s AND warned_at IS NOT NULL
UNION ALL
SELECT id, 'breach', cycle, breached_at, breached_at/*vals:sla_clockthreshold*/
FROM sla_slaclock
WHERE id > %(clock0)s AND breached_at IS NOT NULL
"""

# History: a "created" entry per ticket and a "started" entry per clock, as the services
# write them, so the sweep appends to a timeline table of realistic size.
_EVENTS_SQL = """
INSERT INTO tickets_ticketevent (
    kind, actor_role, is_internal, data, created_at, ticket_id/*cols:tickets_ticketevent*/
)
SELECT 'created', 'store_staff', false, jsonb_build_object('status', 'new'), created_at,
       id/*vals:tickets_ticketevent*/
FROM tickets_ticket WHERE id > %(ticket0)s
UNION ALL
SELECT 'sla', 'system', false,
       jsonb_build_object('clock_id', id, 'change', 'started', 'agreement', agreement,
                          'metric', metric, 'partner_id', NULL,
                          'target_seconds', target_seconds, 'due_at', due_at),
       started_at, ticket_id/*vals:tickets_ticketevent*/
FROM sla_slaclock WHERE id > %(clock0)s
"""


def _fill(cursor, params: Params, now: datetime, log: Callable[[str], None]) -> dict[str, int]:
    base = _max_ids(cursor)
    calendars = _calendar_ids(cursor, now)
    regions = _region_ids(cursor)
    sql_params: dict[str, Any] = {
        "now": now,
        "clients": params.clients,
        "stores": params.stores,
        "tickets": params.tickets,
        "clocks": params.clocks,
        "due": params.due,
        "org0": base["servicedesk_organisation"],
        "contract0": base["clients_clientcontract"],
        "policy0": base["sla_slapolicy"],
        "store0": base["clients_store"],
        "ticket0": base["tickets_ticket"],
        "clock0": base["sla_slaclock"],
        "calendars": calendars,
        "regions": regions,
        "region_zones": [zone for *_, zone in REGIONS],
        "stretch": [stretch for _code, stretch in CALENDARS],
        **{priority: list(targets) for priority, targets in TARGETS.items()},
    }

    def step(name: str, sql: str) -> None:
        started = time.perf_counter()
        cursor.execute(complete_insert(sql, sql_params), sql_params)
        log(f"  {name}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.1f} s")

    cursor.execute("SELECT setseed(%s)", [params.seed])
    step(
        "clients",
        """
        WITH o AS (
            INSERT INTO servicedesk_organisation (id, created_at, updated_at, kind,
                name/*cols:servicedesk_organisation*/)
            SELECT %(org0)s + g, %(now)s, %(now)s, 'client',
                   'Bench client ' || g/*vals:servicedesk_organisation*/
            FROM generate_series(1, %(clients)s) AS g
            RETURNING id, name
        )
        INSERT INTO clients_client (organisation_id, created_at, updated_at, code, name,
            time_zone, locale, auto_dispatch, ticket_sequence, is_active/*cols:clients_client*/)
        SELECT id, %(now)s, %(now)s,
               'Z' || chr(65 + (id - %(org0)s - 1)::int / 26)
                   || chr(65 + (id - %(org0)s - 1)::int %% 26),
               name, 'Europe/Moscow', 'ru', false,
               greatest((%(tickets)s - (id - %(org0)s)::int) / %(clients)s + 1, 0),
               true/*vals:clients_client*/
        FROM o
        """,
    )
    step(
        "contracts and policies",
        """
        WITH k AS (
            INSERT INTO clients_clientcontract (id, created_at, updated_at, number, starts_on,
                ends_on, is_active, client_id/*cols:clients_clientcontract*/)
            SELECT %(contract0)s + g, %(now)s, %(now)s, 'BENCH-' || g,
                   (%(now)s - interval '1 year')::date, NULL, true,
                   %(org0)s + g/*vals:clients_clientcontract*/
            FROM generate_series(1, %(clients)s) AS g
            RETURNING id
        )
        INSERT INTO sla_slapolicy (id, priority, category, response_seconds, arrival_seconds,
            resolution_seconds, warning_threshold, pause_statuses, calendar_id,
            contract_id/*cols:sla_slapolicy*/)
        SELECT %(policy0)s + (k.id - %(contract0)s - 1) * 4 + p, 'p' || p, '',
               (CASE p WHEN 1 THEN %(p1)s::int[] WHEN 2 THEN %(p2)s::int[]
                       WHEN 3 THEN %(p3)s::int[] ELSE %(p4)s::int[] END)[1],
               (CASE p WHEN 1 THEN %(p1)s::int[] WHEN 2 THEN %(p2)s::int[]
                       WHEN 3 THEN %(p3)s::int[] ELSE %(p4)s::int[] END)[2],
               (CASE p WHEN 1 THEN %(p1)s::int[] WHEN 2 THEN %(p2)s::int[]
                       WHEN 3 THEN %(p3)s::int[] ELSE %(p4)s::int[] END)[3],
               0.75, ARRAY['waiting_client']::varchar(16)[],
               (%(calendars)s::bigint[])[(k.id - %(contract0)s - 1)::int %% 3 + 1],
               k.id/*vals:sla_slapolicy*/
        FROM k CROSS JOIN generate_series(1, 4) AS p
        """,
    )
    step(
        "stores",
        """
        INSERT INTO clients_store (id, created_at, updated_at, code, name, city, address,
            time_zone, latitude, longitude, phone, external_id, is_active, client_id,
            region_id, access_calendar_id/*cols:clients_store*/)
        SELECT %(store0)s + j + 1, %(now)s, %(now)s, 'S' || lpad(j::text, 6, '0'),
               'Store ' || j, 'City ' || j %% 97, 'Street ' || j, zone,
               NULL, NULL, '', NULL, true, %(org0)s + j %% %(clients)s + 1, region,
               NULL/*vals:clients_store*/
        FROM (
            SELECT j, (%(regions)s::bigint[])[j %% cardinality(%(regions)s::bigint[]) + 1]
                       AS region,
                   (%(region_zones)s::text[])[j %% cardinality(%(regions)s::bigint[]) + 1]
                       AS zone
            FROM generate_series(0, %(stores)s - 1) AS j
        ) AS s
        """,
    )
    step("tickets", _TICKETS_SQL)
    step("clocks", _CLOCKS_SQL)
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_due (clock_id bigint PRIMARY KEY, kind text NOT NULL)"
    )
    cursor.execute("DELETE FROM bench_due")
    step("newly due clocks", _DUE_SQL)
    step("  moved to just past their threshold", _DUE_SHIFT_SQL)
    step("recorded thresholds", _THRESHOLDS_SQL)
    step("timeline events", _EVENTS_SQL)
    for table in TABLES:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT greatest(max(id), 1) FROM {table}))"
        )
    return _max_ids(cursor)


def _counts(cursor, clock0: int) -> dict[str, Any]:
    cursor.execute(
        "SELECT state, count(*), count(next_check_at) FROM sla_slaclock WHERE id > %s "
        "GROUP BY state ORDER BY state",
        [clock0],
    )
    states = {state: {"clocks": n, "with_next_check": checked} for state, n, checked in cursor}
    cursor.execute(
        "SELECT min(next_check_at), max(next_check_at) FROM sla_slaclock WHERE id > %s",
        [clock0],
    )
    first, last = cursor.fetchone()
    return {
        "states": states,
        "next_check_range": [first.isoformat(), last.isoformat()] if first else None,
    }


def _sizes(cursor) -> dict[str, str]:
    cursor.execute(
        """
        SELECT relname, pg_size_pretty(pg_relation_size(oid)) FROM pg_class
        WHERE relname = ANY(%s) ORDER BY relname
        """,
        [[CLOCK_TABLE, INDEX_NAME, "sla_slaclock_pkey", "tickets_ticketevent"]],
    )
    return dict(cursor.fetchall())


def _vacuum_analyze(tables: Sequence[str]) -> None:
    """VACUUM (ANALYZE) outside a transaction; only ANALYZE inside one (the smoke test).

    INDEX_CLEANUP ON: PostgreSQL skips index vacuuming when the dead rows sit in under 2% of
    the table's pages, which would leave the reset's dead entries in the sweep's index and
    make one run differ from the next.
    """
    with connection.cursor() as cursor:
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE, INDEX_CLEANUP ON)"
        cursor.execute(f"{verb} {', '.join(tables)}")


def generate(
    params: Params, *, now: datetime | None = None, log: Callable[[str], None] = print
) -> Meta:
    """Fill the current database with the bench world and return its ``Meta``.

    Works in an empty bench database and inside the test database (ids continue after what is
    there). Leaves the ``due`` clocks newly due at ``now``.
    """
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    started = time.perf_counter()
    log(
        f"Generating {params.clocks:,} clocks on {params.tickets:,} tickets, "
        f"{params.stores:,} stores, {params.clients} clients ({params.due:,} newly due)..."
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")
        before = _max_ids(cursor)
        after = _fill(cursor, params, now, log)
    analysing = time.perf_counter()
    _vacuum_analyze(TABLES)
    log(f"  vacuum and analyze: {time.perf_counter() - analysing:.1f} s")
    with connection.cursor() as cursor:
        counts = _counts(cursor, before["sla_slaclock"])
    meta = Meta(
        params=asdict(params),
        now=now.isoformat(),
        baseline=after,
        generation_seconds=round(time.perf_counter() - started, 1),
        counts=counts,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_meta (data jsonb NOT NULL)")
        cursor.execute("DELETE FROM bench_meta")
        cursor.execute("INSERT INTO bench_meta (data) VALUES (%s)", [json.dumps(asdict(meta))])
    log(f"Generated in {meta.generation_seconds:.0f} s")
    return meta


def load_meta() -> Meta | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_meta') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT data FROM bench_meta")
        row = cursor.fetchone()
    if row is None:
        return None
    data = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    return Meta(**data)


# --- reset ---------------------------------------------------------------------------------


def reset(meta: Meta, *, vacuum: bool = True) -> None:
    """Put the newly due clocks back before their sweep; drop what sweeps recorded."""
    base = meta.baseline
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("tickets_ticketevent", "servicedesk_outboxmessage", "sla_clockthreshold"):
            cursor.execute(f"DELETE FROM {table} WHERE id > %s", [base[table]])
        cursor.execute(
            """
            UPDATE sla_slaclock AS c SET
                warned_at = CASE WHEN d.kind = 'warning' THEN NULL ELSE c.warn_at END,
                breached_at = NULL,
                next_check_at = CASE WHEN d.kind = 'warning' THEN c.warn_at ELSE c.due_at END
            FROM bench_due AS d WHERE c.id = d.clock_id
            """
        )
    if vacuum:
        _vacuum_analyze((*SWEPT_TABLES, "servicedesk_outboxmessage"))


# --- the plan ------------------------------------------------------------------------------


def picked_sql() -> str:
    """The sweep's selecting query, cut out of ``sla.services._SWEEP_SQL`` so it cannot
    drift from what the sweep runs."""
    from sla.services import _SWEEP_SQL

    _head, sep, rest = _SWEEP_SQL.partition("WITH picked AS (")
    body, sep2, _ = rest.partition("\n),")
    if not sep or not sep2 or "FOR UPDATE" not in body:
        raise RuntimeError("sla.services._SWEEP_SQL no longer starts with the picked CTE")
    return body.strip()


@dataclass
class Plan:
    lines: list[str]
    uses_index: bool  # every read of sla_slaclock goes through sla_clock_next_check
    ordered_by_index: bool  # ...as a plain index scan: ORDER BY + LIMIT stop early, no sort
    clock_scans: list[str]  # how each scan of sla_slaclock reads it


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in node.get("Plans", []):
        found += _nodes(child)
    return found


def _reads(node: dict[str, Any]) -> tuple[str, str | None]:
    """How a scan node reads: its type and the index it uses (a bitmap heap scan's from its
    bitmap index scans, when there is exactly one)."""
    if node["Node Type"] == "Bitmap Heap Scan":
        indexes = {n.get("Index Name") for n in _nodes(node) if "Index Name" in n}
        return "Bitmap Heap Scan", indexes.pop() if len(indexes) == 1 else None
    return node["Node Type"], node.get("Index Name")


def explain(sql: str, params: dict[str, Any], *, force_index: bool = False) -> Plan:
    """EXPLAIN (ANALYZE, BUFFERS) ``sql`` in a transaction that is rolled back."""
    with transaction.atomic(), connection.cursor() as cursor:
        if force_index:
            cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        raw = cursor.fetchone()[0]
        tree = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        lines = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    reads = [_reads(n) for n in _nodes(tree) if n.get("Relation Name") == CLOCK_TABLE]
    return Plan(
        lines=lines,
        uses_index=bool(reads) and all(index == INDEX_NAME for _, index in reads),
        ordered_by_index=bool(reads)
        and all(
            kind in ("Index Scan", "Index Only Scan") and index == INDEX_NAME
            for kind, index in reads
        ),
        clock_scans=[f"{kind} using {index or '-'}" for kind, index in reads],
    )


def picked_plan(meta: Meta, batch: int, *, force_index: bool = False) -> Plan:
    return explain(picked_sql(), {"now": meta.at, "batch": batch}, force_index=force_index)


def sweep_plan(meta: Meta, batch: int) -> Plan:
    """The whole sweep statement of one batch, executed and rolled back: where time goes."""
    from django.utils import timezone

    from sla.services import sweep_sql
    from tickets.escalation import _SWEEP_FOLLOW_UP, ESCALATE_TOPIC

    params = {"now": meta.at, "batch": batch, "topic": ESCALATE_TOPIC, "written_at": timezone.now()}
    return explain(sweep_sql(_SWEEP_FOLLOW_UP), params)


# --- measuring -----------------------------------------------------------------------------


def _kind(sql: str) -> str:
    if "WITH picked AS" in sql:
        return "sweep_sql"
    if sql.startswith('INSERT INTO "tickets_ticketevent"'):
        return "events_insert"
    if sql.startswith('INSERT INTO "servicedesk_outboxmessage"'):
        return "outbox_insert"
    return "other_sql"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def measure_sweep(meta: Meta, batch: int) -> dict[str, Any]:
    """Time one ``sla_sweep`` at the bench's instant; split each batch into its parts.

    Observes through ``connection.execute_wrapper``, one after-commit hook of its own and
    Celery's publish signal; the code path is the production one. A batch runs from its sweep
    statement to the next one: its statements, Python between them, the COMMIT (from the last
    statement to the first after-commit hook, ours, registered before the sweep's own) and
    the after-commit hooks (the outbox relay's publish) with Python up to the next batch;
    statements after the commit (the sweep's follow-up queries) count as other SQL.
    """

    from celery.signals import before_task_publish

    from tickets.escalation import sla_sweep

    statements: list[tuple[str, float, float]] = []
    recorded: list[int] = []  # thresholds the sweep statement of each batch returned
    committed: list[float] = []
    publishes = [0]

    def timed(execute, sql, params, many, context):
        kind = _kind(sql)
        if kind == "sweep_sql":  # the batch's first statement: our hook runs first
            transaction.on_commit(lambda: committed.append(time.perf_counter()))
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((kind, started, time.perf_counter()))
            if kind == "sweep_sql":
                recorded.append(context["cursor"].rowcount)

    def published(**kwargs: Any) -> None:
        publishes[0] += 1

    before_task_publish.connect(published, weak=False)
    try:
        with connection.execute_wrapper(timed):
            started = time.perf_counter()
            result = sla_sweep(now=meta.at, batch=batch)
            ended = time.perf_counter()
    finally:
        before_task_publish.disconnect(published)

    starts = [s for kind, s, _ in statements if kind == "sweep_sql"] + [ended]
    batches = []
    for (first, last), thresholds in zip(itertools.pairwise(starts), recorded, strict=True):
        inside = [(kind, s, e) for kind, s, e in statements if first <= s < last]
        split: dict[str, Any] = {"thresholds": thresholds, "wall_ms": _ms(last - first)}
        for kind in ("sweep_sql", "events_insert", "outbox_insert", "other_sql"):
            spent = [e - s for k, s, e in inside if k == kind]
            split[f"{kind}_ms"] = _ms(sum(spent))
            if kind == "outbox_insert":
                split["outbox_statements"] = len(spent)
        hook = next((t for t in committed if first <= t <= last), None)
        if hook is None:  # inside an outer transaction (the smoke test): no commit here
            split["commit_ms"] = split["after_commit_ms"] = None
            split["python_ms"] = _ms(last - first - sum(e - s for _, s, e in inside))
        else:
            # Statements after the commit (the sweep's follow-up queries) are not the batch's.
            before = [(s, e) for _, s, e in inside if s < hook]
            after = sum(e - s for _, s, e in inside if s >= hook)
            statements_end = max(e for _, e in before)
            split["python_ms"] = _ms(statements_end - first - sum(e - s for s, e in before))
            split["commit_ms"] = _ms(hook - statements_end)
            split["after_commit_ms"] = _ms(last - hook - after)
        batches.append(split)
    return {
        "total_ms": _ms(ended - started),
        "warnings": result.warnings,
        "breaches": result.breaches,
        "tickets": result.tickets,
        "batches": result.batches,
        "celery_publishes": publishes[0],
        "per_batch": batches,
    }


def measure_idle(meta: Meta, batch: int, times: int = 20) -> dict[str, Any]:
    """Sweeps at the same instant once everything due is recorded: nothing to do."""
    from tickets.escalation import sla_sweep

    spent = []
    for _ in range(times):
        started = time.perf_counter()
        result = sla_sweep(now=meta.at, batch=batch)
        spent.append(time.perf_counter() - started)
        if result.warnings or result.breaches:
            raise AssertionError(f"an idle sweep recorded something: {result}")
    return {"min_ms": _ms(min(spent)), "median_ms": _ms(statistics.median(spent))}


def _recorded(meta: Meta) -> dict[str, int]:
    base = meta.baseline
    with connection.cursor() as cursor:
        counts = {}
        for table in ("sla_clockthreshold", "tickets_ticketevent", "servicedesk_outboxmessage"):
            cursor.execute(f"SELECT count(*) FROM {table} WHERE id > %s", [base[table]])
            counts[table] = cursor.fetchone()[0]
    return counts


def run_once(meta: Meta, batch: int, *, vacuum: bool = True) -> dict[str, Any]:
    """Reset, sweep the newly due, check what was recorded, then sweep with nothing due."""
    reset(meta, vacuum=vacuum)
    sweep = measure_sweep(meta, batch)
    recorded = _recorded(meta)
    due = meta.params["due"]
    expected = {"warnings": (due + 1) // 2, "breaches": due // 2}
    got = {"warnings": sweep["warnings"], "breaches": sweep["breaches"]}
    if got != expected or recorded["sla_clockthreshold"] != due:
        raise AssertionError(f"sweep recorded {got} / {recorded}, expected {expected}")
    if recorded["tickets_ticketevent"] != due:
        raise AssertionError(f"{recorded['tickets_ticketevent']} events for {due} thresholds")
    sweep["recorded"] = recorded
    sweep["idle"] = measure_idle(meta, batch)
    return sweep


# --- the report ----------------------------------------------------------------------------


def _machine() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT name, current_setting(name) FROM pg_settings WHERE name IN (
                'shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost',
                'synchronous_commit', 'autovacuum', 'jit', 'max_parallel_workers_per_gather')
            ORDER BY name
            """
        )
        settings = dict(cursor.fetchall())
    memory = None
    try:
        with open("/proc/meminfo") as meminfo:
            kb = int(meminfo.readline().split()[1])
            memory = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "cpus": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "postgresql": version,
        "postgresql_settings": settings,
    }


def _spread(values: list[float]) -> dict[str, float] | None:
    return {"min": min(values), "median": statistics.median(values)} if values else None


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Min and median over the runs; batches only where the sweep recorded something."""
    working = [b for run in runs for b in run["per_batch"] if b["thresholds"]]
    return {
        "sweep_total_ms": _spread([run["total_ms"] for run in runs]),
        "batch_ms": _spread([b["wall_ms"] for b in working]),
        "sweep_statement_ms": _spread([b["sweep_sql_ms"] for b in working]),
        "idle_sweep_ms": _spread([run["idle"]["median_ms"] for run in runs]),
    }


def _or_dash(ms: float | None) -> str:
    return "-" if ms is None else f"{ms:,.0f}"


def _print_report(report: dict[str, Any]) -> None:
    params, summary = report["params"], report["summary"]
    median = summary["sweep_total_ms"]["median"]
    run = min(report["runs"], key=lambda r: abs(r["total_ms"] - median))
    print()
    print(
        f"SLA sweep over {params['clocks']:,} clocks, {params['due']:,} newly due "
        f"(batch {report['batch']:,}, {len(report['runs'])} runs):"
    )
    print(
        f"  one sweep: {summary['sweep_total_ms']['median']:,.0f} ms median, "
        f"{summary['sweep_total_ms']['min']:,.0f} ms best; {run['batches']} batches, "
        f"{run['warnings']:,} warnings + {run['breaches']:,} breaches on {run['tickets']:,} "
        f"tickets, {run['celery_publishes']:,} Celery publishes"
    )
    print(f"  the median run ({run['total_ms']:,.0f} ms), batch by batch:")
    for number, batch in enumerate(run["per_batch"], 1):
        print(
            f"    batch {number} ({batch['thresholds']:,} thresholds): "
            f"{batch['wall_ms']:,.0f} ms = sweep SQL {batch['sweep_sql_ms']:,.0f} + events "
            f"{batch['events_insert_ms']:,.0f} + outbox {batch['outbox_insert_ms']:,.0f} "
            f"({batch['outbox_statements']:,} INSERTs) + other SQL {batch['other_sql_ms']:,.0f} "
            f"+ Python {batch['python_ms']:,.0f} + COMMIT {_or_dash(batch['commit_ms'])} "
            f"+ after-commit hooks {_or_dash(batch['after_commit_ms'])}"
        )
    print(
        f"  nothing due: {summary['idle_sweep_ms']['median']} ms median "
        f"({summary['idle_sweep_ms']['min']} ms best)"
    )
    plan = report["picked_plan"]
    verdict = "uses" if plan["uses_index"] else "DOES NOT use"
    print(f"  the picked query {verdict} {INDEX_NAME}: {', '.join(plan['clock_scans'])}")
    for line in plan["lines"]:
        print(f"    {line}")
    idle = report["picked_plan_nothing_due"]
    print("  with nothing due (and fresh statistics) it reads: " + ", ".join(idle["clock_scans"]))
    for line in idle["lines"]:
        print(f"    {line}")
    load = report["machine"]
    print(
        f"  load average {load['load_average_before'][0]} before, {load['load_average'][0]} "
        f"after, on {load['cpus']} CPUs; results: {report['results_file']}"
    )


def run(
    *,
    params: Params,
    batch: int,
    repeat: int,
    regenerate: bool,
    save: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Generate (or reuse) the world in the current database, measure, report."""
    meta = None if regenerate else load_meta()
    if meta is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM sla_slaclock)")
            if cursor.fetchone()[0]:
                raise SystemExit("the database holds clocks but no bench world: --regenerate")
        meta = generate(params, log=log)
    else:
        log(f"Reusing the world generated for {meta.now} ({meta.generation_seconds:.0f} s then)")
    reset(meta)
    load_before = [round(load, 2) for load in os.getloadavg()]
    picked = picked_plan(meta, batch)
    runs = []
    for number in range(1, repeat + 1):
        outcome = run_once(meta, batch)
        log(
            f"  run {number}: {outcome['total_ms']:,.0f} ms, {outcome['batches']} batches; "
            f"nothing due: {outcome['idle']['median_ms']} ms"
        )
        runs.append(outcome)
    # Everything due is recorded now; with fresh statistics, as autovacuum would leave them.
    _vacuum_analyze(SWEPT_TABLES)
    idle_plan = picked_plan(meta, batch)
    reset(meta)
    whole = sweep_plan(meta, batch)
    reset(meta)  # leave the world ready for the next run
    with connection.cursor() as cursor:
        sizes = _sizes(cursor)
    stamp = datetime.now(UTC)
    path = RESULTS_DIR / f"sweep-{stamp:%Y-%m-%d}.json"
    report = {
        "benchmark": "sla-sweep",
        "measured_at": stamp.replace(microsecond=0).isoformat(),
        "params": meta.params,
        "batch": batch,
        "bench_now": meta.now,
        "generation_seconds": meta.generation_seconds,
        "world": meta.counts,
        "sizes": sizes,
        "machine": {**_machine(), "load_average_before": load_before},
        "picked_plan": asdict(picked),
        "picked_plan_nothing_due": asdict(idle_plan),
        "summary": _summary(runs),
        "runs": runs,
        "sweep_statement_plan": whole.lines,
        "results_file": str(path.relative_to(RESULTS_DIR.parent.parent)),
    }
    if save:
        RESULTS_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    _print_report(report)
    if not (picked.uses_index and idle_plan.uses_index):
        raise SystemExit("the sweep's picked query does not use " + INDEX_NAME)
    return report


# --- command line --------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = Params()
    parser.add_argument("--clocks", type=int, default=defaults.clocks)
    parser.add_argument("--due", type=int, default=defaults.due, help="newly due clocks")
    parser.add_argument("--clients", type=int, default=defaults.clients)
    parser.add_argument("--stores", type=int, default=defaults.stores)
    parser.add_argument("--batch", type=int, default=5000, help="the sweep's batch size")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--regenerate", action="store_true", help="drop the bench database and generate again"
    )
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")


def prepare_database(params: Params, *, regenerate: bool) -> bool:
    """Make the bench database exist, migrated, before the bench uses it; return whether the
    world must be generated (a new database, new migrations, other parameters or
    ``--regenerate``: the database is then dropped and made again). Only ever drops a
    database whose name ends in ``_bench``."""
    import psycopg
    from django.conf import settings
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor
    from psycopg import sql

    from servicedesk.runner.postgres import MAINTENANCE_DATABASE, connection_kwargs

    url = settings.BENCH_DATABASE_URL
    name = connection_kwargs(url)["dbname"]
    if not name.endswith("_bench"):
        raise SystemExit(f"refusing to use {name!r}: the bench database's name ends in _bench")
    maintenance_kwargs = connection_kwargs(url, MAINTENANCE_DATABASE)
    with psycopg.connect(**maintenance_kwargs, autocommit=True) as maintenance:
        exists = maintenance.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    if exists and not regenerate:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            print("New migrations since the world was generated: generating it again.")
            regenerate = True
        else:
            meta = load_meta()
            if meta is not None and meta.params != asdict(params):
                print("The bench database holds a world of other parameters: generating again.")
                regenerate = True
        connection.close()
    if exists and not regenerate:
        return False
    with psycopg.connect(**maintenance_kwargs, autocommit=True) as maintenance:
        if exists:
            print(f"Dropping database {name}...")
            maintenance.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        print(f"Creating database {name} and migrating it...")
        maintenance.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    call_command("migrate", verbosity=0, interactive=False)
    return True


def main_with(options: dict[str, Any]) -> dict[str, Any]:
    params = Params(
        clocks=options["clocks"],
        due=options["due"],
        clients=options["clients"],
        stores=options["stores"],
    )
    regenerate = prepare_database(params, regenerate=options["regenerate"])
    return run(
        params=params,
        batch=options["batch"],
        repeat=options["repeat"],
        regenerate=regenerate,
        save=not options["no_save"],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__)
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    main_with(options)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    sys.exit(main())
