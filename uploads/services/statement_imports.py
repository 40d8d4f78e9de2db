"""Writes for statement imports: upload → preview → commit, the import's lifecycle, and its CSV profiles.

Import pipeline, set-based so the cost per row is a few microseconds of Python plus bulk SQL:
1. upload: sniff the bytes, hash, store under a generated name (status uploaded).
2. preview (staging in uploads.staging): parse (streaming) → COPY into a temporary table → one INSERT … SELECT that numbers
   identical rows (window function), builds each row's key, anti-joins ImportedKey, finds near matches and
   writes each staging row once, in file order, returning the counts. Query count does not depend on the
   number of rows. Status previewing while it runs (committed apart), previewed with its rows in one transaction.
3. commit (one DB transaction): one statement inserts the new transactions under the ids the preview reserved,
   and their ImportedKeys, reading the staged rows without writing them back (a row staged new shows imported
   once its import is committed: StatementImportRow.objects); merges link keys to existing transactions;
   rules run set-based; the import is marked committed — for good (trigger of migration 0006).

Lifecycle: a preview or commit holds the import's row lock for its whole transaction, so "previewing" with the
lock free means the preview died with its process or the database: `statement_import_is_interrupted`. Such an
import is never committable; `statement_import_retry` re-runs its preview, `statement_import_discard` deletes
it with its rows and file.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from financetracker.core import metrics
from financetracker.core.errors import ConflictError
from financetracker.core.maintenance import merge_gin_pending_lists
from financetracker.core.money import currency_exponent
from ledger.audit import audit_record_import
from ledger.models import Account, TransactionStatus, User
from ledger.rules import rules_apply_to_transactions_sql
from uploads import files, sniffing, suggestions
from uploads.importers import FORMATS, FormatError, ImportFileError, parse_statement
from uploads.measuring import measure
from uploads.models import (
    CsvProfile,
    ImportStatus,
    RowStatus,
    StatementImport,
    StatementImportRow,
)
from uploads.staging import SKIPPED_PREFIX, STAGE_SQL, Progress, progress_by_bytes, stage_rows

# Past this many rows, the tables an import grew are analyzed once it commits: the planner must not keep
# estimates of an empty table (after a crash restart nothing else refreshes them until autovacuum notices).
ANALYZE_AFTER_ROWS = 5000


class UndecidedNearMatchesError(ConflictError):
    """A commit that would leave near matches undecided: each must be merged, kept as new, or ignored."""

    def __init__(self, rows: list[tuple[int, int, str]]) -> None:
        shown = "; ".join(f"line {line} (row {row_id}): {reason}" for row_id, line, reason in rows[:20])
        more = f" and {len(rows) - 20} more" if len(rows) > 20 else ""
        super().__init__(
            f"{len(rows)} near match(es) need a decision — merge into the existing transaction or keep as new: "
            f"{shown}{more}."
        )
        self.row_ids = [row_id for row_id, _line, _reason in rows]


# --- statement import: upload -----------------------------------------------------------------------


def csv_profile_save(*, account: Account, name: str, mapping: dict[str, Any]) -> CsvProfile:
    profile, _created = CsvProfile.objects.update_or_create(
        household_id=account.household_id, account=account, name=name.strip()[:120], defaults={"mapping": mapping}
    )
    return profile


def csv_profile_delete(*, profile: CsvProfile) -> None:
    profile.delete()


def statement_import_upload(
    *,
    account: Account,
    upload: IO[bytes],
    original_name: str,
    declared_size: int | None = None,
    format: str | None = None,
    mapping: dict[str, Any] | None = None,
    profile: str | None = None,
    save_profile: str | None = None,
    user: User | None = None,
) -> StatementImport:
    """Store a statement file and create its import (not yet parsed: see statement_import_preview)."""
    received = measure(upload, declared_size=declared_size, limit=settings.IMPORT_MAX_BYTES, what="A statement file")
    try:
        chosen = FORMATS.for_upload(received.head, format)
    except FormatError as error:
        raise ValidationError({error.field: error.messages}) from None
    used_mapping: dict[str, Any] = {}
    if profile:
        saved = CsvProfile.objects.filter(household_id=account.household_id, account=account, name=profile).first()
        if saved is None:
            raise ValidationError({"profile": [f"No profile {profile!r} for this account."]})
        used_mapping = dict(saved.mapping)
    if mapping:
        used_mapping.update(mapping)
    if errors := chosen.option_errors(used_mapping):
        raise ValidationError({"mapping": errors})
    if save_profile and chosen.maps_columns:
        csv_profile_save(account=account, name=save_profile, mapping=used_mapping)
    name = files.store(upload, "imports", account.household_id)
    try:
        return StatementImport.objects.create(
            household_id=account.household_id,
            account=account,
            format=chosen.name,
            file=name,
            original_name=sniffing.clean_filename(original_name, default="statement"),
            sha256=received.sha256,
            size=received.size,
            mapping=used_mapping,
            created_by=user,
        )
    except BaseException:
        # No row, no file: a failed insert leaves nothing behind.
        files.delete_now(name)
        raise


# --- statement import: preview (rows staged by uploads.staging) -----------------------------------


def _open(statement_import: StatementImport) -> IO[bytes]:
    return default_storage.open(statement_import.file.name or "", "rb")


def _counts_of(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Rows by status; "skipped" (not transactions: totals lines, opening balances) apart from "ignored"."""
    counts = dict.fromkeys([*RowStatus.values, "skipped"], 0)
    for status, number in pairs:
        counts[status] = number
    counts["rows"] = sum(counts.values())
    return counts


