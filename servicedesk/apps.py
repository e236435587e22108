from django.apps import AppConfig


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = "Accounts and organisations"

    def ready(self) -> None:
        # Imported for their side effects: the outbox relay task registers itself, and
        # servicedesk.security starts the session clocks at every sign-in.
        from servicedesk import security, tasks  # noqa: F401
