"""Background imports: a statement's preview and commit run on the worker (`manage.py run_worker`) through
Django's Tasks API with its PostgreSQL backend (django-tasks-db), so the queue is a table and nothing new is
operated. Small files still finish inside the request (`IMPORT_INLINE_MAX_BYTES`).

The work itself is the statement import services' (uploads.services.statement_imports), unchanged:
a preview or commit is one transaction holding its import's row lock, so a task that raises — or a worker
killed mid-task — leaves nothing half-done. What this module adds is the import's `StatementImportTask` row:
queued → running → succeeded | failed, with progress and a heartbeat written from a connection of its own
(the import's row is locked while the work runs, and the work's own transaction is invisible until it ends).

Recovery: a running task whose heartbeat is older than `IMPORT_TASK_STALE_SECONDS` lost its worker.
`statement_import_tasks_recover` (run by every worker at start and every minute, and by
`manage.py recover_import_tasks`) fails it with a message; a preview it cut off leaves the import failed
(retry previews it again), a commit it cut off left nothing in the books and the import still previewed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypedDict, Unpack

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_tasks import task

from financetracker.core.errors import ConflictError
from ledger.models import User
from uploads.models import (
    ImportStatus,
    ImportTaskKind,
    ImportTaskState,
    StatementImport,
    StatementImportTask,
)
from uploads.services import statement_imports

logger = logging.getLogger(__name__)

QUEUE = "imports"
ACTIVE = (ImportTaskState.QUEUED, ImportTaskState.RUNNING)

# The states an import shows (API `state`, admin): its lifecycle status, or what its task is doing.
STATES = ["uploaded", "queued", "previewing", "previewed", "committing", "committed", "failed"]


# --- what an import shows ----------------------------------------------------------------------------


def task_of(statement_import: StatementImport) -> StatementImportTask | None:
    try:
        return statement_import.task
    except StatementImportTask.DoesNotExist:
        return None


def import_state(statement_import: StatementImport) -> str:
    """queued / previewing / committing while a task is queued or runs; otherwise the import's status."""
    current = task_of(statement_import)
    if current is not None and current.state == ImportTaskState.QUEUED:
        return "queued"
    if current is not None and current.state == ImportTaskState.RUNNING:
        return "previewing" if current.kind == ImportTaskKind.PREVIEW else "committing"
    return str(statement_import.status)


def import_state_label(statement_import: StatementImport) -> str:
    """For people: "previewing… 40,000 rows read (43 %)", "failed: <why>"."""
    state = import_state(statement_import)
    current = task_of(statement_import)
    if state == "queued" and current is not None:
        return f"queued ({current.kind})"
    if state in ("previewing", "committing") and current is not None:
        if current.rows_total is not None:
            return f"{state}… {current.rows_done:,} of {current.rows_total:,} rows"
        return f"{state}… {current.rows_done:,} rows read ({round(current.fraction * 100)} %)"
    if state == "failed":
        return f"failed: {statement_import.error}" if statement_import.error else "failed"
    if current is not None and current.state == ImportTaskState.FAILED and current.error:
        return f"{state} (last {current.kind} failed: {current.error})"
    return state


def runs_inline(statement_import: StatementImport) -> bool:
    return statement_import.size <= settings.IMPORT_INLINE_MAX_BYTES


# --- starting work ----------------------------------------------------------------------------------


def _refuse_if_active(statement_import: StatementImport) -> None:
    current = StatementImportTask.objects.filter(pk=statement_import.pk, state__in=ACTIVE).first()
    if current is not None:
        raise ConflictError(f"This import's {current.kind} is {current.state} in the background; wait for it.")


