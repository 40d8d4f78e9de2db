"""Stored files follow their rows: a file outlives neither its row's deletion nor a rolled-back insert.

- Deleting: every Attachment or StatementImport deleted by any path (a service, the admin, a cascade from
  its account or household, a queryset) removes its file once the deleting transaction commits, never
  before: a rolled-back delete keeps the file (post_delete signal → `transaction.on_commit`).
- Storing: a file stored inside a transaction is *pending* until that transaction commits. If it rolls back
  (a later form of the same admin page fails, a caller's atomic block raises), the file is removed at the end
  of the request (`request_finished`) or by `discard_rolled_back_files()` for code outside requests.
- A process killed between storing a file and committing its row leaves a file no row names:
  `manage.py uploads_sweep_orphans` removes such files once they are older than a grace period.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import IO, Any

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection, transaction

logger = logging.getLogger(__name__)

FOLDERS = ("attachments", "imports")

_local = threading.local()


def _pending() -> set[str]:
    names: set[str] | None = getattr(_local, "pending", None)
    if names is None:
        names = _local.pending = set()
    return names


def store(upload: IO[bytes], folder: str, household_id: int) -> str:
    """Save under a generated name (nothing of the client's name reaches the path); pending until commit."""
    name = default_storage.save(f"{folder}/{household_id}/{uuid.uuid4().hex}", File(upload))
    if connection.in_atomic_block:
        _pending().add(name)
        # Callbacks of a rolled-back transaction or savepoint are dropped, so the name stays pending then.
        transaction.on_commit(lambda: _pending().discard(name))
    return name


def delete_now(name: str) -> None:
    """Remove a file whose row never existed (a refused or failed upload). Missing files are fine."""
    _pending().discard(name)
    if name:
        try:
            default_storage.delete(name)
        except OSError:  # the row is what matters; a stray file is swept later
            logger.warning("could not delete stored file %s", name, exc_info=True)


def delete_on_commit(name: str) -> None:
    """Remove a file once the current transaction commits (at once outside one)."""
    if name:
        transaction.on_commit(lambda: delete_now(name))


def discard_rolled_back_files(**_kwargs: Any) -> None:
    """Remove files stored by transactions that have since rolled back (call when no transaction is open)."""
    if connection.in_atomic_block:
        return
    names = _pending()
    for name in list(names):
        delete_now(name)


def file_deleted_with_row(sender: type, instance: Any, **_kwargs: Any) -> None:
    delete_on_commit(instance.file.name or "")
