#!/usr/bin/env python
"""Statement import benchmark: a 100k-row CSV imported twice through the service the command uses.

Prints, for upload → preview → commit end to end: rows/s, rows added (the second run must add 0), the CPU
seconds of this process and of its PostgreSQL backend (read from /proc when the server runs on this machine: on
a shared, loaded machine these move far less than wall-clock times), the peak resident memory of the process, and baselines measured in the same run on the same machine:
- naive: per-row ORM `Transaction.objects.create` (2,000 rows, extrapolated) — what a simple importer does;
- COPY: PostgreSQL COPY of the same CSV into a temporary table — how fast bytes reach the server;
- COPY into ledger_transaction: the same rows straight into the ledger table with its indexes, triggers and
  foreign-key checks, rolled back — the ceiling for any importer writing into this schema on this machine.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/ft_import_bench .venv/bin/python bench/import_csv.py [--rows 100000]
Each run vacuums the tables it writes, imports into a fresh account and deletes it afterwards, so repeated
runs start from the same database. The machine is shared and noisy: compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import ensure_database, start_django

start_django("ft_uploads_bench", uploads_in_tmp=True)

from django.db import connection, transaction  # noqa: E402

from ledger.models import Account, Household, Transaction, User  # noqa: E402
from ledger.services.accounts_categories_tags import account_create  # noqa: E402
from uploads.importers import parse_statement  # noqa: E402
from uploads.models import StatementImport  # noqa: E402
from uploads.services.statement_imports import (  # noqa: E402
    statement_import_commit,
    statement_import_preview,
    statement_import_upload,
)

PAYEES = ["Tram", "Bakery", "Supermarket", "Café Central", "Pharmacy", "Bookshop", "Fuel station", "Cinema"]


def write_csv(path: Path, rows: int) -> None:
    """A German-style bank export: semicolons, DD.MM.YYYY, decimal comma, and some identical rows."""
    generator = random.Random(42)
    start = date(2015, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Buchungstag", "Empfänger", "Verwendungszweck", "Betrag"])
        for index in range(rows):
            day = start + timedelta(days=index * 3650 // rows)
            payee = generator.choice(PAYEES)
            # Every 50th row repeats the previous one exactly (two tram fares on one day).
            cents = generator.randint(100, 2_000_000) if index % 50 else 280
            amount = f"-{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"
            memo = f"Ref {index}" if index % 50 else "Fahrschein"
            writer.writerow([day.strftime("%d.%m.%Y"), payee, memo, amount])


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend; None when it runs elsewhere."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Cpu:
    """CPU seconds of this process and of its server backend from its creation to `stop()`."""

    def __init__(self) -> None:
        self.own, self.server = time.process_time(), server_cpu()

    def stop(self) -> None:
        self.own = time.process_time() - self.own
        after = server_cpu()
        self.server = None if after is None or self.server is None else after - self.server

    def total(self) -> float | None:
        return None if self.server is None else self.own + self.server

    def __str__(self) -> str:
        server = "unknown" if self.server is None else f"{self.server:.2f} s"
        return f"CPU: Python {self.own:.2f} s, PostgreSQL {server}"


def run_import(account: Account, path: Path) -> tuple[float, int, dict[str, int], str, float | None]:
    """Upload → preview → commit; the elapsed time, rows added, the counts, where the time (and CPU) went, and
    the CPU seconds of this process and its server backend together (None if the server's are unknown)."""
    cpu = Cpu()
    started = time.perf_counter()
    with path.open("rb") as handle:
        statement = statement_import_upload(
            account=account, upload=handle, original_name=path.name, declared_size=path.stat().st_size
        )
    uploaded = time.perf_counter()
    statement = statement_import_preview(statement_import=statement)
    previewed = time.perf_counter()
    cpu.stop()
    before = Transaction.objects.filter(account=account).count()
    counted = time.perf_counter()
    commit_cpu = Cpu()
    statement = statement_import_commit(statement_import=statement)
    commit_cpu.stop()
    elapsed = time.perf_counter() - started - (counted - previewed)  # the bench's own count is not the import's
    committed = time.perf_counter()
    added = Transaction.objects.filter(account=account).count() - before
    phases = (
        f"upload {uploaded - started:.2f} s, preview {previewed - uploaded:.2f} s, commit {committed - counted:.2f} s"
        f"; upload and preview {cpu}; commit {commit_cpu}"
    )
    preview_total, commit_total = cpu.total(), commit_cpu.total()
    total = None if preview_total is None or commit_total is None else preview_total + commit_total
    return elapsed, added, statement.counts, phases, total


def naive_baseline(account: Account, path: Path, rows: int) -> float:
    """Per-row ORM create, the way a simple importer (or django-import-export without bulk) works."""
    parsed = parse_statement("csv", path.open("rb"), mapping={})
    started = time.perf_counter()
    with transaction.atomic():
        for count, row in enumerate(parsed, start=1):
            assert row.date is not None and row.amount is not None  # the generated file has no bad rows
            Transaction.objects.create(
                household_id=account.household_id,
                account=account,
                date=row.date,
                amount=row.amount,
                payee=row.payee,
                description=row.description,
            )
            if count >= rows:
                break
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return rows / elapsed


def copy_baseline(path: Path) -> tuple[float, int]:
    """COPY of the raw CSV into a temporary table: no parsing in Python, no de-duplication, no indexes."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copy_limit (day text, payee text, memo text, amount text) ON COMMIT DROP")
        started = time.perf_counter()
        with (
            path.open("rb") as handle,
            cursor.copy("COPY copy_limit FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)") as copy,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM copy_limit")
        (rows,) = cursor.fetchone()
    return rows / elapsed, rows


def copy_into_ledger_baseline(path: Path, account: Account) -> tuple[float, Cpu]:
    """COPY the same rows straight into ledger_transaction — its real indexes, triggers and deferred
    foreign-key checks, nothing else (no parsing in Python, no de-duplication) — then roll back. The
    ceiling for any importer writing into this schema."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copy_rows (day text, payee text, memo text, amount text) ON COMMIT DROP")
        with (
            path.open("rb") as handle,
            cursor.copy("COPY copy_rows FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)") as copy,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        cursor.execute("SELECT count(*) FROM copy_rows")
        (rows,) = cursor.fetchone()
        # Rows converted once in SQL so the timed COPY below writes typed data only.
        cursor.execute(
            "CREATE TEMP TABLE typed_rows ON COMMIT DROP AS SELECT to_date(day, 'DD.MM.YYYY') AS date, "
            "replace(replace(amount, '.', ''), ',', '.')::numeric(19, 4) AS amount, payee, memo FROM copy_rows"
        )
        cursor.execute("SELECT date, amount, payee, memo FROM typed_rows")
        typed = cursor.fetchall()
        cpu = Cpu()
        started = time.perf_counter()
        with cursor.copy(
            "COPY ledger_transaction (household_id, account_id, date, amount, payee, description, status, "
            "created_at, updated_at) FROM STDIN"
        ) as copy:
            for day, amount, payee, memo in typed:
                copy.write_row((account.household_id, account.pk, day, amount, payee, memo, "cleared", "now", "now"))
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred checks a commit would run
        elapsed = time.perf_counter() - started
        cpu.stop()
        transaction.set_rollback(True)
    return rows / elapsed, cpu


def near_match_preview(household: Household, path: Path) -> tuple[float, dict[str, int]]:
    """Preview a 10k-row statement of new rows into an account that holds 100k hand-typed transactions
    (no import keys, so every one is a near-match candidate): the preview's search for same-amount rows a
    few days apart, which a real ledger pays on every import."""
    account = _fresh_account(household, "Near-match bench")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_transaction (household_id, account_id, date, amount, payee, description, status, "
            "created_at, updated_at) "
            "SELECT %s, %s, date '2015-01-01' + (i * 3650 / 100000), -((i * 7919) %% 20000 + 100) / 100.0, "
            "'Typed', 'by hand ' || i, 'cleared', now(), now() FROM generate_series(1, 100000) AS i",
            [account.household_id, account.pk],
        )
        cursor.execute("ANALYZE ledger_transaction")
    generator = random.Random(7)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Buchungstag", "Empfänger", "Verwendungszweck", "Betrag"])
        for index in range(10_000):
            cents = generator.randint(100, 20_000)
            day = date(2020, 1, 1) + timedelta(days=index * 365 // 10_000)
            writer.writerow([day.strftime("%d.%m.%Y"), "Shop", f"Other {index}", f"-{cents // 100},{cents % 100:02d}"])
    with path.open("rb") as handle:
        statement = statement_import_upload(account=account, upload=handle, original_name=path.name)
    started = time.perf_counter()
    statement = statement_import_preview(statement_import=statement)
    elapsed = time.perf_counter() - started
    _delete_account(account)
    return elapsed, statement.counts


def _fresh_account(household: Household, name: str) -> Account:
    return account_create(
        household=household,
        name=f"{name} {time.time_ns()}",
        currency="EUR",
        opening_date=date(2015, 1, 1),
        opening_balance=Decimal(0),
    )


def _delete_account(account: Account) -> None:
    """Leave the database as it was, so the next run's indexes are the same size as this run's."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM ledger_transaction WHERE household_id = %s AND account_id = %s",
            [account.household_id, account.pk],
        )
    StatementImport.objects.filter(account=account).delete()
    account.delete()


def vacuum() -> None:
    """The machines run PostgreSQL with autovacuum off: without this, every earlier run's deleted rows would stay
    in the tables and their indexes, and each run would import into a bigger, slower table than the last."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE ledger_transaction, uploads_importedkey, uploads_statementimportrow")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=2_000)
    options = parser.parse_args()
    ensure_database()
    vacuum()
    from ledger.services.households import user_sign_up

    user = User.objects.filter(username="bench-import").first() or user_sign_up(username="bench-import")
    household = Household.objects.filter(memberships__user=user).first()
    assert household is not None
    account = _fresh_account(household, "Import bench")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "statement.csv"
        write_csv(path, options.rows)
        size_mib = path.stat().st_size / 1024 / 1024
        rss_before = peak_rss_mib()
        first_s, first_added, first_counts, first_phases, first_cpu = run_import(account, path)
        second_s, second_added, _second_counts, second_phases, _second_cpu = run_import(account, path)
        rss_peak = peak_rss_mib()
        naive_rate = naive_baseline(account, path, options.naive_rows)
        copy_rate, copy_rows = copy_baseline(path)
        ledger_copy_rate, ledger_copy_cpu = copy_into_ledger_baseline(path, account)
        _delete_account(account)
        near_s, near_counts = near_match_preview(household, Path(folder) / "typed.csv")

    first_rate = options.rows / first_s
    second_rate = options.rows / second_s
    print(f"file: {options.rows:,} rows, {size_mib:.1f} MiB CSV (semicolons, DD.MM.YYYY, decimal comma)")
    print(f"first import:  {first_s:6.2f} s  {first_rate:>9,.0f} rows/s  added {first_added:,}  {first_counts}")
    print(f"               ({first_phases})")
    print(f"re-import:     {second_s:6.2f} s  {second_rate:>9,.0f} rows/s  added {second_added:,}  (must be 0)")
    print(f"               ({second_phases})")
    print(
        f"preview of 10k new rows into an account of 100k hand-typed transactions: {near_s:5.2f} s, "
        f"near matches {near_counts['near_match']:,}"
    )
    print(f"peak RSS:      {rss_peak:6.1f} MiB (before importing: {rss_before:.1f} MiB; includes Django)")
    print(f"baseline naive ORM create ({options.naive_rows:,} rows, extrapolated): {naive_rate:>9,.0f} rows/s")
    print(f"baseline COPY into a temp table ({copy_rows:,} rows):                 {copy_rate:>9,.0f} rows/s")
    print(f"baseline COPY straight into ledger_transaction, rolled back:    {ledger_copy_rate:>9,.0f} rows/s")
    print(f"               ({ledger_copy_cpu})")
    print(
        f"ratio first import / naive ORM: {first_rate / naive_rate:5.1f}x;  "
        f"first import / COPY into ledger_transaction: {first_rate / ledger_copy_rate:4.2f}x"
    )
    copy_cpu = ledger_copy_cpu.total()
    if first_cpu and copy_cpu:
        # The same ratio by the CPU both spent (Python + PostgreSQL): steadier than wall-clock on a shared machine.
        print(f"first import / COPY into ledger_transaction by CPU: {copy_cpu / first_cpu:4.2f}x")
    if second_added:
        sys.exit("FAIL: the re-import added rows")


if __name__ == "__main__":
    main()
