"""Apply Django migrations exactly once, however many pods start at the same time.

Runs as the app Deployment's init container (`python /app/migrate_with_lock.py`). It holds a
PostgreSQL session-level advisory lock around `manage.py migrate --noinput`: the first pod of a
release migrates, the others wait on the lock and then find nothing left to apply. The lock is freed
when the session ends, so a crashed pod never leaves it held.
"""

from __future__ import annotations

import os
import sys

# Any fixed 64-bit number works; this one is "financetracker migrate" in a few bits.
LOCK_KEY = 0x46540001


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "financetracker.settings")
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    with connection.cursor() as cursor:
        print(f"migrate: waiting for advisory lock {LOCK_KEY}", flush=True)
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        # The app role carries statement_timeout = 300s (deploy/kustomize/base/postgres/roles.sql); a
        # migration that rewrites a large table may need longer, and this session is the only one affected.
        cursor.execute("SET statement_timeout = 0")
        try:
            call_command("migrate", interactive=False, verbosity=1)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
