"""Settings of the Celery workers in ``test_webhook_celery`` (test-only).

The test settings plus: private targets allowed (the receiver listens on 127.0.0.1), fan-out
and sending every second instead of every 5 and 10, and a claim lease of 15 s instead of 60
(still above the 3 + 10 s timeouts) so that a delivery whose worker was killed is retried
soon.
"""

from servicedesk.settings.test import *  # noqa: F403

WEBHOOK_ALLOW_PRIVATE_TARGETS = True
WEBHOOK_FANOUT_SECONDS = 1.0
WEBHOOK_DELIVERY_SECONDS = 1.0
WEBHOOK_CLAIM_LEASE_SECONDS = 15
