"""``python manage.py seed_demo``: load the demo data (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from tickets.demo import DEMO_PASSWORD, seed_demo
from tickets.demo_data import DEMO_LOGINS


class Command(BaseCommand):
    help = (
        "Create the demo data: three retail chains, their stores and equipment, a partner "
        "network, demo logins and three months of tickets. A second run adds nothing twice."
    )

    def handle(self, *args, **options) -> None:
        report = seed_demo(stdout=self.stdout)
        for line in report.lines():
            self.stdout.write(line)
        logins = ", ".join(f"{name} ({role})" for name, role in DEMO_LOGINS.items())
        self.stdout.write(self.style.SUCCESS(f"Demo logins, password “{DEMO_PASSWORD}”: {logins}"))
