"""manage.py import_household FILE"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from uploads.household_io import household_import


class Command(BaseCommand):
    help = "Restore a household from an export_household JSON file, as a new household (new ids)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            with path.open(encoding="utf-8") as handle:
                household, id_maps = household_import(source=handle)
        except (ValueError, KeyError) as error:
            raise CommandError(f"The file could not be restored: {error}") from None
        summary = ", ".join(f"{label.split('.')[-1]}: {len(ids)}" for label, ids in id_maps.items())
        self.stdout.write(f"Restored household {household.pk} ({household.name}): {summary}.")
