# ruff: noqa: S608 - the SQL names are this module's own fixed test identifiers, never input
"""The backup, restore-test and role scripts of deploy/kustomize/base run for real against this machine's
PostgreSQL (DATABASE_URL's server, as its superuser), each in databases of its own that it drops again.
They are the same files the CronJobs mount from their ConfigMaps."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import require_tool
from tests.deploy.manifests import KUSTOMIZE

BACKUP = KUSTOMIZE / "base" / "backup"
ROLES_SQL = KUSTOMIZE / "base" / "postgres" / "roles.sql"
SUFFIX = os.environ.get("PYTEST_XDIST_WORKER", "main")


def server_url(database: str) -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    return f"{parts.scheme}://{parts.netloc}/{database}"


def psql(database: str, *args: str) -> str:
    result = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--dbname", server_url(database), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def run_script(script: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    # A name is one of the scripts in BACKUP; a path is a test's own altered copy.
    return subprocess.run(
        ["bash", str(BACKUP / script if isinstance(script, str) else script)],
        env={**os.environ, "BACKUP_SCRIPTS": str(BACKUP), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    for tool in ("psql", "pg_dump", "pg_restore"):
        require_tool(tool, install_hint="the PostgreSQL client tools (Debian: postgresql-client)")
    source, scratch = f"ft_deploy_backup_src_{SUFFIX}", f"ft_deploy_backup_restore_{SUFFIX}"
    for name in (source, scratch):
        psql("postgres", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", "-c", f"CREATE DATABASE {name}")
    # The two tables (and columns) the balances query reads, with a few accounts and transactions.
    psql(
        source,
        "-c",
        "CREATE TABLE ledger_account (id bigint PRIMARY KEY, household_id bigint, currency text,"
        " opening_balance numeric(19,4));"
        " CREATE TABLE ledger_transaction (id bigint PRIMARY KEY, account_id bigint, amount numeric(19,4));"
        " INSERT INTO ledger_account VALUES (1, 1, 'EUR', 100), (2, 1, 'USD', 0), (3, 2, 'EUR', 5.5);"
        " INSERT INTO ledger_transaction VALUES (1, 1, -10.5), (2, 1, 3.25), (3, 3, -0.0001);",
    )
    yield source, scratch
    for name in (source, scratch):
        psql("postgres", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_backup_prunes_old_and_partial_files_before_dumping_and_writes_balances(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    source, _ = databases
    old = tmp_path / "financetracker-20200101T000000Z.dump"
    old.write_bytes(b"old")
    stale = time.time() - 20 * 86400
    os.utime(old, (stale, stale))
    leftover = tmp_path / "financetracker-20200102T000000Z.dump.partial"
    leftover.write_bytes(b"half a dump")
    nested = tmp_path / "keep" / "financetracker-20200101T000000Z.dump"
    nested.parent.mkdir()
    nested.write_bytes(b"not ours")
    os.utime(nested, (stale, stale))

    result = run_script("backup.sh", BACKUP_DIR=str(tmp_path), BACKUP_DATABASE_URL=server_url(source))

    assert result.returncode == 0, result.stderr
    assert not old.exists() and not leftover.exists()
    assert nested.exists()  # -maxdepth 1: nothing below the backup directory is touched
    assert result.stdout.index("prune") < result.stdout.index("snapshot")
    (dump,) = tmp_path.glob("financetracker-*.dump")
    assert not list(tmp_path.glob("*.partial"))
    balances = dump.with_suffix(".balances").read_text().splitlines()
    assert balances == ["1,1,EUR,92.7500", "2,1,USD,0.0000", "3,2,EUR,5.4999"]
    assert dump.with_suffix(".sha256").read_text().count("financetracker-") == 2


def test_backup_succeeds_when_the_snapshot_session_exits_before_the_script_waits_for_it(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    # bash unsets a coprocess's NAME_PID once it has been reaped; on a busy machine psql can exit after
    # `\\q` before the script reaches `wait` (CI saw "SNAP_PID: unbound variable"). A pause forces that order.
    source, _ = databases
    lines = (BACKUP / "backup.sh").read_text().splitlines(keepends=True)
    (wait_line,) = [index for index, line in enumerate(lines) if line.startswith("wait ")]
    slow = tmp_path / "slow-backup.sh"
    slow.write_text("".join([*lines[:wait_line], "sleep 0.5\n", *lines[wait_line:]]))
    backups = tmp_path / "backups"
    backups.mkdir()

    result = run_script(slow, BACKUP_DIR=str(backups), BACKUP_DATABASE_URL=server_url(source))

    assert result.returncode == 0, result.stderr
    assert len(list(backups.glob("financetracker-*.dump"))) == 1


def test_a_failed_dump_leaves_no_partial_file_behind(databases: tuple[str, str], tmp_path: Path) -> None:
    result = run_script("backup.sh", BACKUP_DIR=str(tmp_path), BACKUP_DATABASE_URL=server_url("ft_no_such_database"))
    assert result.returncode != 0
    assert list(tmp_path.iterdir()) == []


def test_restore_test_restores_the_newest_dump_and_compares_balances(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    source, scratch = databases
    assert run_script("backup.sh", BACKUP_DIR=str(tmp_path), BACKUP_DATABASE_URL=server_url(source)).returncode == 0

    result = run_script("restore-test.sh", BACKUP_DIR=str(tmp_path), RESTORE_DATABASE_URL=server_url(scratch))

    assert result.returncode == 0, result.stderr
    assert "3 account balances identical" in result.stdout
    assert psql(scratch, "-c", "SELECT count(*) FROM ledger_transaction") == "3"


def test_restore_test_fails_when_the_restored_balances_differ(databases: tuple[str, str], tmp_path: Path) -> None:
    source, scratch = databases
    assert run_script("backup.sh", BACKUP_DIR=str(tmp_path), BACKUP_DATABASE_URL=server_url(source)).returncode == 0
    (balances,) = tmp_path.glob("*.balances")
    balances.write_text(balances.read_text().replace("92.7500", "92.7600"))
    (tmp_path / balances.with_suffix(".sha256").name).unlink()  # a checksum would catch it first

    result = run_script("restore-test.sh", BACKUP_DIR=str(tmp_path), RESTORE_DATABASE_URL=server_url(scratch))

    assert result.returncode != 0
    assert "restore test FAILED" in result.stderr


def test_restore_test_fails_without_any_dump(tmp_path: Path) -> None:
    require_tool("psql", install_hint="the PostgreSQL client tools (Debian: postgresql-client)")
    result = run_script("restore-test.sh", BACKUP_DIR=str(tmp_path), RESTORE_DATABASE_URL=server_url("postgres"))
    assert result.returncode != 0 and "no dump" in result.stderr


@pytest.fixture
def app_role() -> Iterator[tuple[str, str]]:
    require_tool("psql", install_hint="the PostgreSQL client tools (Debian: postgresql-client)")
    role, database = f"ft_deploy_role_{SUFFIX}", f"ft_deploy_role_db_{SUFFIX}"
    yield role, database
    psql("postgres", "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", "-c", f"DROP ROLE IF EXISTS {role}")


def apply_roles(role: str, database: str, password: str) -> None:
    psql("postgres", "-v", f"app_role={role}", "-v", f"app_db={database}", "-v", f"app_password={password}",
         "-f", str(ROLES_SQL))  # fmt: skip


def test_roles_sql_makes_a_non_superuser_owner_and_rotates_its_password(app_role: tuple[str, str]) -> None:
    role, database = app_role
    apply_roles(role, database, "first-password")
    first = psql("postgres", "-c", f"SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'")
    flags = psql(
        "postgres", "-c", f"SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = '{role}'"
    )
    owner = psql("postgres", "-c", f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{database}'")
    assert flags == "f|f|f" and owner == role
    assert first.startswith("SCRAM-SHA-256$")
    settings = psql("postgres", "-c", f"SELECT setconfig FROM pg_db_role_setting WHERE setrole = '{role}'::regrole")
    assert "statement_timeout=300s" in settings and "idle_in_transaction_session_timeout=60s" in settings

    # Rotation: the same script again with the new password from the Secret changes the stored verifier.
    apply_roles(role, database, "second-password")
    second = psql("postgres", "-c", f"SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'")
    assert second != first and second.startswith("SCRAM-SHA-256$")


def test_roles_sql_demotes_an_app_role_that_was_the_superuser(app_role: tuple[str, str]) -> None:
    role, database = app_role
    psql("postgres", "-c", f"CREATE ROLE {role} SUPERUSER LOGIN", "-c", f"CREATE DATABASE {database} OWNER {role}")
    apply_roles(role, database, "a-password")
    assert psql("postgres", "-c", f"SELECT rolsuper FROM pg_roles WHERE rolname = '{role}'") == "f"
