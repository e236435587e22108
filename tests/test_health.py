"""Liveness and readiness probes: what each answers when things are up and when they are down."""

from __future__ import annotations

import pytest
from django.urls import Resolver404, path, resolve

from servicedesk import health

# The probe views under the paths the project serves them at; the view tests use this urlconf
# so they test the views alone, and test_project_serves_the_probes checks the real wiring.
urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
probe_urls = pytest.mark.urls(__name__)

CLOSED_BROKER_URL = "redis://127.0.0.1:1/0"  # port 1: nothing listens, refused at once


@pytest.mark.parametrize(
    ("url", "view"), [("/healthz", health.healthz), ("/readyz", health.readyz)]
)
def test_project_serves_the_probes(url, view):
    try:
        match = resolve(url)
    except Resolver404:
        pytest.fail(f"{url} is not routed in servicedesk.urls")
    assert match.func is view


@probe_urls
def test_healthz_answers_without_touching_the_database(client):
    # given no `db` fixture: pytest-django fails any database access in this test
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@probe_urls
def test_healthz_answers_head_and_refuses_writes(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@probe_urls
def test_readyz_is_ready_with_database_and_no_broker(client, db, settings):
    # given the in-process transport used when no CELERY_BROKER_URL is set
    settings.CELERY_BROKER_URL = "memory://"
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}},
        "down": [],
    }


@probe_urls
def test_readyz_names_the_broker_when_it_is_down(client, db, settings):
    # given a broker URL where nothing listens
    settings.CELERY_BROKER_URL = CLOSED_BROKER_URL
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["down"] == ["broker"]
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["broker"]["ok"] is False
    assert "127.0.0.1" not in response.content.decode()  # no connection details to anonymous


@probe_urls
def test_readyz_names_the_database_when_it_cannot_be_queried(client, settings):
    # given no `db` fixture: pytest-django refuses the connection, as a dead server would
    settings.CELERY_BROKER_URL = "memory://"
    # when
    response = client.get("/readyz")
    # then
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]


@probe_urls
def test_readyz_is_ready_with_a_reachable_broker(client, db, settings, redis_broker):
    # A real Redis (the redis_broker fixture fails, never skips, when it does not answer)
    settings.CELERY_BROKER_URL = redis_broker
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == {"ok": True}


def test_memory_transport_is_not_a_broker_to_check(settings):
    settings.CELERY_BROKER_URL = "memory://"
    assert health.broker_configured() is False
    settings.CELERY_BROKER_URL = CLOSED_BROKER_URL
    assert health.broker_configured() is True
