from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The append-only audit trail; the top floor, since it watches every app's tables."""

    name = "audit"
