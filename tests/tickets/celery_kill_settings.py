"""Settings of the Celery workers in ``test_escalation_worker_kill`` (test-only).

The test settings plus two things the fault test needs and production must not have:

- **A short Redis visibility timeout.** With ``task_acks_late`` a message stays in Redis's
  "unacked" set until its task finishes; if the worker dies, another worker restores it once
  it has been unacked for ``visibility_timeout`` seconds (kombu's default: one hour, so a
  killed escalation would wait an hour). Here it is 4 s, and workers look for such messages
  every second. Production keeps the default: a timeout shorter than the longest task would
  hand a running task to a second worker (the steps are idempotent, but it wastes work).
- **The pause hook** (``tests.tickets.escalation_pause``, imported by every worker through
  ``CELERY_IMPORTS``): it does nothing unless the worker's environment sets
  ``TEST_ESCALATION_PAUSE_SECONDS``.
"""

from servicedesk.settings.test import *  # noqa: F403

VISIBILITY_TIMEOUT_SECONDS = 4
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_IMPORTS = ["tests.tickets.escalation_pause"]
