from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Integrations sit above ``tickets``: webhooks, the event feed, imports and exports."""

    name = "integrations"
