"""ledger/TRIGGERS.md lists every trigger and function the migrations create, with the migration that
defines it: a migration that adds one without a line in the index fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INDEX = ROOT / "ledger" / "TRIGGERS.md"
APPS = ("ledger", "budgets", "uploads")

_CREATE = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?(?P<kind>TRIGGER|FUNCTION)\s+(?P<name>[a-z_][a-z0-9_]*)", re.I
)
_ROW = re.compile(r"^\|\s*`(?P<name>[a-z0-9_]+)`\s*\|\s*(?P<kind>trigger|function)\s*\|[^|]*\|\s*(?P<where>[^|]+)\|")


def created_in_migrations() -> dict[tuple[str, str], list[str]]:
    """(kind, name) -> the migrations ("app/0002_name") whose SQL creates or replaces it, in order."""
    found: dict[tuple[str, str], list[str]] = {}
    for app in APPS:
        for path in sorted((ROOT / app / "migrations").glob("[0-9]*.py")):
            migration = f"{app}/{path.stem}"
            for match in _CREATE.finditer(path.read_text()):
                places = found.setdefault((match["kind"].lower(), match["name"]), [])
                if migration not in places:
                    places.append(migration)
    return found


def listed_in_index() -> dict[tuple[str, str], str]:
    """(kind, name) -> the 'defined in' column of ledger/TRIGGERS.md."""
    rows: dict[tuple[str, str], str] = {}
    for line in INDEX.read_text().splitlines():
        if match := _ROW.match(line):
            rows[(match["kind"], match["name"])] = match["where"]
    return rows


def test_the_parser_reads_triggers_and_functions() -> None:
    sql = "CREATE CONSTRAINT TRIGGER split_sum AFTER INSERT ON t; CREATE OR REPLACE FUNCTION f_x() RETURNS trigger"
    assert [(m["kind"].lower(), m["name"]) for m in _CREATE.finditer(sql)] == [
        ("trigger", "split_sum"),
        ("function", "f_x"),
    ]


def test_every_trigger_and_function_a_migration_creates_is_in_the_index() -> None:
    created = created_in_migrations()
    listed = listed_in_index()
    assert sorted(set(created) - set(listed)) == [], "add these to ledger/TRIGGERS.md"
    assert sorted(set(listed) - set(created)) == [], "no migration creates these any more"


def test_the_index_names_each_ones_migrations() -> None:
    listed = listed_in_index()
    for key, migrations in created_in_migrations().items():
        for migration in migrations:
            assert migration in listed.get(key, ""), f"{key[1]}: ledger/TRIGGERS.md does not name {migration}"