# A committed import's rows staged new (or near matches kept as new) were imported (StatementImportRow.objects).
_COUNTS_SQL = (
    "SELECT CASE WHEN status = 'ignored' AND starts_with(reason, %s) THEN 'skipped' "
    "WHEN %s AND status IN ('new', 'near_match') THEN 'imported' ELSE status END, count(*) "
    "FROM uploads_statementimportrow WHERE household_id = %s AND statement_import_id = %s GROUP BY 1"
)


def _counts(statement_import: StatementImport) -> dict[str, int]:
    """Rows by the status they show, in one pass over the import's rows."""
    committed = statement_import.status == ImportStatus.COMMITTED
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS_SQL, [SKIPPED_PREFIX, committed, statement_import.household_id, statement_import.pk])
        return _counts_of(cursor.fetchall())


# --- statement import: lifecycle --------------------------------------------------------------------

# A preview or commit holds its import's row FOR UPDATE for its whole transaction; FOR KEY SHARE SKIP LOCKED
# finds the row only while no such transaction runs, and blocks nobody.
_IDLE_SQL = "SELECT 1 FROM uploads_statementimport WHERE id = %s FOR KEY SHARE SKIP LOCKED"


def _lock_or_refuse(statement_import: StatementImport) -> StatementImport:
    """The import, locked for this transaction; 409 while another preview or commit of it runs."""
    try:
        return StatementImport.objects.select_for_update(nowait=True).get(pk=statement_import.pk)
    except DatabaseError:
        raise ConflictError("This import is being previewed or committed right now; try again shortly.") from None


def statement_import_is_interrupted(statement_import: StatementImport) -> bool:
    """Previewing, but no preview runs: its process or the database died. Retry or discard it."""
    if statement_import.status != ImportStatus.PREVIEWING:
        return False
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_IDLE_SQL, [statement_import.pk])
        return cursor.fetchone() is not None


def _begin_preview(statement_import: StatementImport) -> None:
    # Committed on its own (outside a caller's transaction): a preview that dies leaves "previewing", never a
    # committable "previewed" without rows.
    with transaction.atomic():
        locked = _lock_or_refuse(statement_import)
        if locked.status == ImportStatus.COMMITTED:
            raise ConflictError("This import is committed; it cannot be previewed again.")
        locked.status = ImportStatus.PREVIEWING
        locked.save(update_fields=["status"])
    statement_import.status = ImportStatus.PREVIEWING


