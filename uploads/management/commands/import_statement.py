"""manage.py import_statement FILE --account ID [--format ...] [--profile NAME] [--mapping JSON] [--dry-run]
[--skip-errors] [--near-matches merge|keep]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from financetracker.core.errors import ConflictError
from ledger.models import Account
from uploads import files
from uploads.importers import FORMATS
from uploads.models import ImportStatus, RowStatus, StatementImport, row_shows
from uploads.services.statement_imports import (
    UndecidedNearMatchesError,
    statement_import_commit,
    statement_import_preview,
    statement_import_upload,
)

_BAR_WIDTH = 30


class _DryRun(Exception):
    """Raised to roll a dry run back."""


class Command(BaseCommand):
    help = "Import a bank statement (CSV, OFX/QFX, QIF, CAMT.053) into an account, skipping rows already imported."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--account", type=int, required=True, help="Account id to import into.")
        parser.add_argument("--format", choices=FORMATS.names(), help="Default: detected from the file's content.")
        parser.add_argument("--profile", help="A saved CSV mapping (CsvProfile) of this account.")
        parser.add_argument("--mapping", help='CSV mapping as JSON, e.g. {"date": "Datum", "decimal": ","}.')
        parser.add_argument("--save-profile", help="Save the mapping used under this name for the account.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Preview only: parse and de-duplicate, write nothing."
        )
        parser.add_argument(
            "--near-matches",
            choices=["merge", "keep"],
            help="What to do with rows that look like transactions already in the books: merge them into those, "
            "or keep them as new ones. Without it, a file with near matches imports nothing and lists them.",
        )
        parser.add_argument(
            "--accept-suggestions",
            action="store_true",
            help="Give imported rows no rule categorises the category learned from the household's books.",
        )
        parser.add_argument(
            "--skip-errors",
            action="store_true",
            help="Import the readable rows and skip the rows in error (by default a file with errors imports nothing).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            account = Account.objects.get(pk=options["account"])
        except Account.DoesNotExist:
            raise CommandError(f"No account {options['account']}.") from None
        try:
            mapping = json.loads(options["mapping"]) if options["mapping"] else None
        except ValueError as error:
            raise CommandError(f"--mapping is not JSON: {error}") from None
        interactive = hasattr(self.stdout, "isatty") and self.stdout.isatty()
        self.stdout.write(f"Reading {path.name} into {account}…")
        # One transaction from upload to commit: a killed, failed or dry run leaves no import behind (and so
        # none that could be committed later), and its stored file is removed (uploads.files).
        try:
            with transaction.atomic():
                statement, counts, preview = self._import(path, account, mapping, interactive, options)
                if options["dry_run"]:
                    raise _DryRun
        except _DryRun:
            pass
        finally:
            files.discard_rolled_back_files()
        self.stdout.write(
            f"rows read: {counts.get('rows', 0)}, "
            f"{'would import' if options['dry_run'] else 'imported'}: "
            f"{counts.get('new', 0) + counts.get('near_match', 0) if options['dry_run'] else counts.get('imported', 0)}, "
            f"duplicates: {counts.get('duplicate', 0)}, ignored: {counts.get('ignored', 0)}, "
            f"near matches: {preview.get('near_match', 0)}, "
            f"errors: {counts.get('error', 0)}"
        )
        self.stdout.write(f"import id: {statement.pk}{' (dry run: nothing written)' if options['dry_run'] else ''}")

    def _import(
        self, path: Path, account: Account, mapping: Any, interactive: bool, options: dict[str, Any]
    ) -> tuple[StatementImport, dict[str, int], dict[str, int]]:
        try:
            with path.open("rb") as handle:
                statement = statement_import_upload(
                    account=account,
                    upload=handle,
                    original_name=path.name,
                    declared_size=path.stat().st_size,
                    format=options["format"],
                    mapping=mapping,
                    profile=options["profile"],
                    save_profile=options["save_profile"],
                )
            statement = statement_import_preview(statement_import=statement, progress=self._progress(interactive))
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        if interactive:
            self.stdout.write("")
        if statement.status == ImportStatus.FAILED:
            raise CommandError(f"The file could not be imported: {statement.error}")
        counts = preview = statement.counts
        errors = list(statement.rows.filter(row_shows(RowStatus.ERROR)).order_by("line_number")[:20])
        for row in errors:
            self.stderr.write(f"line {row.line_number}: {row.error}")
        if not options["dry_run"]:
            skipped = (
                list(statement.rows.filter(row_shows(RowStatus.ERROR)).values_list("id", flat=True))
                if options["skip_errors"]
                else []
            )
            try:
                statement = statement_import_commit(
                    statement_import=statement,
                    ignore=skipped,
                    near_matches=options["near_matches"],
                    accept_suggestions=options["accept_suggestions"],
                )
            except UndecidedNearMatchesError:
                for row in statement.rows.filter(row_shows(RowStatus.NEAR_MATCH)).order_by("line_number")[:50]:
                    self.stderr.write(f"line {row.line_number}: {row.date} {row.amount} {row.payee} — {row.reason}")
                raise CommandError(
                    f"Nothing was imported: {preview.get('near_match', 0)} near match(es) need a decision. "
                    "Run again with --near-matches merge (link them to the existing transactions) "
                    "or --near-matches keep (import them as new)."
                ) from None
            except ConflictError as error:
                raise CommandError(f"Nothing was imported. {error.message} (here: --skip-errors)") from None
            counts = statement.counts
        return statement, counts, preview

    def _progress(self, interactive: bool) -> Any:
        def report(rows: int, share: float) -> None:
            if interactive:
                # Redrawn in place on a terminal: [##########··········]  50%    50,000 rows
                filled = int(share * _BAR_WIDTH)
                bar = "#" * filled + "·" * (_BAR_WIDTH - filled)
                self.stdout.write(f"\r  [{bar}] {share:4.0%} {rows:>10,} rows", ending="")
                self.stdout.flush()
            else:
                self.stdout.write(f"  {rows} rows read ({share:.0%} of the file)")

        return report
