"""``manage.py bench_sweep``: the SLA sweep benchmark (``make bench``; see bench/README.md)."""

from django.core.management.base import BaseCommand

from bench import sweep


class Command(BaseCommand):
    help = "SLA sweep benchmark: one sweep over a million clocks, 10,000 of them newly due."
    # The checks would connect before the bench database exists.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        sweep.add_arguments(parser)

    def handle(self, *args, **options):
        sweep.main_with(options)
