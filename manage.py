#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

NO_DATABASE = """DATABASE_URL is not set, so there is no database to talk to.
  - The quick-start database (the one `python3 dev.py serve` uses): python3 dev.py manage {command}
  - Any other PostgreSQL: DATABASE_URL=postgres://user:password@host:5432/dbname python manage.py {command}"""


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "financetracker.settings")
    asks_for_help = any(
        arg in ("help", "--help", "-h", "--version", "version") for arg in sys.argv[1:2] + sys.argv[-1:]
    )
    if not (os.environ.get("DATABASE_URL") or os.environ.get("DATABASE_URL_FILE") or asks_for_help):
        # Guessing a server (127.0.0.1:5432) would quietly run against whatever happens to listen there.
        command = " ".join(sys.argv[1:]) or "<command>"
        sys.stderr.write(NO_DATABASE.format(command=command) + "\n")
        sys.exit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
