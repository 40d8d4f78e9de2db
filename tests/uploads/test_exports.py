"""Exports: transactions to CSV (formula-safe, filtered, scoped) and a household to JSON and back."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from tests.factories import CategoryFactory, TagFactory, TransactionFactory
from uploads.exports import neutralise

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil\",\"x\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_is_neutralised(text):
    assert neutralise(text) == "'" + text


def test_the_csv_export_is_safe_filtered_and_scoped(owner, outsider, client_for, account, outsider_account):
    TransactionFactory(account=account, household=account.household, payee='=HYPERLINK("http://evil","click")',
                       amount=Decimal("-12.30"), description="-minus")
    TransactionFactory(account=account, household=account.household, payee="Salary", amount=Decimal("2000"))
    TransactionFactory(account=outsider_account, household=outsider_account.household, payee="Secret")
    response = client_for(owner).get("/api/v1/exports/transactions.csv?max_amount=0")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["payee"] == "'=HYPERLINK(\"http://evil\",\"click\")"
    assert rows[0]["description"] == "'-minus"
    # Amounts stay numbers: written from a Decimal, never neutralised.
    assert rows[0]["amount"] == "-12.30"
    everything = b"".join(client_for(owner).get("/api/v1/exports/transactions.csv").streaming_content).decode()
    assert "Secret" not in everything
    theirs = b"".join(client_for(outsider).get("/api/v1/exports/transactions.csv").streaming_content).decode()
    assert "Salary" not in theirs and "HYPERLINK" not in theirs


def test_the_export_command_writes_a_file(account, household, tmp_path):
    TransactionFactory(account=account, household=household, payee="+cmd", amount=Decimal("-1.00"))
    path = tmp_path / "out.csv"
    call_command("export_transactions", "--household", str(household.pk), "--output", str(path), stderr=io.StringIO())
    rows = list(csv.DictReader(path.open()))
    assert [(row["payee"], row["amount"]) for row in rows] == [("'+cmd", "-1.00")]
