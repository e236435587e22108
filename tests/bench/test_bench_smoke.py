"""The SLA sweep benchmark (``make bench``) at a tiny scale, so its code cannot rot.

Checks correctness only: no timings are asserted here (bench/README.md has the figures).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench import sweep
from sla.models import ClockThreshold, SlaClock
from tickets.escalation import sla_sweep

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(db):
    params = sweep.Params(clocks=2000, due=100, clients=3, stores=30)
    return sweep.generate(params, now=NOW, log=lambda _line: None)


def test_generated_world_respects_the_model(world):
    clocks = SlaClock.objects.filter(id__gt=world.baseline["sla_slaclock"] - 2000)
    assert clocks.count() == 2000
    # exactly the newly due are due at the bench's instant, and nothing else
    assert clocks.filter(next_check_at__lte=NOW).count() == 100
    assert clocks.filter(state="running").count() > 1000  # most run
    assert clocks.filter(state="paused", next_check_at__isnull=True).exists()
    assert clocks.filter(state="met", stopped_at__isnull=False).exists()


def test_sweep_records_each_newly_due_clock_once_and_reset_repeats_it(world):
    first = sweep.run_once(world, batch=40, vacuum=False)
    assert (first["warnings"], first["breaches"]) == (50, 50)
    assert first["recorded"]["sla_clockthreshold"] == 100
    # batches of 40 clocks, one threshold each; the sweep may end with an empty batch
    assert [b["thresholds"] for b in first["per_batch"]][:3] == [40, 40, 20]
    assert sum(b["thresholds"] for b in first["per_batch"]) == 100
    # a second sweep at the same instant records nothing new
    assert sla_sweep(now=NOW).warnings == 0
    assert ClockThreshold.objects.filter(id__gt=world.baseline["sla_clockthreshold"]).count() == 100
    # the reset puts the same 100 back: the next run records them again
    again = sweep.run_once(world, batch=5000, vacuum=False)
    assert (again["warnings"], again["breaches"]) == (50, 50)
    assert again["per_batch"][0]["thresholds"] == 100


def test_picked_query_reads_the_partial_index(world):
    # At 2,000 rows the planner may well prefer a sequential scan; the bench (a million rows)
    # checks the real choice. Here only that the query is the sweep's and can use the index.
    plan = sweep.picked_plan(world, batch=5000, force_index=True)
    assert plan.uses_index, plan.lines
    assert "FOR UPDATE SKIP LOCKED" in sweep.picked_sql()
