"""`manage.py verify_uploads`: every stored file a row names is there with the SHA-256 the row recorded.

Run after a restore (deploy/backup-restore.sh does): the database and the uploads are backed up apart, and a
receipt whose bytes did not come back is found now, not when someone opens it. Exits non-zero on any miss.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from uploads.models import Attachment, StatementImport

_CHUNK = 1 << 20


def _sha256(name: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Check that every attachment's and statement import's file exists with its recorded SHA-256."

    def handle(self, *args: Any, **options: Any) -> None:
        problems: list[str] = []
        checked = 0
        for model in (Attachment, StatementImport):
            rows = model.objects.order_by("pk").values_list("pk", "file", "sha256")
            for pk, name, sha256 in rows.iterator():
                checked += 1
                label = f"{model._meta.verbose_name} {pk} ({name})"
                try:
                    found = _sha256(name)
                except (FileNotFoundError, OSError) as error:
                    problems.append(f"{label}: missing ({error.__class__.__name__})")
                    continue
                if found != sha256:
                    problems.append(f"{label}: SHA-256 {found}, expected {sha256}")
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} of {checked} stored files are missing or changed.")
        self.stdout.write(f"uploads OK: {checked} files")
