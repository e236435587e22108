"""Redis down while tickets are created: the tickets are accepted, their background work
waits in the database, and it runs once, exactly once, when Redis is back.

Everything is a real process: gunicorn serving the API, a Celery worker and beat, all on a
private Redis that the test kills (SIGKILL, like a crash) and starts again on the same port.
The background work of a field ticket of an auto-dispatching client is the urgent e-mail to
the manager of the partner it was offered to, which goes through the outbox.
"""

from __future__ import annotations

import pytest

from servicedesk.models import Notification, OutboxMessage
from tests.celery_support import celery_processes, connected_database_url
from tests.faults.support import app_env, private_redis, wait_for, web_server
from tests.faults.test_postgres_restart import _seed_in_process
from tickets.models import Offer, Ticket

pytestmark = [pytest.mark.faults, pytest.mark.celery]

TICKETS_WHILE_DOWN = 5


@pytest.mark.django_db(transaction=True)
def test_tickets_are_accepted_while_redis_is_down_and_their_work_runs_once_when_it_is_back(
    tmp_path,
):
    desk = _seed_in_process()
    with private_redis(tmp_path) as redis:
        env = app_env(database_url=connected_database_url(), broker_url=redis.url)
        env["DJANGO_SETTINGS_MODULE"] = "servicedesk.settings.test"
        with (
            web_server(env, tmp_path) as server,
            celery_processes(workers=1, beat=True, env=env, log_dir=tmp_path) as celery,
        ):
            redis.kill()
            created = []
            for n in range(TICKETS_WHILE_DOWN):
                status, _, body = server.request(
                    "POST",
                    "/api/v1/tickets/",
                    token=desk["token"],
                    body={
                        "store": desk["store"],
                        "subject": f"Касса {n} не печатает чеки",
                        "priority": "p1",
                        "needs_visit": True,
                        "competency": desk["competency"],
                    },
                )
                assert status == 201, body
                created.append(body["id"])

            # Accepted and offered; the e-mails wait in the outbox, unsent.
            offers = Offer.objects.filter(ticket_id__in=created)
            assert offers.count() == TICKETS_WHILE_DOWN
            emails = Notification.objects.filter(ticket_id__in=created, kind="offer_made")
            assert emails.count() == TICKETS_WHILE_DOWN
            assert not emails.filter(email_sent_at__isnull=False).exists()
            waiting = OutboxMessage.objects.filter(dispatched_at__isnull=True)
            assert waiting.count() >= TICKETS_WHILE_DOWN

            redis.start()
            wait_for(
                lambda: not emails.filter(email_sent_at__isnull=True).exists(),
                timeout=90,
                what="every offer e-mail sent after Redis came back",
            )
            wait_for(lambda: not waiting.exists(), timeout=60, what="outbox drained")
            log = "".join(worker.log() for worker in celery.workers)

    assert Ticket.objects.filter(pk__in=created).count() == TICKETS_WHILE_DOWN
    # Exactly once: one e-mail per notification, however often the relay was retried.
    for notification in emails:
        assert log.count(f"notification {notification.pk} e-mailed") == 1, log[-3000:]
