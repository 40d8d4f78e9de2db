"""`manage.py uploads_sweep_orphans [--older-than-hours N] [--dry-run]`: remove stored files no row names.

A process killed between storing an upload and committing its row (or a transaction rolled back outside a
request) leaves a file behind that nothing will ever serve. Files younger than the grace period are kept:
their upload may still be committing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from uploads.files import FOLDERS
from uploads.models import Attachment, StatementImport


def _stored_names() -> Iterator[str]:
    for folder in FOLDERS:
        if not default_storage.exists(folder):
            continue
        households, _files = default_storage.listdir(folder)
        for household in households:
            _dirs, names = default_storage.listdir(f"{folder}/{household}")
            for name in names:
                yield f"{folder}/{household}/{name}"


class Command(BaseCommand):
    help = "Delete stored upload files that no attachment or statement import names (after a grace period)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-hours", type=float, default=24.0, help="Grace period (default: 24).")
        parser.add_argument("--dry-run", action="store_true", help="List the orphans, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - datetime.timedelta(hours=options["older_than_hours"])
        removed = 0
        for name in _stored_names():
            if Attachment.objects.filter(file=name).exists() or StatementImport.objects.filter(file=name).exists():
                continue
            if default_storage.get_modified_time(name) > cutoff:
                continue
            self.stdout.write(f"{'would remove' if options['dry_run'] else 'removing'} {name}")
            if not options["dry_run"]:
                default_storage.delete(name)
            removed += 1
        self.stdout.write(f"{removed} orphaned file(s){' found' if options['dry_run'] else ' removed'}")
