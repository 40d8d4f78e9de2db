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


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil","x")', "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_is_neutralised(text):
    assert neutralise(text) == "'" + text


def test_the_csv_export_is_safe_filtered_and_scoped(owner, outsider, client_for, account, outsider_account):
    TransactionFactory(
        account=account,
        household=account.household,
        payee='=HYPERLINK("http://evil","click")',
        amount=Decimal("-12.30"),
        description="-minus",
    )
    TransactionFactory(account=account, household=account.household, payee="Salary", amount=Decimal("2000"))
    TransactionFactory(account=outsider_account, household=outsider_account.household, payee="Secret")
    response = client_for(owner).get("/api/v1/exports/transactions.csv?max_amount=0")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["payee"] == '\'=HYPERLINK("http://evil","click")'
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


def _facts(household):
    """Everything that must survive a round trip, without ids."""
    from ledger.models import Account, Category, Reconciliation, Rule, Split, Tag, Transaction

    accounts = {a.pk: a.name for a in Account.objects.filter(household=household)}
    categories = {c.pk: str(c) for c in Category.objects.filter(household=household).select_related("parent")}
    return {
        "accounts": sorted(
            (a.name, a.currency, a.opening_balance, a.kind) for a in Account.objects.filter(household=household)
        ),
        "categories": sorted(categories.values()),
        "tags": sorted(Tag.objects.filter(household=household).values_list("name", flat=True)),
        "transactions": sorted(
            (
                accounts[t.account_id],
                t.date,
                t.amount,
                t.payee,
                t.status,
                categories.get(t.category_id or 0),
                t.transfer_id is not None,
                tuple(sorted(tag.name for tag in t.tags.all())),
                tuple(sorted((categories[s.category_id], s.amount) for s in t.splits.all())),
            )
            for t in Transaction.objects.filter(household=household).prefetch_related("tags", "splits")
        ),
        "splits": Split.objects.filter(household=household).count(),
        "reconciliations": sorted(
            (accounts[r.account_id], r.statement_date, r.statement_balance)
            for r in Reconciliation.objects.filter(household=household)
        ),
        "rules": sorted(
            (
                r.name,
                r.position,
                categories.get(r.set_category_id or 0),
                r.set_payee,
                tuple(
                    accounts.get(c["value"], c["value"]) if c["field"] == "account" else c["value"]
                    for c in r.conditions
                ),
                tuple(sorted(t.name for t in r.add_tags.all())),
            )
            for r in Rule.objects.filter(household=household).prefetch_related("add_tags")
        ),
        "members": sorted(household.memberships.values_list("user__username", "role")),
    }


def test_a_household_round_trips_through_json(household, editor, account, tmp_path):
    from ledger.models import Household
    from ledger.rules import rule_create
    from ledger.selectors import account_balance
    from ledger.services.transactions import SplitLine, account_reconcile, transaction_create, transfer_create
    from tests.factories import AccountFactory

    savings = AccountFactory(household=household, name="Savings")
    food = CategoryFactory(household=household, name="Food")
    fruit = CategoryFactory(household=household, name="Fruit", parent=food)
    tag = TagFactory(household=household, name="weekly")
    transaction_create(
        account=account,
        date=__import__("datetime").date(2024, 3, 1),
        amount="-30.00",
        payee="Market",
        splits=[
            SplitLine(category=food, amount=Decimal("-20.00")),
            SplitLine(category=fruit, amount=Decimal("-10.00")),
        ],
        tags=[tag],
    )
    transaction_create(
        account=account, date=__import__("datetime").date(2024, 3, 2), amount="-5.00", payee="=cmd()", category=fruit
    )
    transfer_create(
        from_account=account, to_account=savings, date=__import__("datetime").date(2024, 3, 3), amount="100.00"
    )
    account_reconcile(
        account=account, statement_date=__import__("datetime").date(2024, 3, 2), statement_balance="-35.00"
    )
    rule_create(
        household=household,
        name="Fruit",
        set_category=fruit,
        add_tags=[tag],
        conditions=[{"field": "account", "operator": "is", "value": account.pk}],
    )
    path = tmp_path / "household.json"
    call_command("export_household", "--household", str(household.pk), "--output", str(path), stdout=io.StringIO())
    document = json.loads(path.read_text())
    assert document["format"] == "financetracker-household"
    out = io.StringIO()
    call_command("import_household", str(path), stdout=out)
    restored = Household.objects.exclude(pk=household.pk).get(name__startswith=household.name)
    # Restored next to the original: a distinct name, so neither is mistaken for the other.
    today = __import__("django.utils.timezone", fromlist=["localdate"]).localdate()
    assert restored.name == f"{household.name} (restored {today.isoformat()})"
    assert _facts(restored) == _facts(household)
    restored_account = restored_account = __import__("ledger.models", fromlist=["Account"]).Account.objects.get(
        household=restored, name=account.name
    )
    assert account_balance(restored_account) == account_balance(account)
    call_command("check_ledger", stdout=io.StringIO())
    call_command("import_household", str(path), stdout=io.StringIO())
    assert Household.objects.filter(name=f"{household.name} (restored {today.isoformat()}, 2)").exists()