# What the planner needs of each table an import grows: the full statistics of the ledger (its text columns feed
# the search plans), only the columns the import's own reads filter on for its bookkeeping tables (their text
# columns are keys and hashes that only unique indexes read, and sorting 30,000 of them is most of an ANALYZE).
_ANALYZE_SQL = {
    "ledger_transaction": "ANALYZE ledger_transaction",
    "uploads_importedkey": "ANALYZE uploads_importedkey (household_id, account_id, transaction_id, ignored)",
    "uploads_statementimportrow": (
        "ANALYZE uploads_statementimportrow (household_id, statement_import_id, line_number, status)"
    ),
}
# Autovacuum's own rule (autovacuum_analyze_scale_factor): a table is analyzed once the rows written since its last
# statistics exceed a tenth of the rows those statistics counted.
ANALYZE_SCALE_FACTOR = 0.1
_RELTUPLES_SQL = "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'"


def _analyze_after_commit(grown: dict[str, int]) -> None:
    """Fresh planner statistics for the tables a large import grew by a tenth or more (the machines run PostgreSQL
    with autovacuum off, and a crash restart forgets its counts), once the import has committed."""
    tables = [table for table, rows in grown.items() if rows >= ANALYZE_AFTER_ROWS]
    if not tables:
        return

    def analyze() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(_RELTUPLES_SQL, [tables])
                known = dict(cursor.fetchall())
                for table in tables:
                    counted = known.get(table, -1)
                    if counted < 0 or grown[table] >= ANALYZE_SCALE_FACTOR * counted:  # -1: never analyzed
                        cursor.execute(_ANALYZE_SQL[table])
        except DatabaseError:  # statistics are an optimisation; the import itself has committed
            pass
        if "ledger_transaction" in tables:
            # The import's rows sit in the trigram indexes' pending lists, which every search would scan.
            merge_gin_pending_lists(["ledger_transaction"])

    transaction.on_commit(analyze)


def statement_import_preview(*, statement_import: StatementImport, progress: Progress | None = None) -> StatementImport:
    """Parse, stage and de-duplicate. A file that cannot be read at all marks the import failed.

    Refused (409) for a committed import and while another preview or commit of it runs.
    """
    started = time.monotonic()
    _begin_preview(statement_import)
    account = statement_import.account
    places = currency_exponent(account.currency)
    params = {"household": statement_import.household_id, "import": statement_import.pk, "account": account.pk}
    try:
        with transaction.atomic():
            locked = _lock_or_refuse(statement_import)
            if locked.status != ImportStatus.PREVIEWING:
                raise ConflictError(f"This import is {locked.status}; it cannot be previewed now.")
            StatementImportRow.objects.staged().filter(
                household_id=statement_import.household_id, statement_import=statement_import
            ).delete()
            with _open(statement_import) as stream:
                rows = parse_statement(statement_import.format, stream, mapping=statement_import.mapping)
                count = stage_rows(rows, places, progress_by_bytes(progress, stream, statement_import.size))
                if progress is not None:
                    progress(count, 1.0)
            with connection.cursor() as cursor:
                # Room for the numbering sort in memory; it spills to disk beyond this, so memory stays bounded.
                # No ANALYZE of the temporary table: the planner reads its size, and the plan is the same.
                cursor.execute("SET LOCAL work_mem = '64MB'")
                # One pass over rows that are already in memory: compiling it (JIT, once the planner's estimate of
                # the joins passes jit_above_cost) took longer than running it (10 s of 19 under load).
                cursor.execute("SET LOCAL jit = off")
                cursor.execute(STAGE_SQL, params)
                counts = _counts_of(cursor.fetchall())
                cursor.execute("DROP TABLE import_stage")
            suggestions.suggest_for_import(
                household_id=statement_import.household_id, import_id=statement_import.pk, account_id=account.pk
            )
            # The rows and the state that makes them committable land together.
            statement_import.status = ImportStatus.PREVIEWED
            statement_import.error = ""
            statement_import.counts = counts
            statement_import.save(update_fields=["status", "error", "counts"])
            # The commit reads these rows by the import's index: the planner must know they are there.
            _analyze_after_commit({"uploads_statementimportrow": count})
    except ImportFileError as error:
        statement_import.status = ImportStatus.FAILED
        statement_import.error = str(error)
        statement_import.counts = {}
        statement_import.save(update_fields=["status", "error", "counts"])
        metrics.imports.labels(format=statement_import.format, outcome="failed").inc()
        return statement_import
    metrics.import_duration.observe(time.monotonic() - started)
    return statement_import


