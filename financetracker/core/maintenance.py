"""Upkeep after a bulk write, so reads never depend on autovacuum having run.

The machines run PostgreSQL with autovacuum off, and a crash restart forgets its counts. After a bulk write
(a large import, the demo's seeding) two things would then wait for a vacuum that never comes:

- planner statistics: plans made for the table's old size (bench/README.md saw the list page 40% slower
  before an ANALYZE);
- the pending lists of GIN indexes: with `fastupdate` (PostgreSQL's default) new entries of a trigram index
  are appended to an unsorted list that every search then scans in full until a vacuum merges it. On the
  million-row household the search's SQL took 6.5 ms with the lists its load left and 2.1 ms merged.

Callers run ANALYZE themselves (each knows which columns it needs); `merge_gin_pending_lists` does the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import DatabaseError, connection, transaction

_GIN_INDEXES_SQL = """
SELECT i.indexrelid::regclass::text
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_am am ON am.oid = c.relam
WHERE am.amname = 'gin' AND (%s::text[] IS NULL OR i.indrelid::regclass::text = ANY(%s::text[]))
ORDER BY 1
"""


def merge_gin_pending_lists(tables: Sequence[str] | None = None) -> list[str]:
    """Merge the pending lists of the GIN indexes on `tables` (None: every table) into the indexes proper;
    returns the indexes merged. Best effort: the write it follows has committed, and a database user that
    may not maintain an index (only its owner may) keeps searching as before."""
    names = None if tables is None else list(tables)
    merged: list[str] = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_GIN_INDEXES_SQL, [names, names])
            for (index,) in cursor.fetchall():
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
                merged.append(index)
    except DatabaseError:
        return []
    return merged
