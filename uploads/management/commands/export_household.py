"""manage.py export_household --household ID --output FILE"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.models import Household
from uploads.household_io import household_export


class Command(BaseCommand):
    help = "Write a whole household (books, rules, budgets, members) to a JSON file that import_household restores."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--household", type=int, required=True)
        parser.add_argument("--output", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            household = Household.objects.get(pk=options["household"])
        except Household.DoesNotExist:
            raise CommandError(f"No household {options['household']}.") from None
        with open(options["output"], "w", encoding="utf-8") as handle:
            counts = household_export(household=household, output=handle)
        summary = ", ".join(f"{label.split('.')[-1]}: {count}" for label, count in counts.items())
        self.stdout.write(f"Exported household {household.pk} to {options['output']} ({summary}).")
