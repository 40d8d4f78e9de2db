"""The benchmarks' scratch database: created when missing, then migrated. Import after django.setup()."""

from __future__ import annotations

from django.core.management import call_command
from django.db import connection


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
