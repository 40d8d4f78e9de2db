"""Import exchange rates from the ECB's historical CSV or a simple date,base,quote,rate CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from budgets.rates_csv import RateFileError, read_rates
from budgets.services.rates import exchange_rates_upsert


class Command(BaseCommand):
    help = (
        "Import exchange rates (idempotent upsert). Formats, detected from the header: the ECB historical file "
        "(Date,USD,JPY,... — rates per 1 EUR, N/A skipped) or date,base,quote,rate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                count = exchange_rates_upsert(rows=read_rates(handle))
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}") from None
        except RateFileError as error:
            raise CommandError(f"{path}: {error}") from None
        except ValidationError as error:
            raise CommandError(f"{path}: {'; '.join(error.messages)}") from None
        self.stdout.write(self.style.SUCCESS(f"Imported {count} rate(s) from {path}."))
