"""The newcomer's commands: `manage.py` without a database says what to do; `dev.py` knows `manage` and `stop`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DATABASE_URL")}
    clean.update(env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def test_manage_without_database_url_explains_instead_of_guessing_a_server() -> None:
    result = run("manage.py", "check_ledger", DEBUG="1")
    assert result.returncode == 2
    assert "DATABASE_URL is not set" in result.stderr
    assert "python3 dev.py manage check_ledger" in result.stderr
    assert "Traceback" not in result.stderr


def test_manage_help_works_without_a_database() -> None:
    result = run("manage.py", "check_ledger", "--help", DEBUG="1")
    assert result.returncode == 0
    assert "--household" in result.stdout


def test_dev_py_lists_manage_and_stop() -> None:
    result = run("dev.py")
    assert result.returncode == 2
    assert "dev.py manage COMMAND" in result.stdout
    assert "dev.py stop" in result.stdout
