"""``python manage.py sla_recompute``: the SLA correction tool from the command line.

Lives with ``tickets`` rather than ``sla`` because it records ticket timeline events
(``tickets.sla_admin.clocks_correction``) and imports only go down the floors.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicedesk.exceptions import ApplicationError
from tickets import sla_admin


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since must be a date such as 2026-10-01, not {value!r}") from None


def _at(value: datetime | None) -> str:
    return value.isoformat() if value else "—"


class Command(BaseCommand):
    help = (
        "Recount the SLA clocks of chosen tickets (closed ones included) from their start on "
        "their calendars as they are now, after a calendar was corrected. Prints before/after "
        "due times and outcomes; a dry run unless --apply is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tickets", default="", help="Comma-separated references, e.g. GMT-000123,GMT-000124"
        )
        parser.add_argument("--client", help="Every ticket of this client code (e.g. GMT) …")
        parser.add_argument("--since", type=_day, help="… created on or after this date")
        parser.add_argument(
            "--apply", action="store_true", help="Write the changes (default: dry run)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        references = [ref for ref in options["tickets"].split(",") if ref.strip()]
        if options["since"] and not options["client"]:
            raise CommandError("--since needs --client.")
        try:
            ids = sla_admin.correction_ticket_ids(
                references=references, client_code=options["client"], since=options["since"]
            )
            if not ids:
                raise CommandError("No tickets chosen: give --tickets or --client.")
            report = sla_admin.clocks_correction(
                actor=None, ticket_ids=ids, dry_run=not options["apply"]
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        for row in report.rows:
            mark = "*" if row.changed else " "
            self.stdout.write(
                f"{mark} {row.reference} {row.agreement}/{row.metric} #{row.cycle}: "
                f"due {_at(row.before.due_at)} {row.before.outcome} → "
                f"due {_at(row.after.due_at)} {row.after.outcome}"
            )
        verb = "changed" if not report.dry_run else "would change (dry run; --apply to write)"
        self.stdout.write(
            self.style.SUCCESS(f"{report.changed} of {len(report.rows)} clocks {verb}.")
        )