def statement_import_retry(*, statement_import: StatementImport, progress: Progress | None = None) -> StatementImport:
    """Run an uploaded, interrupted, failed or previewed import's preview again (409 if committed or running)."""
    return statement_import_preview(statement_import=statement_import, progress=progress)


def statement_import_discard(*, statement_import: StatementImport) -> None:
    """Delete an import that was never committed, with its staged rows and (once this commits) its file."""
    with transaction.atomic():
        locked = _lock_or_refuse(statement_import)
        if locked.status == ImportStatus.COMMITTED:
            raise ConflictError("This import is committed: its rows are in the books. Delete it to drop its record.")
        locked.delete()


# --- statement import: commit -----------------------------------------------------------------------

_RECHECK_SQL = """
UPDATE uploads_statementimportrow r SET status = 'duplicate', reason = 'imported meanwhile', matched_transaction_id = k.transaction_id
  FROM uploads_importedkey k
 WHERE r.household_id = %(household)s AND r.statement_import_id = %(import)s AND r.status IN ('new', 'near_match')
   AND k.household_id = %(household)s AND k.account_id = %(account)s AND k.key = r.key
"""

_MERGE_KEYS_SQL = """
WITH merged AS (
    -- The id the preview reserved for it goes unused (sequences have gaps): it names the existing transaction.
    UPDATE uploads_statementimportrow r SET status = 'merged', transaction_id = r.matched_transaction_id,
           reason = 'merged with transaction ' || r.matched_transaction_id
     WHERE r.household_id = %(household)s AND r.statement_import_id = %(import)s AND r.status = 'near_match'
       AND r.id = ANY(%(merge)s)
 RETURNING r.key, r.matched_transaction_id
), keys AS (
    INSERT INTO uploads_importedkey (household_id, account_id, key, transaction_id, ignored, statement_import_id, created_at)
    SELECT %(household)s, %(account)s, key, matched_transaction_id, false, %(import)s, now() FROM merged
    ON CONFLICT (household_id, account_id, key) DO NOTHING
)
-- The statement confirms the transaction happened: a pending one has posted.
UPDATE ledger_transaction t SET status = 'cleared', updated_by_id = %(user)s, updated_at = now()
  FROM merged WHERE t.id = merged.matched_transaction_id AND t.household_id = %(household)s AND t.status = 'pending'
"""

_IGNORE_SQL = """
WITH ignored AS (
    UPDATE uploads_statementimportrow r SET status = 'ignored', reason = 'ignored when committing'
     WHERE r.household_id = %(household)s AND r.statement_import_id = %(import)s
       AND r.status IN ('new', 'near_match', 'error') AND r.id = ANY(%(ignore)s)
 RETURNING r.key
)
INSERT INTO uploads_importedkey (household_id, account_id, key, transaction_id, ignored, statement_import_id, created_at)
SELECT %(household)s, %(account)s, key, NULL, true, %(import)s, now() FROM ignored WHERE key <> ''
ON CONFLICT (household_id, account_id, key) DO NOTHING
"""

# Rows staged before the preview reserved ids (migration 0010 reserved those it found; an old worker may have
# staged one since): reserved now, so that every row the commit imports names its transaction. Reads the import's
# rows once and normally writes none.
_RESERVE_SQL = """
UPDATE uploads_statementimportrow r
   SET transaction_id = nextval((SELECT pg_get_serial_sequence('ledger_transaction', 'id')::regclass))
 WHERE r.household_id = %(household)s AND r.statement_import_id = %(import)s AND r.status IN ('new', 'near_match')
   AND r.transaction_id IS NULL
"""

