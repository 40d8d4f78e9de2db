"""`manage.py check_ledger [--household ID]`: verify every ledger invariant; non-zero exit on any breach."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from financetracker.core.registries import consistency_checks
from ledger.models import Household


class Command(BaseCommand):
    help = (
        "Verify the ledger's invariants (split sums, transfer pairs, household walls, two-level categories, "
        "currency decimal places, monthly totals, reconciliations). Prints 'ledger OK' and exits 0, or lists "
        "every breach by row id and exits non-zero."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--household", type=int, metavar="ID", help="Check one household only.")

    def handle(self, *args: Any, **options: Any) -> None:
        household_id: int | None = options["household"]
        if household_id is not None and not Household.objects.filter(pk=household_id).exists():
            raise CommandError(f"No household has id {household_id}.")
        breaches: list[str] = []
        for check in consistency_checks:
            found = check.run(household_id)
            breaches.extend(f"{check.name}: {breach}" for breach in found)
        if breaches:
            for breach in breaches:
                self.stderr.write(breach)
            raise CommandError(f"ledger has {len(breaches)} breach(es) of its invariants (listed above).")
        self.stdout.write(self.style.SUCCESS(f"ledger OK: {len(consistency_checks)} checks passed"))
