"""What a staged row shows before and after its commit, now that the commit writes no imported row back: the
preview reserves the transaction id, and a row staged new of a committed import reads as imported under it
(StatementImportRow.objects, migration 0010)."""

from __future__ import annotations

import datetime
import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from ledger.models import Transaction
from tests.factories import TransactionFactory
from uploads.models import ImportStatus, StatementImportRow
from uploads.services.statement_imports import statement_import_commit

pytestmark = pytest.mark.django_db

# Line 2 is a near match of the typed bakery purchase, line 3 new, line 4 a row in error.
STATEMENT = b"Date,Payee,Amount\n2024-03-15,Bakery,-3.10\n2024-03-15,Kiosk,-1.50\n2024-03-16,Broken,lots\n"

migration_0010 = importlib.import_module("uploads.migrations.0010_row_state_derived_from_the_commit")


@pytest.fixture
def typed(account):
    return TransactionFactory(
        account=account, household=account.household, date=datetime.date(2024, 3, 13), amount=Decimal("-3.10")
    )


def shown(client, statement, **query) -> dict[str, tuple[str, int | None]]:
    """payee → (status, transaction_id) as the API's detail shows the rows."""
    body = client.get(f"/api/v1/imports/{statement.pk}/", query).json()
    return {row["payee"]: (row["status"], row["transaction_id"]) for row in body["rows"]["results"]}


@pytest.mark.parametrize("decision", ["merge", "keep", "ignore"])
def test_rows_show_imported_with_their_transaction_once_committed_and_not_before(
    account, import_bytes, typed, owner, client_for, decision
):
    client = client_for(owner)
    preview = import_bytes(account, STATEMENT)
    assert shown(client, preview) == {
        "Bakery": ("near_match", None),
        "Kiosk": ("new", None),
        "Broken": ("error", None),
    }
    near, broken = preview.rows.get(payee="Bakery"), preview.rows.get(payee="Broken")
    choices: dict[str, list[int]] = {"merge": [], "keep": [], "ignore": [broken.pk]}
    choices[decision].append(near.pk)
    committed = statement_import_commit(
        statement_import=preview, merge=choices["merge"], keep=choices["keep"], ignore=choices["ignore"]
    )
    kiosk = Transaction.objects.get(account=account, payee="Kiosk")
    bakery: tuple[str, int | None]
    if decision == "keep":
        bakery = ("imported", Transaction.objects.exclude(pk=typed.pk).get(account=account, payee="Bakery").pk)
    else:
        bakery = ("merged", typed.pk) if decision == "merge" else ("ignored", None)
    assert shown(client, committed) == {"Bakery": bakery, "Kiosk": ("imported", kiosk.pk), "Broken": ("ignored", None)}
    imported = shown(client, committed, row_status="imported")
    assert set(imported) == ({"Kiosk", "Bakery"} if decision == "keep" else {"Kiosk"})
    assert committed.counts["imported"] == len(imported) and committed.counts["new"] == 0
    assert committed.counts["near_match"] == 0 and committed.counts["rows"] == 3
    # The ORM reads the same, and the staged columns say what the preview (and the decisions) wrote.
    row: Any = committed.rows.get(payee="Kiosk")  # status and transaction_id are the manager's annotations
    assert (row.status, row.transaction_id, row.staged_status) == ("imported", kiosk.pk, "new")


def test_the_preview_reserves_one_id_per_importable_row_and_the_commit_uses_them(account, import_bytes, typed):
    preview = import_bytes(account, STATEMENT)
    reserved = dict(
        StatementImportRow.objects.staged()
        .filter(statement_import=preview)
        .values_list("payee", "staged_transaction_id")
    )
    assert reserved["Broken"] is None and reserved["Kiosk"] and reserved["Bakery"]
    assert reserved["Kiosk"] != reserved["Bakery"]
    statement_import_commit(
        statement_import=preview,
        keep=[preview.rows.get(payee="Bakery").pk],
        ignore=[preview.rows.get(payee="Broken").pk],
    )
    assert Transaction.objects.get(account=account, payee="Kiosk").pk == reserved["Kiosk"]
    assert Transaction.objects.filter(account=account, amount=Decimal("-3.10")).count() == 2
    assert reserved["Bakery"] in Transaction.objects.values_list("pk", flat=True)


def test_an_import_staged_before_the_reservations_is_reserved_by_the_migration_and_commits(account, import_bytes):
    preview = import_bytes(account, b"Date,Payee,Amount\n2024-03-15,Kiosk,-1.50\n2024-03-15,Tram,-2.80\n")
    committed_before = import_bytes(account, b"Date,Payee,Amount\n2024-01-02,Old,-9.00\n", commit=True)
    # What an import previewed by the previous code looks like: no ids on its rows.
    StatementImportRow.objects.staged().filter(statement_import=preview).update(staged_transaction_id=None)
    with connection.cursor() as cursor:
        cursor.execute(migration_0010.FORWARD_SQL)
    ids = list(
        StatementImportRow.objects.staged()
        .filter(statement_import=preview)
        .values_list("staged_transaction_id", flat=True)
    )
    assert None not in ids and len(set(ids)) == 2
    old = committed_before.rows.get()
    assert old.status == "imported" and old.transaction_id == Transaction.objects.get(payee="Old").pk
    committed = statement_import_commit(statement_import=preview)
    assert committed.status == ImportStatus.COMMITTED and committed.counts["imported"] == 2
    assert set(Transaction.objects.filter(payee__in=["Kiosk", "Tram"]).values_list("pk", flat=True)) == set(ids)


def test_a_row_left_without_a_reserved_id_still_gets_one_at_the_commit(account, import_bytes):
    preview = import_bytes(account, b"Date,Payee,Amount\n2024-03-15,Kiosk,-1.50\n")
    StatementImportRow.objects.staged().filter(statement_import=preview).update(staged_transaction_id=None)
    committed = statement_import_commit(statement_import=preview)
    row: Any = committed.rows.get()
    assert row.status == "imported" and row.transaction_id == Transaction.objects.get(payee="Kiosk").pk


def test_going_back_past_the_migration_writes_imported_on_committed_rows(account, import_bytes):
    committed = import_bytes(account, b"Date,Payee,Amount\n2024-03-15,Kiosk,-1.50\n", commit=True)
    pending = import_bytes(account, b"Date,Payee,Amount\n2024-03-16,Tram,-2.80\n")
    with connection.cursor() as cursor:
        cursor.execute(migration_0010.REVERSE_SQL)
    kiosk = StatementImportRow.objects.staged().get(statement_import=committed)
    assert (kiosk.staged_status, kiosk.staged_transaction_id) == ("imported", Transaction.objects.get(payee="Kiosk").pk)
    tram = StatementImportRow.objects.staged().get(statement_import=pending)
    assert (tram.staged_status, tram.staged_transaction_id) == ("new", None)