def _enqueue(
    statement_import: StatementImport, *, kind: str, options: dict[str, Any], user: User | None
) -> StatementImport:
    queued_task = statement_import_preview_task if kind == ImportTaskKind.PREVIEW else statement_import_commit_task
    with transaction.atomic():
        # The import's lock: 409 while a preview or commit of it runs, and no second request slips in between.
        try:
            locked = StatementImport.objects.select_for_update(nowait=True).get(pk=statement_import.pk)
        except DatabaseError:
            raise ConflictError("This import is being previewed or committed right now; try again shortly.") from None
        if locked.status == ImportStatus.COMMITTED:
            raise ConflictError("This import is committed; it cannot be previewed or committed again.")
        if kind == ImportTaskKind.COMMIT and locked.status != ImportStatus.PREVIEWED:
            raise ConflictError(f"This import is {locked.status}; only a previewed import can be committed.")
        _refuse_if_active(locked)
        # The task row and the queue's row commit together: the worker never sees one without the other.
        result = queued_task.enqueue(locked.pk)
        queued, _created = StatementImportTask.objects.update_or_create(
            statement_import=locked,
            defaults={
                "kind": kind,
                "state": ImportTaskState.QUEUED,
                "options": options,
                "requested_by": user,
                "task_id": str(result.id),
                "rows_done": 0,
                "rows_total": (locked.counts or {}).get("rows") if kind == ImportTaskKind.COMMIT else None,
                "fraction": 0.0,
                "error": "",
                "queued_at": timezone.now(),
                "started_at": None,
                "heartbeat_at": None,
                "finished_at": None,
            },
        )
    statement_import.refresh_from_db()
    statement_import.task = queued  # the cached reverse relation, so the answer shows "queued"
    return statement_import


def statement_import_preview_start(*, statement_import: StatementImport, user: User | None = None) -> StatementImport:
    """Preview now when the file is small, else queue it for the worker (`import_state` then says "queued")."""
    if runs_inline(statement_import):
        _refuse_if_active(statement_import)
        return statement_imports.statement_import_retry(statement_import=statement_import)
    return _enqueue(statement_import, kind=ImportTaskKind.PREVIEW, options={}, user=user)


class CommitChoices(TypedDict, total=False):
    """A commit's decisions, as the service takes them and as a queued task stores them (JSON). A caller of
    `statement_import_commit_start` names only the ones it makes; the task stores all six."""

    merge: list[int]
    ignore: list[int]
    keep: list[int]
    near_matches: str | None
    accept: list[int]
    accept_suggestions: bool


def statement_import_commit_start(
    *, statement_import: StatementImport, user: User | None = None, **decisions: Unpack[CommitChoices]
) -> StatementImport:
    """Commit now when the file is small, else queue the commit with these decisions (all or nothing either way).

    A queued commit that the service refuses (an undecided near match, rows in error) fails its task with the
    service's message and leaves the import previewed, to be committed again with other decisions.
    """
    near_matches = decisions.get("near_matches")
    choices: CommitChoices = {
        "merge": sorted({int(i) for i in decisions.get("merge", ())}),
        "ignore": sorted({int(i) for i in decisions.get("ignore", ())}),
        "keep": sorted({int(i) for i in decisions.get("keep", ())}),
        "near_matches": near_matches or None,
        "accept": sorted({int(i) for i in decisions.get("accept", ())}),
        "accept_suggestions": bool(decisions.get("accept_suggestions", False)),
    }
    if near_matches not in (None, "", "merge", "keep"):
        raise ValidationError({"near_matches": ['Choose "merge" or "keep".']})
    if runs_inline(statement_import):
        _refuse_if_active(statement_import)
        return statement_imports.statement_import_commit(statement_import=statement_import, user=user, **choices)
    return _enqueue(statement_import, kind=ImportTaskKind.COMMIT, options=dict(choices), user=user)


# --- running work -----------------------------------------------------------------------------------

_TOUCH_SQL = (
    "UPDATE uploads_statementimporttask SET heartbeat_at = now(), rows_done = %s, fraction = %s "
    "WHERE statement_import_id = %s AND state = 'running'"
)
_FINISH_SQL = (
    "UPDATE uploads_statementimporttask SET state = %s, error = %s, rows_done = %s, rows_total = %s, "
    "fraction = %s, finished_at = now(), heartbeat_at = now() WHERE statement_import_id = %s AND state = 'running'"
)


