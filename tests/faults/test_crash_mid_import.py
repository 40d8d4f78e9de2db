"""PostgreSQL killed (SIGKILL of the postmaster) in the middle of an import's preview, then of its commit.

After each restart (a real crash recovery) no row of the import is in the books and check_ledger passes; the
half-previewed import is interrupted, never committable; a retry imports each row exactly once, a second
import of the same file adds none, and the planner's statistics of the tables the import grew are fresh.
A command-line import killed halfway leaves no import behind that could be committed later.

Deterministic, not timed: the test holds a table lock the import step needs, waits until PostgreSQL shows
the step blocked on it (so the step is inside its transaction, past the work before that table), then kills.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from tests.faults.throwaway import (
    DRIVER,
    PYTHON,
    ROOT,
    Postgres,
    app_env,
    drive,
    fresh_database,
    manage,
    wait_for,
)

ROWS = 6000  # past uploads.services.statement_imports.ANALYZE_AFTER_ROWS


def statement_csv(path: Path) -> Path:
    lines = ["Date,Payee,Amount"] + [
        f"2024-{1 + index % 12:02d}-{1 + index % 28:02d},Shop {index},-{1 + index % 90}.{index % 100:02d}"
        for index in range(ROWS)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def blocked_by(watcher: psycopg.Connection[Any], holder: psycopg.Connection[Any]) -> bool:
    """Some backend waits for a lock `holder` holds."""
    row = watcher.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [holder.info.backend_pid]
    ).fetchone()
    return bool(row and row[0])


def crash_while_blocked(cluster: Postgres, dbname: str, table: str, command: list[str], env: dict[str, str]) -> None:
    """Run `command`, wait until it waits on `table` (locked by us), SIGKILL the postmaster, restart."""
    holder = cluster.connect(dbname)
    holder.execute("BEGIN")
    holder.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    step = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with cluster.connect(dbname) as watcher:
            wait_for(lambda: step.poll() is not None or blocked_by(watcher, holder), f"a wait on {table}")
        assert step.poll() is None, step.communicate()
        cluster.crash()
        _out, _err = step.communicate(timeout=60)
        assert step.returncode != 0  # the step saw its database die
    finally:
        if step.poll() is None:
            step.kill()
            step.wait()
        holder.close()
    cluster.start()


def books(cluster: Postgres, dbname: str) -> dict[str, int]:
    with cluster.connect(dbname) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM ledger_transaction), (SELECT count(*) FROM uploads_importedkey), "
            "(SELECT count(*) FROM uploads_statementimport WHERE status = 'committed')"
        ).fetchone()
    assert row is not None
    return {"transactions": row[0], "keys": row[1], "committed": row[2]}


def test_a_crash_mid_preview_and_mid_commit_leaves_nothing_and_a_retry_imports_each_row_once(
    fault_cluster: Postgres, tmp_path: Path
) -> None:
    dbname = "ft_crash_import"
    env = app_env(fresh_database(fault_cluster, dbname), tmp_path / "uploads")
    csv = statement_csv(tmp_path / "big.csv")
    account = drive(env, "setup")[0]["account"]
    statement = drive(env, f"upload:{account}:{csv}")[0]
    assert statement["status"] == "uploaded"
    sid = statement["id"]

    # 1. Killed mid-preview: the rows are staged in the preview's transaction, the near-match step waits.
    crash_while_blocked(fault_cluster, dbname, "ledger_transaction", [PYTHON, DRIVER, f"preview:{sid}"], env)
    assert books(fault_cluster, dbname) == {"transactions": 0, "keys": 0, "committed": 0}
    after, refused, _ok, retried = drive(env, f"state:{sid}", f"commit:{sid}", "check", f"retry:{sid}")
    assert after["status"] == "previewing" and after["interrupted"] is True
    assert "refused" in refused and refused["transactions"] == 0  # never silently committable
    assert retried["status"] == "previewed" and retried["counts"]["new"] == ROWS

    # 2. Killed mid-commit: every transaction and key is inserted, the history entry waits.
    crash_while_blocked(fault_cluster, dbname, "ledger_auditentry", [PYTHON, DRIVER, f"commit:{sid}"], env)
    assert books(fault_cluster, dbname) == {"transactions": 0, "keys": 0, "committed": 0}
    after, _ok, committed, again_refused = drive(env, f"state:{sid}", "check", f"commit:{sid}", f"retry:{sid}")
    assert after["status"] == "previewed"  # exactly as before the commit
    assert committed["status"] == "committed" and committed["counts"]["imported"] == ROWS
    assert "refused" in again_refused
    assert books(fault_cluster, dbname) == {"transactions": ROWS, "keys": ROWS, "committed": 1}

    # A second import of the same file adds nothing.
    second = drive(env, f"upload:{account}:{csv}")[0]["id"]
    _previewed, second_commit, _ok = drive(env, f"preview:{second}", f"commit:{second}", "check")
    assert second_commit["counts"]["imported"] == 0 and second_commit["counts"]["duplicate"] == ROWS
    assert books(fault_cluster, dbname)["transactions"] == ROWS

    # Crash recovery forgot every table's activity counts; the import analyzed what it grew.
    with fault_cluster.connect(dbname) as conn:
        stats = dict(
            conn.execute(
                "SELECT c.relname, c.reltuples >= %s AND s.last_analyze IS NOT NULL FROM pg_class c "
                "JOIN pg_stat_user_tables s ON s.relid = c.oid "
                "WHERE c.relname IN ('ledger_transaction', 'uploads_importedkey', 'uploads_statementimportrow')",
                [ROWS],
            ).fetchall()
        )
    assert stats == {"ledger_transaction": True, "uploads_importedkey": True, "uploads_statementimportrow": True}


def test_a_killed_command_line_import_leaves_no_committable_import(fault_cluster: Postgres, tmp_path: Path) -> None:
    dbname = "ft_killed_command"
    env = app_env(fresh_database(fault_cluster, dbname), tmp_path / "uploads")
    account = drive(env, "setup")[0]["account"]
    csv = statement_csv(tmp_path / "big.csv")
    command = [PYTHON, "manage.py", "import_statement", str(csv), "--account", str(account)]

    holder = fault_cluster.connect(dbname)
    holder.execute("BEGIN")
    holder.execute("LOCK TABLE ledger_auditentry IN ACCESS EXCLUSIVE MODE")
    run = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with fault_cluster.connect(dbname) as watcher:
            # Previewed and committing: the command is past its preview, in its commit.
            wait_for(lambda: run.poll() is not None or blocked_by(watcher, holder), "the commit")
            assert run.poll() is None, run.communicate()
            run.send_signal(signal.SIGKILL)
            run.wait(timeout=30)
            holder.execute("ROLLBACK")
            # Its backend finds the client gone and rolls back.
            wait_for(
                lambda: (
                    not watcher.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
                        "AND backend_type = 'client backend' AND pid <> %s",
                        [dbname, holder.info.backend_pid],
                    ).fetchone()
                ),
                "the killed command's backend to end",
            )
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        holder.close()

    with fault_cluster.connect(dbname) as conn:
        leftovers = conn.execute("SELECT status FROM uploads_statementimport").fetchall()
    assert leftovers == []  # nothing previewed, so nothing to commit later
    assert books(fault_cluster, dbname)["transactions"] == 0
    result = manage(env, "import_statement", str(csv), "--account", str(account))
    assert f"imported: {ROWS}" in result.stdout
    assert books(fault_cluster, dbname) == {"transactions": ROWS, "keys": ROWS, "committed": 1}
    manage(env, "check_ledger")
