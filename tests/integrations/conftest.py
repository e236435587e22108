"""Fixtures of the webhook and event-feed tests: real receivers, and waiting for the horizon."""

from __future__ import annotations

import time

import pytest
from django.db.models import Max

from tests.e2e.conftest import artifacts, chromium, new_page  # noqa: F401 - browser fixtures
from tests.integrations.receiver import Receiver
from tickets.models import TicketEvent
from tickets.selectors import event_feed_horizon


@pytest.fixture
def receivers():
    """Start real receivers with ``receivers(script=[...])``; all are closed after the test."""
    started: list[Receiver] = []

    def start(**kwargs) -> Receiver:
        receiver = Receiver(**kwargs)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture
def private_targets(settings):
    """The local receivers live on 127.0.0.1: allow private targets (and any port)."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    return settings


def settle(limit: float = 60.0) -> None:
    """Wait until every event written so far is below the feed's horizon.

    The horizon is the oldest running transaction on the whole server, and other test runs
    may share it: their transactions delay the feed (never reorder it), so wait, don't fail.
    """
    newest = TicketEvent.objects.aggregate(m=Max("txid"))["m"] or 0
    deadline = time.monotonic() + limit
    while event_feed_horizon() <= newest:
        if time.monotonic() > deadline:
            raise AssertionError(f"the feed horizon stayed at or below txid {newest}")
        time.sleep(0.05)