class Heartbeat:
    """Progress and liveness of one running task, written on a connection of its own in autocommit.

    A thread beats every IMPORT_TASK_HEARTBEAT_SECONDS, also while the work waits on one long SQL statement.
    """

    def __init__(self, import_id: int) -> None:
        self.import_id = import_id
        self.rows_done = 0
        self.fraction = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last_write = 0.0
        self._side = connection.get_new_connection(connection.get_connection_params())
        self._side.autocommit = True
        self._thread = threading.Thread(target=self._beat, name=f"import-{import_id}-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._side.close()

    def _execute(self, sql: str, params: list[Any]) -> None:
        with self._lock, self._side.cursor() as cursor:
            cursor.execute(sql, params)
            self._last_write = time.monotonic()

    def _beat(self) -> None:
        while not self._stop.wait(settings.IMPORT_TASK_HEARTBEAT_SECONDS):
            try:
                self._execute(_TOUCH_SQL, [self.rows_done, self.fraction, self.import_id])
            except DatabaseError:  # the next beat tries again; the recovery waits many beats
                logger.warning("import task heartbeat failed", extra={"import_id": self.import_id})

    def progress(self, rows: int, fraction: float) -> None:
        """The services' Progress callback: rows read so far and the share of the file's bytes."""
        self.rows_done, self.fraction = rows, max(0.0, min(1.0, fraction))
        # At most one write a second, however often the parser reports.
        if time.monotonic() - self._last_write >= 1.0:
            self._execute(_TOUCH_SQL, [self.rows_done, self.fraction, self.import_id])

    def finish(self, state: str, *, error: str = "", rows_done: int, rows_total: int | None, fraction: float) -> None:
        self._execute(_FINISH_SQL, [state, error, rows_done, rows_total, fraction, self.import_id])


def _failure_message(kind: str, error: BaseException) -> str:
    detail = getattr(error, "message", None) or str(error) or type(error).__name__
    if isinstance(error, ConflictError | ValidationError):
        return str(detail) if not isinstance(error, ValidationError) else "; ".join(error.messages)
    action = "preview" if kind == ImportTaskKind.PREVIEW else "commit"
    return (
        f"The {action} stopped with an error ({type(error).__name__}: {str(detail)[:500]}); nothing of it was "
        "saved. Retry the import."
    )


def _fail_import(import_id: int, kind: str, error: BaseException, message: str) -> None:
    """After the work's transaction rolled back: the import says why (a refusal changes nothing)."""
    if isinstance(error, ConflictError | ValidationError):
        return
    # A preview left "previewing" (committed before its transaction); a commit left "previewed".
    expected = ImportStatus.PREVIEWING if kind == ImportTaskKind.PREVIEW else ImportStatus.PREVIEWED
    StatementImport.objects.filter(pk=import_id, status=expected).update(
        status=ImportStatus.FAILED, error=message, counts={}
    )


def _run(import_id: int, kind: str, work: Callable[[StatementImport, StatementImportTask, Heartbeat], str]) -> str:
    statement = StatementImport.objects.select_related("account").filter(pk=import_id).first()
    if statement is None:
        return "discarded"  # deleted while queued
    now = timezone.now()
    claimed = StatementImportTask.objects.filter(pk=import_id, kind=kind, state=ImportTaskState.QUEUED).update(
        state=ImportTaskState.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return "superseded"  # failed by the recovery, or replaced by a newer request
    current = StatementImportTask.objects.select_related("requested_by").get(pk=import_id)
    with Heartbeat(import_id) as beat:
        try:
            return work(statement, current, beat)
        except BaseException as error:  # SystemExit too: a second SIGTERM ends the task, say so
            message = _failure_message(kind, error)
            logger.exception("import task failed", extra={"import_id": import_id, "kind": kind})
            beat.finish(
                ImportTaskState.FAILED,
                error=message,
                rows_done=beat.rows_done,
                rows_total=current.rows_total,
                fraction=beat.fraction,
            )
            _fail_import(import_id, kind, error, message)
            raise


def _preview(statement: StatementImport, current: StatementImportTask, beat: Heartbeat) -> str:
    statement = statement_imports.statement_import_retry(statement_import=statement, progress=beat.progress)
    rows = (statement.counts or {}).get("rows", beat.rows_done)
    if statement.status == ImportStatus.FAILED:  # the file itself was refused (its error is on the import)
        beat.finish(ImportTaskState.FAILED, error=statement.error, rows_done=rows, rows_total=None, fraction=1.0)
        return "failed"
    beat.finish(ImportTaskState.SUCCEEDED, rows_done=rows, rows_total=rows, fraction=1.0)
    return str(statement.status)


def _commit(statement: StatementImport, current: StatementImportTask, beat: Heartbeat) -> str:
    statement = statement_imports.statement_import_commit(
        statement_import=statement, user=current.requested_by, **current.options
    )
    rows = (statement.counts or {}).get("rows", 0)
    beat.finish(ImportTaskState.SUCCEEDED, rows_done=rows, rows_total=rows, fraction=1.0)
    return str(statement.status)


@task(queue_name=QUEUE)
def statement_import_preview_task(import_id: int) -> str:
    """Parse, stage and de-duplicate a queued import (uploads.services.statement_imports.statement_import_preview)."""
    return _run(import_id, ImportTaskKind.PREVIEW, _preview)


@task(queue_name=QUEUE)
def statement_import_commit_task(import_id: int) -> str:
    """Commit a previewed import with the decisions stored on its task (uploads.services.statement_imports.statement_import_commit)."""
    return _run(import_id, ImportTaskKind.COMMIT, _commit)


# --- recovery ---------------------------------------------------------------------------------------


def _recover_one(current: StatementImportTask, stale_before: datetime, now: datetime) -> bool:
    try:
        with transaction.atomic():
            # A preview or commit holds this lock for its whole transaction: held means the work still runs
            # (its worker merely could not beat), so it is left alone.
            statement = StatementImport.objects.select_for_update(nowait=True).get(pk=current.pk)
            locked = StatementImportTask.objects.select_for_update().get(pk=current.pk)
            if locked.state != ImportTaskState.RUNNING or (locked.heartbeat_at or now) >= stale_before:
                return False
            beat = (
                timezone.localtime(locked.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S %Z") if locked.heartbeat_at else "?"
            )
            action = "preview" if locked.kind == ImportTaskKind.PREVIEW else "commit"
            message = (
                f"The worker running this {action} stopped (last heartbeat {beat}); nothing of it was saved. "
                "Retry the import."
            )
            locked.state, locked.error, locked.finished_at = ImportTaskState.FAILED, message, now
            locked.save(update_fields=["state", "error", "finished_at"])
            if statement.status == ImportStatus.PREVIEWING:
                statement.status, statement.error, statement.counts = ImportStatus.FAILED, message, {}
                statement.save(update_fields=["status", "error", "counts"])
            _fail_queue_row(locked.task_id, now)
    except DatabaseError:
        return False  # locked: still running
    except (StatementImport.DoesNotExist, StatementImportTask.DoesNotExist):
        return False
    logger.warning("recovered a stale import task", extra={"import_id": current.pk, "kind": current.kind})
    return True


def _fail_queue_row(task_id: str, now: datetime) -> None:
    # The library's own row says RUNNING for ever otherwise (it has no heartbeat of its own).
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if task_id:
        DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED, finished_at=now
        )


def _recover_lost_queued(now: datetime) -> int:
    """Queued tasks whose queue row is gone or finished without running them (pruned, or it failed to load)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    count = 0
    for current in StatementImportTask.objects.filter(state=ImportTaskState.QUEUED):
        row = DBTaskResult.objects.filter(id=current.task_id).values_list("status", flat=True).first()
        if row in (TaskResultStatus.READY, TaskResultStatus.RUNNING):
            continue
        message = f"This {current.kind} was queued but its queue entry is {row or 'gone'}; retry the import."
        count += StatementImportTask.objects.filter(pk=current.pk, state=ImportTaskState.QUEUED).update(
            state=ImportTaskState.FAILED, error=message, finished_at=now
        )
    return count


def statement_import_tasks_recover(*, now: datetime | None = None) -> int:
    """Fail the tasks that lost their worker (no heartbeat for IMPORT_TASK_STALE_SECONDS); how many."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.IMPORT_TASK_STALE_SECONDS)
    stale = StatementImportTask.objects.filter(state=ImportTaskState.RUNNING, heartbeat_at__lt=stale_before)
    recovered = sum(_recover_one(current, stale_before, now) for current in stale)
    return recovered + _recover_lost_queued(now)
