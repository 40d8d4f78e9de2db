"""Background imports (uploads/tasks.py): a large statement's preview and commit run on the worker through the
PostgreSQL task queue (django-tasks-db), for real — the API answers 202 at once, the worker (run here for one
batch, in-process, or as a process of its own that is SIGKILLed) moves the import through queued → previewing
→ previewed → committing → committed with its progress visible from outside, a task that raises leaves the
import failed with its reason and nothing in the books, retry works, and a killed worker's task is recovered.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from ledger.models import Transaction
from uploads import tasks
from uploads.models import (
    ImportedKey,
    ImportStatus,
    ImportTaskState,
    RowStatus,
    StatementImport,
    StatementImportRow,
    StatementImportTask,
    row_shows,
)
from uploads.services import statement_imports

# The worker commits on connections of its own: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
CSV = b"Date,Payee,Amount\n2024-03-15,Tram,-2.80\n2024-03-16,Bakery,-3.10\n2024-03-17,Cinema,-9.00\n"


def big_csv(rows: int) -> bytes:
    lines = ["Date,Payee,Amount"] + [
        f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},Shop {i},-{1 + i % 90}.{i % 100:02d}" for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(autouse=True)
def _everything_to_the_worker(settings: Any) -> None:
    settings.IMPORT_INLINE_MAX_BYTES = 0


def upload(client: Any, account: Any, data: bytes = CSV, name: str = "statement.csv") -> Any:
    file = io.BytesIO(data)
    file.name = name
    return client.post("/api/v1/imports/", {"file": file, "account": account.pk}, format="multipart")


def run_worker() -> None:
    call_command("run_worker", "--batch", "--interval", "0")


def outside(sql: str, params: list[Any]) -> Any:
    """A query on a connection of its own, as another request or the admin would see it right now."""
    side = connection.get_new_connection(connection.get_connection_params())
    side.autocommit = True
    try:
        with side.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    finally:
        side.close()


def test_a_queued_import_answers_202_and_the_worker_previews_then_commits_it(owner, client_for, account):
    client = client_for(owner)
    response = upload(client, account)
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"].endswith(f"/api/v1/imports/{body['id']}/")
    assert body["status"] == "uploaded" and body["state"] == "queued"
    assert body["progress"]["kind"] == "preview" and body["progress"]["state"] == "queued"
    assert body["rows"]["results"] == []  # nothing parsed in the request
    url = f"/api/v1/imports/{body['id']}/"

    run_worker()
    previewed = client.get(url).json()
    assert previewed["status"] == "previewed" and previewed["state"] == "previewed"
    assert previewed["counts"]["new"] == 3
    progress = previewed["progress"]
    assert progress["state"] == "succeeded" and progress["rows_done"] == 3 and progress["rows_total"] == 3
    assert progress["fraction"] == 1.0 and progress["started_at"] and progress["finished_at"]

    committing = client.post(f"{url}commit/", {}, format="json")
    assert committing.status_code == 202, committing.content
    assert committing.json()["state"] == "queued" and committing.json()["progress"]["kind"] == "commit"
    assert committing.json()["status"] == "previewed"
    assert not Transaction.objects.filter(account=account).exists()

    run_worker()
    committed = client.get(url).json()
    assert committed["status"] == "committed" and committed["state"] == "committed"
    assert committed["progress"]["state"] == "succeeded" and committed["counts"]["imported"] == 3
    assert sorted(Transaction.objects.filter(account=account).values_list("payee", flat=True)) == [
        "Bakery",
        "Cinema",
        "Tram",
    ]
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}


def test_progress_and_state_are_visible_from_outside_while_the_preview_runs(owner, client_for, account, monkeypatch):
    client = client_for(owner)
    statement_id = upload(client, account, big_csv(12000)).json()["id"]
    seen: list[tuple[Any, ...]] = []
    report = tasks.Heartbeat.progress

    def watched(self: tasks.Heartbeat, rows: int, fraction: float) -> None:
        report(self, rows, fraction)
        if rows < 12000:  # mid-file, inside the preview's transaction (its rows are not visible yet)
            seen.append(
                outside(
                    "SELECT t.state, t.rows_done, t.fraction, i.status, "
                    "(SELECT count(*) FROM uploads_statementimportrow r WHERE r.statement_import_id = i.id) "
                    "FROM uploads_statementimporttask t JOIN uploads_statementimport i ON i.id = t.statement_import_id "
                    "WHERE i.id = %s",
                    [statement_id],
                )
            )

    monkeypatch.setattr(tasks.Heartbeat, "progress", watched)
    run_worker()
    assert seen, "the parser reported progress"
    state, rows_done, fraction, status, staged = seen[0]
    assert state == "running" and status == "previewing" and staged == 0
    assert 0 < rows_done < 12000 and 0 < fraction < 1
    statement = StatementImport.objects.get(pk=statement_id)
    assert statement.status == ImportStatus.PREVIEWED and statement.counts["rows"] == 12000
    assert tasks.import_state_label(statement) == "previewed"


def test_a_commit_task_that_raises_leaves_the_import_failed_and_nothing_in_the_books(
    owner, client_for, account, monkeypatch
):
    client = client_for(owner)
    statement_id = upload(client, account).json()["id"]
    run_worker()

    def broken(**kwargs: Any) -> None:
        # After the commit's inserts ran inside its transaction: they must all roll back.
        assert Transaction.objects.filter(account=account).count() == 3
        raise RuntimeError("rules engine exploded")

    monkeypatch.setattr(statement_imports, "rules_apply_to_transactions_sql", broken)
    assert client.post(f"/api/v1/imports/{statement_id}/commit/", {}, format="json").status_code == 202
    run_worker()
    body = client.get(f"/api/v1/imports/{statement_id}/").json()
    assert body["status"] == "failed" and body["state"] == "failed"
    assert "RuntimeError: rules engine exploded" in body["error"] and "nothing of it was saved" in body["error"]
    assert body["progress"]["state"] == "failed" and body["progress"]["error"] == body["error"]
    assert not Transaction.objects.filter(account=account).exists()
    assert not ImportedKey.objects.exists()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).count() == 1
    assert client.post(f"/api/v1/imports/{statement_id}/commit/", {}, format="json").status_code == 409

    # Retry: preview again, then commit, on the worker; each row lands once.
    monkeypatch.undo()
    retried = client.post(f"/api/v1/imports/{statement_id}/retry/")
    assert retried.status_code == 202 and retried.json()["state"] == "queued"
    run_worker()
    assert client.get(f"/api/v1/imports/{statement_id}/").json()["state"] == "previewed"
    assert client.post(f"/api/v1/imports/{statement_id}/commit/", {}, format="json").status_code == 202
    run_worker()
    assert client.get(f"/api/v1/imports/{statement_id}/").json()["state"] == "committed"
    assert Transaction.objects.filter(account=account).count() == 3


def test_a_preview_task_that_raises_leaves_the_import_failed_with_no_staged_rows(
    owner, client_for, account, monkeypatch
):
    client = client_for(owner)
    statement_id = upload(client, account).json()["id"]

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("suggestions down")

    monkeypatch.setattr(statement_imports.suggestions, "suggest_for_import", broken)
    run_worker()
    statement = StatementImport.objects.get(pk=statement_id)
    assert statement.status == ImportStatus.FAILED and "suggestions down" in statement.error
    assert not StatementImportRow.objects.filter(statement_import_id=statement_id).exists()
    assert tasks.import_state_label(statement).startswith("failed: The preview stopped with an error")


def test_a_queued_commit_the_service_refuses_fails_its_task_and_leaves_the_import_committable(
    owner, client_for, account
):
    client = client_for(owner)
    bad = b"Date,Payee,Amount\n2024-03-15,Tram,-2.80\n2024-03-16,Bakery,-3.10\n2024-03-17,Cinema,lots\n"
    statement_id = upload(client, account, bad).json()["id"]
    run_worker()
    assert StatementImport.objects.get(pk=statement_id).counts["error"] == 1
    assert client.post(f"/api/v1/imports/{statement_id}/commit/", {}, format="json").status_code == 202
    run_worker()
    body = client.get(f"/api/v1/imports/{statement_id}/").json()
    assert body["status"] == "previewed" and body["state"] == "previewed"
    assert body["progress"]["state"] == "failed" and "Rows in error" in body["progress"]["error"]
    error_row = StatementImportRow.objects.get(row_shows(RowStatus.ERROR), statement_import_id=statement_id)
    again = client.post(f"/api/v1/imports/{statement_id}/commit/", {"ignore": [error_row.pk]}, format="json")
    assert again.status_code == 202
    run_worker()
    assert client.get(f"/api/v1/imports/{statement_id}/").json()["state"] == "committed"
    assert Transaction.objects.filter(account=account).count() == 2


def test_a_second_request_while_one_is_queued_is_a_conflict(owner, client_for, account):
    client = client_for(owner)
    statement_id = upload(client, account).json()["id"]
    assert client.post(f"/api/v1/imports/{statement_id}/retry/").status_code == 409
    assert StatementImportTask.objects.get(pk=statement_id).state == ImportTaskState.QUEUED
    assert DBTaskResult.objects.count() == 1


def test_a_discarded_queued_import_is_skipped_by_the_worker(owner, client_for, account):
    client = client_for(owner)
    statement_id = upload(client, account).json()["id"]
    assert client.post(f"/api/v1/imports/{statement_id}/discard/").status_code == 204
    run_worker()
    assert not StatementImport.objects.exists()
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_small_files_still_finish_inline(owner, client_for, account, settings):
    settings.IMPORT_INLINE_MAX_BYTES = 1024
    client = client_for(owner)
    response = upload(client, account)
    assert response.status_code == 201 and response.json()["state"] == "previewed"
    assert response.json()["progress"] is None
    commit = client.post(f"/api/v1/imports/{response.json()['id']}/commit/", {}, format="json")
    assert commit.status_code == 200 and commit.json()["state"] == "committed"
    assert not DBTaskResult.objects.exists()


# --- walls --------------------------------------------------------------------------------------------


def test_an_outsider_can_neither_see_nor_start_another_households_task(owner, outsider, viewer, client_for, account):
    statement_id = upload(client_for(owner), account).json()["id"]
    stranger = client_for(outsider)
    for response in (
        stranger.get(f"/api/v1/imports/{statement_id}/"),
        stranger.post(f"/api/v1/imports/{statement_id}/retry/"),
        stranger.post(f"/api/v1/imports/{statement_id}/commit/", {}, format="json"),
        stranger.post(f"/api/v1/imports/{statement_id}/discard/"),
    ):
        assert response.status_code == 404
    assert stranger.get("/api/v1/imports/").json()["results"] == []
    run_worker()
    # A viewer sees the state and progress but starts nothing.
    looker = client_for(viewer)
    assert looker.get(f"/api/v1/imports/{statement_id}/").json()["state"] == "previewed"
    assert looker.post(f"/api/v1/imports/{statement_id}/commit/", {}, format="json").status_code == 403
    assert looker.post(f"/api/v1/imports/{statement_id}/retry/").status_code == 403
    assert DBTaskResult.objects.count() == 1 and StatementImportTask.objects.get().kind == "preview"


# --- a worker that dies ---------------------------------------------------------------------------------


def test_a_stale_task_is_recovered_but_one_whose_work_still_holds_the_lock_is_not(owner, client_for, account, settings):
    client = client_for(owner)
    statement_id = upload(client, account).json()["id"]
    # What a worker killed mid-preview leaves: its task running, the import previewing, no lock held.
    StatementImportTask.objects.filter(pk=statement_id).update(
        state=ImportTaskState.RUNNING, heartbeat_at="2024-01-01T00:00:00Z"
    )
    StatementImport.objects.filter(pk=statement_id).update(status=ImportStatus.PREVIEWING)
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)

    holder = connection.get_new_connection(connection.get_connection_params())
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT 1 FROM uploads_statementimport WHERE id = %s FOR UPDATE", [statement_id])
        assert tasks.statement_import_tasks_recover() == 0  # its work still runs somewhere: left alone
    finally:
        holder.close()

    out = io.StringIO()
    call_command("recover_import_tasks", stdout=out)
    assert "Recovered 1 import task(s)." in out.getvalue()
    statement = StatementImport.objects.get(pk=statement_id)
    assert statement.status == ImportStatus.FAILED and "The worker running this preview stopped" in statement.error
    assert StatementImportTask.objects.get(pk=statement_id).state == ImportTaskState.FAILED
    assert DBTaskResult.objects.get().status == TaskResultStatus.FAILED
    assert client.post(f"/api/v1/imports/{statement_id}/retry/").status_code == 202
    run_worker()
    assert client.get(f"/api/v1/imports/{statement_id}/").json()["state"] == "previewed"


def _wait_for(predicate: Any, what: str, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return value


def test_a_worker_process_killed_mid_preview_leaves_nothing_and_its_task_is_recovered(
    owner, client_for, account, settings, tmp_path
):
    client = client_for(owner)
    statement_id = upload(client, account, big_csv(3000)).json()["id"]
    params = connection.get_connection_params()
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "UPLOADS_", "STORAGE_", "PYTEST", "DJANGO_"))
    }
    env.update(
        DATABASE_URL=url,
        UPLOADS_ROOT=str(tmp_path / "uploads"),
        SECRET_KEY="background-import-tests-0123456789abcdef0123456789abcdef",
        DEBUG="0",
        WORKER_HEALTH_PATH=str(tmp_path / "health"),
    )
    if database.get("PASSWORD"):
        env["DATABASE_PASSWORD"] = database["PASSWORD"]
    # Holding the staging table's lock keeps the worker's preview inside its transaction (deterministic, untimed).
    holder = psycopg.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")})
    holder.execute("BEGIN")
    holder.execute("LOCK TABLE uploads_statementimportrow IN ACCESS EXCLUSIVE MODE")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(
            lambda: (
                worker.poll() is not None
                or outside(
                    "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                    [holder.info.backend_pid],
                )[0]
            ),
            "the worker's preview to wait on the lock",
        )
        assert worker.poll() is None, worker.communicate()
        assert outside(
            "SELECT state FROM uploads_statementimporttask WHERE statement_import_id = %s", [statement_id]
        ) == ("running",)
        _wait_for(lambda: (tmp_path / "health").exists(), "the health file")
        assert (tmp_path / "health").read_text().startswith("ok ")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        holder.rollback()
        holder.close()
    # Its backend ends once it finds its client gone; then the import's lock is free and nothing was staged.
    settings.IMPORT_TASK_STALE_SECONDS = 0
    _wait_for(lambda: tasks.statement_import_tasks_recover() == 1, "the recovery of the killed worker's task")
    statement = StatementImport.objects.get(pk=statement_id)
    assert statement.status == ImportStatus.FAILED and "The worker running this preview stopped" in statement.error
    assert not StatementImportRow.objects.filter(statement_import_id=statement_id).exists()
    assert client.post(f"/api/v1/imports/{statement_id}/retry/").status_code == 202
    run_worker()
    statement.refresh_from_db()
    assert statement.status == ImportStatus.PREVIEWED and statement.counts["rows"] == 3000


# --- the admin ------------------------------------------------------------------------------------------


def test_the_admin_wizard_shows_the_queued_import_its_progress_and_the_outcome(admin_client, account):
    handle = io.BytesIO(b"When;Who;How much\n15.03.2024;Kiosk;-1,50\n16.03.2024;Bakery;-2,00\n")
    handle.name = "bank.csv"
    mapped = admin_client.post("/admin/uploads/statementimport/wizard/", {"account": account.pk, "file": handle})
    mapping = {"delimiter": ";", "date": "When", "payee": "Who", "amount": "How much", "decimal": ",",
               "date_format": "%d.%m.%Y"}  # fmt: skip
    preview_url = admin_client.post(mapped["Location"], mapping)["Location"]
    page = admin_client.get(preview_url).content.decode()
    assert "queued (preview)" in page and 'http-equiv="refresh"' in page
    assert 'value="Commit"' not in page and "Preview again" not in page  # nothing to do while the worker has it
    assert "queued (preview)" in admin_client.get("/admin/uploads/statementimport/").content.decode()

    run_worker()
    page = admin_client.get(preview_url).content.decode()
    assert 'http-equiv="refresh"' not in page and 'value="Commit"' in page and "new: 2" in page
    committing = admin_client.post(preview_url, {}, follow=True).content.decode()
    assert "Committing bank.csv in the background." in committing and "queued (commit)" in committing
    assert not Transaction.objects.filter(account=account).exists()

    run_worker()
    listing = admin_client.get("/admin/uploads/statementimport/").content.decode()
    # The theme adds its own classes to the cell: match the state column's cell, whatever else it carries.
    assert re.search(r'<td class="[^"]*\bfield-state\b[^"]*"[^>]*>\s*committed\s*</td>', listing), listing
    assert Transaction.objects.filter(account=account).count() == 2


def test_the_admin_shows_why_an_import_failed(admin_client, owner, client_for, account, monkeypatch):
    statement_id = upload(client_for(owner), account).json()["id"]
    monkeypatch.setattr(statement_imports.suggestions, "suggest_for_import", lambda **kwargs: 1 / 0)
    run_worker()
    listing = admin_client.get("/admin/uploads/statementimport/").content.decode()
    assert "failed: The preview stopped with an error (ZeroDivisionError: division by zero)" in listing
    page = admin_client.get(f"/admin/uploads/statementimport/{statement_id}/wizard/preview/").content.decode()
    assert "ZeroDivisionError" in page and "Preview again" in page
