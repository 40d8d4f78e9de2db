"""`manage.py recover_import_tasks`: fail the import tasks whose worker stopped (every worker also does this
at start and every minute); their imports can then be retried."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from uploads.tasks import statement_import_tasks_recover


class Command(BaseCommand):
    help = "Fail background import tasks that lost their worker (no heartbeat for IMPORT_TASK_STALE_SECONDS)."

    def handle(self, *args: Any, **options: Any) -> None:
        recovered = statement_import_tasks_recover()
        self.stdout.write(f"Recovered {recovered} import task(s).")