# One read of the import's rows feeds both inserts: the rows still new or near matches (kept as new: merged,
# ignored and imported-meanwhile rows were moved off those statuses above) become transactions under the ids the
# preview reserved. No staged row is written: they show imported once the import is committed. (Inserting the
# keys in key order cost more, 0.8 s of server CPU against 0.6 s for 100k keys: the sort is not repaid.)
# Composite foreign keys are deferred, so the order inside does not matter.
_INSERT_SQL = """
WITH source AS (
    SELECT r.transaction_id, r.date, r.amount, r.payee, r.description, r.key
      FROM uploads_statementimportrow r
     WHERE r.household_id = %(household)s AND r.statement_import_id = %(import)s AND r.status IN ('new', 'near_match')
), inserted AS (
    INSERT INTO ledger_transaction (id, household_id, account_id, date, amount, payee, description, status,
                                    created_by_id, updated_by_id, created_at, updated_at)
    SELECT transaction_id, %(household)s, %(account)s, date, amount, payee, description, %(status)s,
           %(user)s, %(user)s, now(), now()
      FROM source
)
INSERT INTO uploads_importedkey (household_id, account_id, key, transaction_id, ignored, statement_import_id, created_at)
SELECT %(household)s, %(account)s, key, transaction_id, false, %(import)s, now() FROM source
"""

# The transactions this commit created (run inside it, after _INSERT_SQL).
_IMPORTED_IDS_SQL = (
    "SELECT transaction_id FROM uploads_statementimportrow "
    "WHERE household_id = %s AND statement_import_id = %s AND status IN ('new', 'near_match')"
)


