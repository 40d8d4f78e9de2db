"""`manage.py run_worker`: the background worker (imports' previews and commits, uploads/tasks.py).

django-tasks-db's worker loop (`db_worker`: polls the queue table, SIGTERM finishes the task in hand first),
plus what a Deployment needs around it: stale tasks recovered at start and every minute, and a health file
whose age and first word the probes read (`ok`, or `database-unreachable`).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connection
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from uploads.tasks import QUEUE, statement_import_tasks_recover

logger = logging.getLogger(__name__)

HEALTH_EVERY_SECONDS = 10
RECOVER_EVERY_SECONDS = 60


def write_health(path: Path, status: str) -> None:
    # Written whole then renamed, so a probe never reads half a line.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(f"{status} {time.time():.0f}\n")
    partial.replace(path)


def _health_loop(path: Path, stop: threading.Event) -> None:
    last_recovery = time.monotonic()
    while True:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            if time.monotonic() - last_recovery >= RECOVER_EVERY_SECONDS:
                statement_import_tasks_recover()
                last_recovery = time.monotonic()
            write_health(path, "ok")
        except DatabaseError:
            write_health(path, "database-unreachable")
        finally:
            connection.close()  # this thread's own connection: never held across the pause
        if stop.wait(HEALTH_EVERY_SECONDS):
            return


class Command(BaseCommand):
    help = "Run the background worker for imports (django-tasks-db), with recovery of stale tasks and a health file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run the queued tasks, then exit (tests, cron).")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls of an empty queue.")
        parser.add_argument("--max-tasks", type=int, default=None, help="Exit after this many tasks.")

    def handle(self, *args: Any, batch: bool, interval: float, max_tasks: int | None, **options: Any) -> None:
        recovered = statement_import_tasks_recover()
        if recovered:
            self.stdout.write(f"Recovered {recovered} import task(s) whose worker had stopped.")
        worker = Worker(
            queue_names=["default", QUEUE],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=not batch,
            max_tasks=max_tasks,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        stop = threading.Event()
        health: threading.Thread | None = None
        if not batch:
            path = Path(settings.WORKER_HEALTH_PATH)
            health = threading.Thread(target=_health_loop, args=(path, stop), name="worker-health", daemon=True)
            health.start()
            worker.configure_signals()
        try:
            worker.run()
        finally:
            stop.set()
            if health is not None:
                health.join(timeout=HEALTH_EVERY_SECONDS)
