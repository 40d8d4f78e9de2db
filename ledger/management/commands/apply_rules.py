"""manage.py apply_rules --household ID [--dry-run]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.models import Household
from ledger.rules import rules_apply


class Command(BaseCommand):
    help = "Run a household's categorisation rules over its transactions (reconciled ones are skipped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--household", type=int, required=True)
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            household = Household.objects.get(pk=options["household"])
        except Household.DoesNotExist:
            raise CommandError(f"No household {options['household']}.") from None
        result = rules_apply(household=household, dry_run=options["dry_run"])
        for change in result.changes[:50]:
            self.stdout.write(
                f"transaction {change.transaction_id}: {change.field} {change.before!r} → {change.after!r} (rule {change.rule_id})"
            )
        verb = "would change" if options["dry_run"] else "changed"
        self.stdout.write(f"{verb} {result.changed} transaction(s) ({len(result.changes)} change(s)).")