def statement_import_commit(
    *,
    statement_import: StatementImport,
    user: User | None = None,
    merge: Iterable[int] = (),
    ignore: Iterable[int] = (),
    keep: Iterable[int] = (),
    near_matches: str | None = None,
    accept: Iterable[int] = (),
    accept_suggestions: bool = False,
) -> StatementImport:
    """All or nothing: new rows become transactions, chosen near matches merge, chosen rows are ignored.

    Every near match needs a decision: listed in `merge` (linked to the existing transaction), `keep`
    (imported as a new one) or `ignore`; `near_matches="merge"|"keep"` decides the rest at once. A commit
    that leaves one undecided is refused (409, naming them), so a near match never becomes a silent duplicate.
    A file with rows in error commits nothing (409) unless those rows are listed in `ignore`.
    Suggested categories are applied for the rows in `accept` (all with `accept_suggestions`), after the rules.
    """
    started = time.monotonic()
    merge_ids, ignore_ids = sorted({int(i) for i in merge}), sorted({int(i) for i in ignore})
    keep_ids = sorted({int(i) for i in keep})
    if near_matches not in (None, "", "merge", "keep"):
        raise ValidationError({"near_matches": ['Choose "merge" or "keep".']})
    if set(merge_ids) & set(ignore_ids) or set(keep_ids) & (set(merge_ids) | set(ignore_ids)):
        raise ValidationError({"merge": ["A row cannot be both merged and ignored."]})
    with transaction.atomic():
        locked = StatementImport.objects.select_for_update().get(pk=statement_import.pk)
        if locked.status != ImportStatus.PREVIEWED:
            raise ConflictError(f"This import is {locked.status}; only a previewed import can be committed.")
        # One import into an account at a time, so two overlapping files cannot both add a row.
        Account.objects.select_for_update().filter(pk=locked.account_id).get()
        # Previewed, not committed: each row shows the status it was staged with.
        rows = StatementImportRow.objects.staged().filter(household_id=locked.household_id, statement_import=locked)
        # The preview wrote the rows and their counts together, and only a commit changes a row's status: a status
        # the counts say no row has needs no pass over the import's rows (a re-import: every row a duplicate).
        staged = locked.counts or {}

        def some(*statuses: str) -> bool:
            return any(staged.get(status, 1) != 0 for status in statuses)

        _check_row_choices(rows, merge_ids, {RowStatus.NEAR_MATCH}, "merge", "near matches")
        _check_row_choices(rows, keep_ids, {RowStatus.NEAR_MATCH}, "keep", "near matches")
        if some(RowStatus.NEAR_MATCH):
            undecided = rows.filter(staged_status=RowStatus.NEAR_MATCH).exclude(
                id__in=[*merge_ids, *keep_ids, *ignore_ids]
            )
            if near_matches == "merge":
                merge_ids = sorted({*merge_ids, *undecided.values_list("id", flat=True)})
            elif not near_matches:
                pending = list(undecided.order_by("line_number", "id").values_list("id", "line_number", "reason"))
                if pending:
                    raise UndecidedNearMatchesError(pending)
        _check_row_choices(
            rows,
            ignore_ids,
            {RowStatus.NEW, RowStatus.NEAR_MATCH, RowStatus.ERROR},
            "ignore",
            "new, near matches or errors",
        )
        if some(RowStatus.ERROR):
            unresolved = (
                rows.filter(staged_status=RowStatus.ERROR)
                .exclude(id__in=ignore_ids)
                .values_list("line_number", flat=True)
            )
            lines = list(unresolved[:11])
            if lines:
                shown = ", ".join(str(line) for line in lines[:10]) + (" …" if len(lines) > 10 else "")
                raise ConflictError(
                    f"Rows in error (lines {shown}): fix the file, or list those rows in ignore to skip them."
                )
        params = {
            "household": locked.household_id,
            "import": locked.pk,
            "account": locked.account_id,
            "user": user.pk if user is not None else None,
            "merge": merge_ids,
            "ignore": ignore_ids,
            "status": TransactionStatus.CLEARED,
        }
        importable = some(RowStatus.NEW, RowStatus.NEAR_MATCH)
        imported = ignored_keys = 0
        with connection.cursor() as cursor:
            # The insert's source rows are read twice (transactions, then keys): room to keep them in memory.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")  # as in the preview: compiling costs more than these passes
            if importable:
                cursor.execute(_RECHECK_SQL, params)
            if merge_ids:
                cursor.execute(_MERGE_KEYS_SQL, params)
            if ignore_ids:
                cursor.execute(_IGNORE_SQL, params)
                ignored_keys = max(cursor.rowcount, 0)
            if importable:
                cursor.execute(_RESERVE_SQL, params)
                cursor.execute(_INSERT_SQL, params)
                imported = max(cursor.rowcount, 0)
        if imported:
            rules_apply_to_transactions_sql(
                household_id=locked.household_id,
                transaction_ids_sql=_IMPORTED_IDS_SQL,
                params=[locked.household_id, locked.pk],
            )
        suggestions.accept_suggestions(
            household_id=locked.household_id,
            import_id=locked.pk,
            accept=sorted({int(i) for i in accept}),
            accept_all=accept_suggestions,
        )
        # Committed first: from here its rows staged new read as imported (the counts below count them so).
        locked.status = ImportStatus.COMMITTED
        locked.committed_at = timezone.now()
        # Nothing imported, merged or ignored: every row kept the status (and the counts) the preview gave it.
        changed = importable or merge_ids or ignore_ids or not staged
        locked.counts = _counts(locked) if changed else dict(staged)
        locked.save(update_fields=["counts", "status", "committed_at"])
        _analyze_after_commit(
            {"ledger_transaction": imported, "uploads_importedkey": imported + len(merge_ids) + ignored_keys}
        )
        # One history entry for the whole import, not one per row.
        audit_record_import(
            household_id=locked.household_id,
            import_id=locked.pk,
            summary={
                "file": locked.original_name,
                "account": locked.account_id,
                "format": locked.format,
                **locked.counts,
            },
            actor=user,
            object_repr=f"import of {locked.original_name}",
        )
    counts = locked.counts
    metrics.imports.labels(format=locked.format, outcome="committed").inc()
    for outcome in ("imported", "duplicate", "error", "ignored", "merged"):
        if counts.get(outcome):
            metrics.import_rows.labels(outcome=outcome).inc(counts[outcome])
    metrics.transactions_created.labels(source="import").inc(counts.get("imported", 0))
    metrics.import_duration.observe(time.monotonic() - started)
    return locked


def _check_row_choices(rows: Any, ids: list[int], statuses: set[str], field: str, label: str) -> None:
    if not ids:
        return
    found = rows.filter(id__in=ids, staged_status__in=statuses).count()
    if found != len(ids):
        raise ValidationError({field: [f"Choose rows of this import that are {label}."]})


def statement_import_delete(*, statement_import: StatementImport) -> None:
    """The import's record and staged rows; its transactions stay. The file goes once this commits."""
    with transaction.atomic():
        statement_import.delete()
