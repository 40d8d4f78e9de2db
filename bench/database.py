"""What every benchmark starts from: the production settings with quiet logs (`bench_environment`), Django
started in the benchmark's process on its scratch database (`start_django`), that database created when
missing and migrated (`ensure_database`)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def bench_environment(default_database: str, **overrides: str) -> dict[str, str]:
    """The settings a benchmark runs with: production (DEBUG off), logs at WARNING (one access-log line per
    request would drown the figures), DATABASE_URL defaulting to the benchmark's scratch database."""
    return {
        "DJANGO_SETTINGS_MODULE": "financetracker.settings",
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{default_database}"),
        **overrides,
    }


def start_django(default_database: str, *, uploads_in_tmp: bool = False, **overrides: str) -> None:
    """Set up Django in this process with bench_environment (the caller's environment wins)."""
    sys.path.insert(0, str(ROOT))
    if uploads_in_tmp:
        overrides["UPLOADS_ROOT"] = tempfile.mkdtemp(prefix="ft-bench-uploads-")
    for name, value in bench_environment(default_database, ALLOWED_HOSTS="testserver", **overrides).items():
        os.environ.setdefault(name, value)
    import django

    django.setup()


def ensure_database() -> None:
    from psycopg import connect

    settings = connection.settings_dict
    with connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{settings["NAME"]}"')
    call_command("migrate", verbosity=0)
