"""Staging a statement's rows for its preview: each parsed row's key (`fingerprint`), its error if it
cannot be imported, and the one statement that writes every staging row with its status (new, duplicate,
near match, error, skipped). `uploads.services.statement_imports.statement_import_preview` drives it; the commit reads the
staged rows in file order."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import IO

from django.db import connection

from financetracker.core.dates import DATE_RANGE_MESSAGE, date_in_range
from financetracker.core.money import AMOUNT_LIMIT, AMOUNT_MAX_INTEGER_DIGITS
from uploads.importers import ParsedRow


def _normalised(text: str) -> str:
    return " ".join(text.casefold().split())


def fingerprint(row: ParsedRow) -> str:
    """sha256(date|amount|payee|description), with amounts and text normalised so reformatting does not matter."""
    assert row.date is not None and row.amount is not None
    amount = row.amount.normalize()
    material = f"{row.date.isoformat()}|{amount:f}|{_normalised(row.payee)}|{_normalised(row.description)}"
    return hashlib.sha256(material.encode()).hexdigest()


_STAGE_COLUMNS = "ordinal, line_number, date, amount, payee, description, bank_id, fingerprint, error, skip"
SKIPPED_PREFIX = "skipped: "

# One statement stages the whole file: number identical rows (so two genuine tram fares on one day both
# survive), build each row's key, look the keys up, find near matches for the rows that are new, and write
# every staging row once, in file order, with its final status and, for a row the commit would import, its
# transaction's id. The commit then reads the rows in that order and writes none of them back.
# Only rows whose group key repeats in the file are numbered by a window (found by hashing, no sort of the whole
# file); every other row is occurrence 1, and the rows stay in file order up to the write.
STAGE_SQL = """
WITH grouped AS (
    -- Grouping needs equality only: the C collation compares bytes, not language rules.
    SELECT ordinal, error <> '' AS failed,
           (CASE WHEN bank_id <> '' THEN 'id:' || bank_id ELSE fingerprint END) COLLATE "C" AS group_key
      FROM import_stage
), repeated AS (
    SELECT failed, group_key FROM grouped GROUP BY failed, group_key HAVING count(*) > 1
), counted AS (
    SELECT g.ordinal, row_number() OVER (PARTITION BY g.failed, g.group_key ORDER BY g.ordinal) AS occurrence
      FROM grouped g JOIN repeated USING (failed, group_key)
), numbered AS (
    SELECT s.*, coalesce(counted.occurrence, 1) AS occurrence
      FROM import_stage s LEFT JOIN counted ON counted.ordinal = s.ordinal
), keyed AS (
    SELECT n.*, CASE WHEN n.error <> '' OR n.skip <> '' THEN '' WHEN n.bank_id <> '' THEN 'id:' || n.bank_id
                     ELSE 'fp:' || n.fingerprint || '#' || n.occurrence END AS key
      FROM numbered n
), classified AS (
    SELECT r.*, k.transaction_id AS known_transaction_id,
           CASE WHEN r.skip <> '' THEN 'ignored'
                WHEN r.error <> '' THEN 'error'
                WHEN r.bank_id <> '' AND r.occurrence > 1 THEN 'duplicate'
                WHEN k.id IS NULL THEN 'new'
                WHEN k.ignored OR k.transaction_id IS NULL THEN 'ignored'
                ELSE 'duplicate' END AS status,
           CASE WHEN r.skip <> '' THEN 'skipped: ' || r.skip
                WHEN r.error <> '' THEN ''
                WHEN r.bank_id <> '' AND r.occurrence > 1 THEN 'the same bank id appears earlier in this file'
                WHEN k.id IS NULL THEN ''
                WHEN k.ignored THEN 'ignored in an earlier import'
                WHEN k.transaction_id IS NULL THEN 'imported before and deleted since'
                ELSE 'already imported' END AS reason
      FROM keyed r
      LEFT JOIN uploads_importedkey k
        ON k.household_id = %(household)s AND k.account_id = %(account)s AND k.key = r.key AND r.key <> ''
), new_dates AS (
    -- The dates of the rows that are new; none (a re-import) leaves both NULL, and the near-match scan reads nothing.
    SELECT min(date) - 7 AS low, max(date) + 7 AS high FROM classified WHERE status = 'new'
), near AS (
    -- A row not seen before may still be a transaction the books already have: same amount a few days apart
    -- (typed in by hand, or imported from another format), or a pending one that has since posted. Only the
    -- account's transactions within the new rows' dates (± 7 days) are read, joined on the amount.
    SELECT DISTINCT ON (c.ordinal) c.ordinal, t.id AS transaction_id,
           CASE WHEN t.status = 'pending'
                THEN format('a pending transaction of the same amount on %%s (%%s)', t.date, coalesce(nullif(t.payee, ''), t.description))
                ELSE format('same amount on %%s, %%s day(s) apart (%%s)', t.date, abs(t.date - c.date),
                            coalesce(nullif(t.payee, ''), t.description)) END AS reason
      FROM classified c
      JOIN ledger_transaction t
        ON t.household_id = %(household)s AND t.account_id = %(account)s AND t.amount = c.amount
       AND t.date BETWEEN c.date - 7 AND c.date + 7
       AND t.date BETWEEN (SELECT low FROM new_dates) AND (SELECT high FROM new_dates)
     WHERE c.status = 'new'
       AND (t.status = 'pending'
            OR (abs(t.date - c.date) <= 3
                AND NOT EXISTS (SELECT 1 FROM uploads_importedkey k
                                 WHERE k.household_id = t.household_id AND k.transaction_id = t.id)))
     ORDER BY c.ordinal, (t.status = 'pending') DESC, abs(t.date - c.date), t.id
), staged AS (
    -- The fingerprint is not stored again: a fingerprinted row's key carries it ('fp:' || fingerprint || '#' || n),
    -- and a row with a bank id is keyed by that id. 65 bytes less per staged row, written here and at the commit.
    INSERT INTO uploads_statementimportrow
        (household_id, statement_import_id, line_number, date, amount, payee, description, bank_id, fingerprint,
         occurrence, key, status, error, reason, matched_transaction_id, transaction_id)
    SELECT %(household)s, %(import)s, c.line_number, c.date, c.amount, c.payee, c.description, c.bank_id, '',
           c.occurrence, c.key, CASE WHEN near.ordinal IS NULL THEN c.status ELSE 'near_match' END, c.error,
           coalesce(near.reason, c.reason), coalesce(near.transaction_id, c.known_transaction_id),
           -- The id its transaction gets if the commit imports it (a near match kept as new too): the commit then
           -- inserts under it and leaves the row as written; the row shows imported once the import is committed.
           CASE WHEN c.status = 'new' THEN nextval((SELECT pg_get_serial_sequence('ledger_transaction', 'id')::regclass)) END
      FROM classified c
      LEFT JOIN near ON near.ordinal = c.ordinal
     ORDER BY c.ordinal
    RETURNING status, reason
)
SELECT CASE WHEN status = 'ignored' AND reason LIKE 'skipped: %%' THEN 'skipped' ELSE status END, count(*)
  FROM staged GROUP BY 1
