"""Post every scheduled transaction due up to a date (run daily, e.g. by a CronJob)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from budgets.services.schedules import scheduled_post_due


class Command(BaseCommand):
    help = "Post scheduled transactions due up to --date (default today). Safe to re-run or run concurrently."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="Post what is due up to this day, YYYY-MM-DD (default: today).")

    def handle(self, *args: Any, **options: Any) -> None:
        on_date = timezone.localdate()
        if options["date"]:
            try:
                on_date = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date: {options['date']!r} is not a date such as 2024-03-01.") from None
        result = scheduled_post_due(on_date=on_date)
        self.stdout.write(
            self.style.SUCCESS(
                f"Posted {result.posted} occurrence(s) due by {on_date}; {result.already_posted} already posted, "
                f"{result.locked_elsewhere} schedule(s) being posted by another run."
            )
        )
        if result.failed:
            for scheduled_id, reason in result.failed.items():
                self.stderr.write(f"Scheduled transaction {scheduled_id} not posted: {reason}")
            raise CommandError(f"{len(result.failed)} scheduled transaction(s) could not be posted.")
