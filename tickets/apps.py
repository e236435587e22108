from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"

    def ready(self) -> None:
        # Register the Celery tasks in every process (web too), so the outbox relay can
        # publish them by name; Celery's lazy autodiscovery only runs in workers.
        from tickets import tasks  # noqa: F401
