"""manage.py export_transactions --household ID [--output FILE]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.models import Household, Transaction
from uploads.exports import transactions_csv_rows
from uploads.selectors import export_queryset


class Command(BaseCommand):
    help = "Write a household's transactions as CSV (text cells neutralised against spreadsheet formulas)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--household", type=int, required=True)
        parser.add_argument("--output", help="File to write (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not Household.objects.filter(pk=options["household"]).exists():
            raise CommandError(f"No household {options['household']}.")
        rows = transactions_csv_rows(export_queryset(Transaction.objects.filter(household_id=options["household"])))
        if options["output"]:
            count = -1
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                for line in rows:
                    handle.write(line)
                    count += 1
            self.stderr.write(f"Wrote {count} transaction(s) to {options['output']}.")
        else:
            for line in rows:
                self.stdout.write(line, ending="")