"""


def _row_error(row: ParsedRow, places: int) -> str:
    if row.error:
        return row.error
    if row.date is None:
        return "no date"
    if row.amount is None:
        return "no amount"
    # The bounds every other way in applies (the API, the admin, the commands): rows past them are refused here.
    if not date_in_range(row.date):
        return f"{row.date.isoformat()} is out of range: {DATE_RANGE_MESSAGE}"
    if abs(row.amount) >= AMOUNT_LIMIT:
        return f"{row.amount:f} is too large: amounts have at most {AMOUNT_MAX_INTEGER_DIGITS} digits before the point"
    exponent = row.amount.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places and row.amount != row.amount.quantize(Decimal(1).scaleb(-places)):
        return f"{row.amount} has more than {places} decimal places"
    return ""


# progress(rows read so far, share of the file's bytes read so far, 0.0-1.0)
Progress = Callable[[int, float], None]

_PROGRESS_EVERY = 5000


def stage_rows(rows: Iterable[ParsedRow], places: int, progress: Callable[[int], None] | None) -> int:
    count = 0
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_stage")
        cursor.execute(
            "CREATE TEMP TABLE import_stage (ordinal integer, line_number integer, date date, amount numeric(19, 4), "
            "payee text, description text, bank_id text, fingerprint text, error text, skip text) ON COMMIT DROP"
        )
        with cursor.copy(f"COPY import_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy:
            write = copy.write_row
            for row in rows:
                count += 1
                if row.skip:
                    write((count, row.line_number, None, None, row.payee, row.description, "", "", "", row.skip[:480]))
                    continue
                error = _row_error(row, places)
                if error:
                    write(
                        (
                            count,
                            row.line_number,
                            None,
                            None,
                            row.payee,
                            row.description,
                            row.bank_id,
                            "",
                            error[:500],
                            "",
                        )
                    )
                else:
                    write(
                        (
                            count,
                            row.line_number,
                            row.date,
                            row.amount,
                            row.payee,
                            row.description,
                            row.bank_id,
                            fingerprint(row),
                            "",
                            "",
                        )
                    )
                if progress is not None and count % _PROGRESS_EVERY == 0:
                    progress(count)
    return count


def progress_by_bytes(progress: Progress | None, stream: IO[bytes], size: int) -> Callable[[int], None] | None:
    """Rows read so far, with the share of the file behind them (the parser reads ahead by one buffer)."""
    if progress is None:
        return None

    def report(count: int) -> None:
        try:
            share = min(stream.tell() / size, 1.0) if size else 0.0
        except (OSError, ValueError, AttributeError):  # a storage whose files cannot tell their position
            share = 0.0
        progress(count, share)

    return report
