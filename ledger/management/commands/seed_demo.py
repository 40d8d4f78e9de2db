"""`manage.py seed_demo`: a demo household with two years of books, and the login to explore it."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.demo import DEMO_PASSWORD, DEMO_USERNAME, DEMO_VIEWER_USERNAME, seed_demo


class Command(BaseCommand):
    help = (
        "Create the staff user 'demo' (not a superuser) owning 'Demo household' with two years of realistic "
        "books ending today, and a read-only member 'demo-viewer'. Does nothing if the user 'demo' exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="The last day of the demo data, YYYY-MM-DD (default: today).")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["today"]:
            try:
                today = datetime.date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(f"--today must be a date such as 2025-01-31, not {options['today']!r}.") from None
        result = seed_demo(today=today)
        if not result.created:
            self.stdout.write(f"The user {DEMO_USERNAME!r} already exists: the demo data is in place, nothing to do.")
            return
        self.stdout.write(self.style.SUCCESS(f"Created {result.household} with {result.transactions} transactions."))
        self.stdout.write(f"Log in at /admin/ as {DEMO_USERNAME} / {DEMO_PASSWORD}")
        self.stdout.write(f"Read-only member: {DEMO_VIEWER_USERNAME} / {DEMO_PASSWORD}")
