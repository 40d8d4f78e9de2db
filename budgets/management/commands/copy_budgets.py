"""Copy one budget month's lines to another month."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from budgets.management.commands._household import household_arg, month_arg
from budgets.services.budget_lines import budget_copy_month


class Command(BaseCommand):
    help = "Copy a household's budget lines from one month to another (existing lines kept unless --overwrite)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--household", type=int, required=True, help="Household id.")
        parser.add_argument("--from", dest="from_month", required=True, help="Source month, YYYY-MM.")
        parser.add_argument("--to", dest="to_month", required=True, help="Target month, YYYY-MM.")
        parser.add_argument("--overwrite", action="store_true", help="Replace lines already set in the target.")

    def handle(self, *args: Any, **options: Any) -> None:
        household = household_arg(options["household"])
        try:
            result = budget_copy_month(
                household=household,
                from_month=month_arg(options["from_month"], "--from"),
                to_month=month_arg(options["to_month"], "--to"),
                overwrite=options["overwrite"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Copied {options['from_month']} to {options['to_month']}: {result.created} created, "
                f"{result.updated} updated, {result.skipped} kept."
            )
        )
