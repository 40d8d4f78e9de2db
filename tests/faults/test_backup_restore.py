"""Backup and restore drill: `deploy/backup-restore.sh backup` of a database with two years of books, an
import and receipts, then `restore` into an empty database and an empty uploads directory. check_ledger and
verify_uploads pass (the script runs them), every balance and report figure is equal, and every attachment
downloads with its SHA-256. The script is what deploy/README.md's restore steps run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import require_tool
from tests.faults.throwaway import PYTHON, ROOT, Postgres, app_env, drive, fresh_database

SCRIPT = ROOT / "deploy" / "backup-restore.sh"
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
CSV = b"Date,Payee,Amount\n2024-03-15,Tram,-2.80\n2024-03-16,Bakery,-3.10\n"


def run_script(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        ["bash", str(SCRIPT), *args],
        cwd=ROOT,
        env={**env, "PYTHON": PYTHON},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_dump_and_the_uploads_restore_into_empty_ones_with_every_figure_and_file(
    fault_cluster: Postgres, tmp_path: Path
) -> None:
    for program in ("pg_dump", "pg_restore", "tar", "sha256sum"):
        require_tool(program, install_hint="apt-get install postgresql-client tar coreutils")
    source = app_env(fresh_database(fault_cluster, "ft_backup_source"), tmp_path / "uploads")
    person = drive(source, "seed", "setup")[1]
    receipts = []
    for index in range(3):
        receipt = tmp_path / f"receipt{index}.pdf"
        receipt.write_bytes(PDF + f"% receipt {index}\n".encode())
        receipts.append(f"attach:{person['household']}:{receipt}")
    statement = tmp_path / "statement.csv"
    statement.write_bytes(CSV)
    imported = drive(source, *receipts, f"upload:{person['account']}:{statement}")[-1]["id"]
    drive(source, f"preview:{imported}", f"commit:{imported}")
    before = drive(source, "figures")[0]

    backup = tmp_path / "backup"
    run_script(source, "backup", str(backup))
    assert sorted(os.listdir(backup)) == ["SHA256SUMS", "financetracker.dump", "uploads.tar"]

    # Empty ones: a database with nothing in it (not even the schema) and an empty uploads directory.
    with fault_cluster.connect("postgres") as conn:
        conn.execute('CREATE DATABASE "ft_backup_restored"')
    target = app_env(fault_cluster.url("ft_backup_restored"), tmp_path / "restored-uploads")
    output = run_script(target, "restore", str(backup))
    assert "ledger OK" in output and "uploads OK: 4 files" in output  # 3 receipts and the statement

    after = drive(target, "figures")[0]
    assert after == before
    downloads = {key: value for key, value in after.items() if key.startswith("attachment:")}
    assert len(downloads) == 3 and all(status == 200 and same for status, _digest, same in downloads.values())
    assert all(value[0] == 200 for key, value in after.items() if not key.startswith("attachment:")), after


def _restore_flags(text: str) -> list[str]:
    joined = text.replace("\\\n", " ")
    start = joined.index("pg_restore --clean")
    flags = []
    for word in joined[start:].split()[1:]:
        if not word.startswith("--"):
            break  # the dump's path: the command ends there
        if not word.startswith("--dbname"):
            flags.append(word)
    return flags


def test_the_readmes_restore_command_is_the_drills() -> None:
    readme = (ROOT / "deploy" / "README.md").read_text()
    section = readme[readme.index("## Backup and restore") : readme.index("## Upgrading PostgreSQL")]
    assert "deploy/backup-restore.sh restore" in section and "verify_uploads" in section
    assert _restore_flags(section) == _restore_flags(SCRIPT.read_text())
