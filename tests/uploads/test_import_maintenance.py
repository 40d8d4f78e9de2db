"""After a bulk write the app merges the GIN pending lists itself (financetracker/core/maintenance.py): with
autovacuum off nothing else would, and every search scans an unmerged list in full.

`gin_clean_pending_list` returns the pages it moved out of an index's pending list, so a second call that
returns 0 proves the list was already merged."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from financetracker.core.maintenance import merge_gin_pending_lists
from ledger.models import Account, Household
from uploads.services import statement_imports

TRIGRAM_INDEXES = ("tx_payee_upper_trgm_idx", "tx_description_upper_trgm_idx")
pytestmark = pytest.mark.django_db


def pending_pages(index: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        return int(cursor.fetchone()[0])


def insert_rows(household: Household, account: Account, count: int) -> None:
    """Rows straight into the ledger, as a bulk load writes them (the statement-level triggers keep totals)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_transaction (household_id, account_id, date, amount, payee, description, status,"
            " created_at, updated_at)"
            " SELECT %s, %s, DATE '2024-01-01' + (n %% 300), -n, 'Shop ' || md5(n::text), 'Ref ' || md5((n * 7)::text),"
            " 'cleared', now(), now() FROM generate_series(1, %s) AS n",
            [household.pk, account.pk, count],
        )


def test_a_bulk_insert_leaves_pending_entries_and_merging_clears_them(household: Household, account: Any) -> None:
    insert_rows(household, account, 3000)
    merged = merge_gin_pending_lists(["ledger_transaction"])
    assert set(TRIGRAM_INDEXES) <= set(merged)
    assert [pending_pages(index) for index in TRIGRAM_INDEXES] == [0, 0]
    # The control: without the merge the same insert leaves pages to merge (so the check above can fail).
    insert_rows(household, account, 3000)
    assert all(pending_pages(index) > 0 for index in TRIGRAM_INDEXES)


def test_merging_only_the_named_tables(household: Household, account: Any) -> None:
    insert_rows(household, account, 3000)
    assert merge_gin_pending_lists(["ledger_split"]) == []  # no GIN index there; the ledger's lists stay
    assert all(pending_pages(index) > 0 for index in TRIGRAM_INDEXES)


def test_a_large_import_merges_the_lists_once_committed(
    account: Any, import_bytes: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    monkeypatch.setattr(statement_imports, "ANALYZE_AFTER_ROWS", 500)  # "large": 500 rows here, 5,000 in use
    rows = "".join(f"2024-03-{1 + n % 28:02d},Corner shop {n:05d} {n * 7919 % 10007},-{n}.25\n" for n in range(1, 1201))
    with django_capture_on_commit_callbacks(execute=True):
        statement = import_bytes(account, ("Date,Payee,Amount\n" + rows).encode(), commit=True)
    assert statement.status == "committed"
    assert [pending_pages(index) for index in TRIGRAM_INDEXES] == [0, 0]


def test_a_small_import_leaves_them_for_later(
    account: Any, import_bytes: Any, django_capture_on_commit_callbacks: Any
) -> None:
    rows = "".join(f"2024-03-{1 + n % 28:02d},Corner shop {n:05d},-{n}.25\n" for n in range(1, 1201))
    with django_capture_on_commit_callbacks(execute=True):
        import_bytes(account, ("Date,Payee,Amount\n" + rows).encode(), commit=True)
    assert all(pending_pages(index) > 0 for index in TRIGRAM_INDEXES)
