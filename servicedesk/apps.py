from django.apps import AppConfig


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = "Accounts and organisations"

    def ready(self) -> None:
        from servicedesk import tasks  # noqa: F401 - registers the outbox relay task
