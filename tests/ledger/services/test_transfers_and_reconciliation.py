"""Transfers, reconciliation, bulk actions and balances (ledger.services.transactions, ledger.selectors)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from financetracker.core.errors import ConflictError, ReconciledTransactionError
from ledger.models import (
    Account,
    AccountMonthTotal,
    Category,
    Household,
    Reconciliation,
    Transaction,
    Transfer,
)
from ledger.selectors import account_balance, account_balance_as_of
from ledger.services import accounts_categories_tags as account_services
from ledger.services.transactions import (
    SplitLine,
    account_reconcile,
    transaction_create,
    transaction_delete,
    transaction_unreconcile,
    transaction_update,
    transactions_mark_cleared,
    transactions_set_category,
    transfer_create,
    transfer_delete,
)
from tests.factories import (
    AccountFactory,
    CategoryFactory,
    HouseholdFactory,
)
from tests.ledger.services.support import DAY, D, field_errors

pytestmark = pytest.mark.django_db


# --- Transfers -----------------------------------------------------------------------------------


def test_transfer_creates_two_linked_transactions(checking: Account, savings: Account) -> None:
    transfer = transfer_create(
        from_account=checking, to_account=savings, date=DAY, amount="50.00", description="Rainy day"
    )
    sides = {side.account_id: side for side in transfer.transactions.all()}
    assert sides[checking.pk].amount == D("-50.00")
    assert sides[savings.pk].amount == D("50.00")
    assert {side.description for side in sides.values()} == {"Rainy day"}
    assert account_balance(checking) + account_balance(savings) == D("0")


def test_cross_currency_transfer_records_both_amounts(checking: Account, dollars: Account) -> None:
    transfer = transfer_create(from_account=checking, to_account=dollars, date=DAY, amount="100.00", to_amount="108.23")
    assert sorted(transfer.transactions.values_list("amount", flat=True)) == [D("-100.00"), D("108.23")]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"to_account": "from"}, "to_account"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "5.001"}, "amount"),
        ({"to_amount": "4.00"}, "to_amount"),
        ({"to_account": "dollars"}, "to_amount"),
        ({"to_account": "dollars", "to_amount": "-1"}, "to_amount"),
        ({"to_account": "dollars", "to_amount": "1.001"}, "to_amount"),
        ({"to_account": "foreign"}, "to_account"),
    ],
)
def test_transfer_create_refuses_bad_input_and_writes_nothing(
    checking: Account, savings: Account, dollars: Account, kwargs: dict[str, str], field: str
) -> None:
    accounts = {"from": checking, "dollars": dollars, "foreign": AccountFactory(household=HouseholdFactory())}
    values: dict[str, Any] = {"amount": "5.00", **kwargs}
    values["to_account"] = accounts.get(kwargs.get("to_account", ""), savings)
    with pytest.raises(ValidationError) as error:
        transfer_create(from_account=checking, date=DAY, **values)
    assert field in field_errors(error)
    assert not Transfer.objects.exists()
    assert not Transaction.objects.exists()


def test_a_transfer_that_fails_while_writing_leaves_nothing_behind(checking: Account, savings: Account) -> None:
    # No date: the pair's insert fails after the Transfer row was written; the atomic block takes both back.
    with pytest.raises(IntegrityError):
        no_date: Any = None  # what the service's type forbids, to reach the database's NOT NULL
        transfer_create(from_account=checking, to_account=savings, date=no_date, amount="5.00")
    assert not Transfer.objects.exists()
    assert not Transaction.objects.exists()
    assert not AccountMonthTotal.objects.exclude(total=0).exists()


def test_transfer_delete_deletes_both_sides(checking: Account, savings: Account) -> None:
    transfer = transfer_create(from_account=checking, to_account=savings, date=DAY, amount="50.00")
    transfer_delete(transfer=transfer)
    assert not Transaction.objects.exists()
    assert account_balance(checking) == account_balance(savings) == D("0")


def test_deleting_one_side_of_a_transfer_deletes_both(checking: Account, savings: Account) -> None:
    transfer = transfer_create(from_account=checking, to_account=savings, date=DAY, amount="50.00")
    transaction_delete(transaction_obj=transfer.transactions.earliest("pk"))
    assert not Transaction.objects.exists()
    assert not Transfer.objects.exists()


def test_a_transfer_side_keeps_its_amount_and_account(checking: Account, savings: Account) -> None:
    transfer = transfer_create(from_account=checking, to_account=savings, date=DAY, amount="50.00")
    side = transfer.transactions.get(amount__lt=0)
    with pytest.raises(ValidationError):
        transaction_update(transaction_obj=side, amount=D("-40.00"))


def test_changing_a_transfer_sides_date_moves_both_sides(checking: Account, savings: Account) -> None:
    transfer = transfer_create(from_account=checking, to_account=savings, date=DAY, amount="50.00")
    side = transfer.transactions.get(amount__lt=0)
    transaction_update(transaction_obj=side, date=datetime.date(2024, 5, 2))
    assert set(transfer.transactions.values_list("date", flat=True)) == {datetime.date(2024, 5, 2)}


def test_a_transfer_with_a_reconciled_side_cannot_be_deleted(checking: Account, savings: Account) -> None:
    transfer = transfer_create(from_account=checking, to_account=savings, date=DAY, amount="50.00")
    account_reconcile(account=savings, statement_date=DAY, statement_balance="50.00")
    with pytest.raises(ReconciledTransactionError):
        transfer_delete(transfer=transfer)
    with pytest.raises(ReconciledTransactionError):
        transaction_delete(transaction_obj=transfer.transactions.get(amount__lt=0))
    assert Transaction.objects.count() == 2


def test_a_transfer_date_change_is_refused_when_the_other_side_is_reconciled(
    checking: Account, savings: Account
) -> None:
    transfer = transfer_create(from_account=checking, to_account=savings, date=DAY, amount="50.00")
    account_reconcile(account=savings, statement_date=DAY, statement_balance="50.00")
    with pytest.raises(ReconciledTransactionError):
        transaction_update(transaction_obj=transfer.transactions.get(amount__lt=0), date=datetime.date(2024, 5, 2))
    assert set(transfer.transactions.values_list("date", flat=True)) == {DAY}


# --- Reconciliation ------------------------------------------------------------------------------


def test_reconcile_marks_cleared_rows_up_to_the_statement_date(household: Household, checking: Account) -> None:
    account_services.account_update(account=checking, opening_balance="100.00")
    first = transaction_create(account=checking, date=datetime.date(2024, 2, 1), amount="-10.00")
    pending = transaction_create(account=checking, date=datetime.date(2024, 2, 2), amount="-5.00", status="pending")
    later = transaction_create(account=checking, date=datetime.date(2024, 3, 1), amount="-1.00")
    reconciliation = account_reconcile(
        account=checking, statement_date=datetime.date(2024, 2, 29), statement_balance="90.00"
    )
    assert reconciliation.transaction_count == 1
    statuses = dict(Transaction.objects.values_list("id", "status"))
    assert statuses == {first.pk: "reconciled", pending.pk: "pending", later.pk: "cleared"}


def test_reconcile_mismatch_is_a_conflict_naming_the_difference(checking: Account) -> None:
    transaction_create(account=checking, date=datetime.date(2024, 2, 1), amount="-10.00")
    with pytest.raises(ConflictError) as error:
        account_reconcile(account=checking, statement_date=datetime.date(2024, 2, 29), statement_balance="-12.50")
    assert "-2.50" in error.value.message
    assert not Reconciliation.objects.exists()
    assert Transaction.objects.get().status == "cleared"


def test_reconcile_refuses_a_statement_balance_with_too_many_places(checking: Account) -> None:
    with pytest.raises(ValidationError) as error:
        account_reconcile(account=checking, statement_date=DAY, statement_balance="1.001")
    assert "statement_balance" in field_errors(error)


def test_a_second_reconciliation_builds_on_the_first(checking: Account) -> None:
    transaction_create(account=checking, date=datetime.date(2024, 2, 1), amount="-10.00")
    account_reconcile(account=checking, statement_date=datetime.date(2024, 2, 29), statement_balance="-10.00")
    transaction_create(account=checking, date=datetime.date(2024, 3, 1), amount="-1.00")
    second = account_reconcile(account=checking, statement_date=datetime.date(2024, 3, 31), statement_balance="-11.00")
    assert second.transaction_count == 1


def test_a_reconciled_transaction_refuses_changes_and_deletion(checking: Account, food: Category) -> None:
    tx = transaction_create(account=checking, date=DAY, amount="-10.00")
    account_reconcile(account=checking, statement_date=DAY, statement_balance="-10.00")
    for change in ({"amount": D("-11.00")}, {"payee": "Other"}, {"category": food}, {"status": "cleared"}):
        with pytest.raises(ReconciledTransactionError):
            transaction_update(transaction_obj=tx, **change)
    with pytest.raises(ReconciledTransactionError):
        transaction_update(transaction_obj=tx, splits=[SplitLine(category=food, amount=D("-10.00"))])
    with pytest.raises(ReconciledTransactionError):
        transaction_delete(transaction_obj=tx)
    assert Transaction.objects.get().status == "reconciled"


def test_unreconcile_returns_a_row_to_cleared_and_frees_it(checking: Account) -> None:
    tx = transaction_create(account=checking, date=DAY, amount="-10.00")
    account_reconcile(account=checking, statement_date=DAY, statement_balance="-10.00")
    assert transaction_unreconcile(transaction_obj=tx).status == "cleared"
    transaction_update(transaction_obj=tx, amount=D("-11.00"))
    transaction_delete(transaction_obj=tx)


def test_bulk_mark_cleared_skips_reconciled_rows(checking: Account) -> None:
    transaction_create(account=checking, date=DAY, amount="-10.00")
    account_reconcile(account=checking, statement_date=DAY, statement_balance="-10.00")
    pending = [transaction_create(account=checking, date=DAY, amount="-1.00", status="pending") for _ in range(2)]
    result = transactions_mark_cleared(queryset=Transaction.objects.all())
    assert result.changed == 2
    assert set(Transaction.objects.filter(pk__in=[tx.pk for tx in pending]).values_list("status", flat=True)) == {
        "cleared"
    }
    assert Transaction.objects.filter(status="reconciled").count() == 1


def test_bulk_set_category_skips_reconciled_split_and_transfer_rows(
    checking: Account, savings: Account, food: Category, fun: Category
) -> None:
    reconciled = transaction_create(account=checking, date=DAY, amount="-10.00")
    account_reconcile(account=checking, statement_date=DAY, statement_balance="-10.00")
    split = transaction_create(
        account=checking, date=DAY, amount="-2.00", splits=[SplitLine(category=fun, amount=D("-2.00"))]
    )
    plain = transaction_create(account=checking, date=DAY, amount="-3.00")
    transfer_create(from_account=checking, to_account=savings, date=DAY, amount="1.00")
    result = transactions_set_category(queryset=Transaction.objects.all(), category=food)
    assert (result.changed, result.skipped_reconciled) == (1, 1)
    assert Transaction.objects.get(pk=plain.pk).category_id == food.pk
    assert Transaction.objects.get(pk=reconciled.pk).category_id is None
    assert Transaction.objects.get(pk=split.pk).category_id is None


def test_bulk_set_category_never_crosses_households(checking: Account) -> None:
    transaction_create(account=checking, date=DAY, amount="-3.00")
    foreign = CategoryFactory(household=HouseholdFactory())
    assert transactions_set_category(queryset=Transaction.objects.all(), category=foreign).changed == 0


def test_balance_as_of_counts_whole_months_and_the_partial_one(checking: Account) -> None:
    account_services.account_update(account=checking, opening_balance="100.00")
    transaction_create(account=checking, date=datetime.date(2024, 1, 31), amount="-10.00")
    transaction_create(account=checking, date=datetime.date(2024, 2, 1), amount="-1.00")
    transaction_create(account=checking, date=datetime.date(2024, 2, 15), amount="-2.00")
    assert account_balance_as_of(checking, datetime.date(2023, 12, 31)) == D("0")
    assert account_balance_as_of(checking, datetime.date(2024, 1, 31)) == D("90.00")
    assert account_balance_as_of(checking, datetime.date(2024, 2, 1)) == D("89.00")
    assert account_balance_as_of(checking, datetime.date(2024, 2, 14)) == D("89.00")
    assert account_balance_as_of(checking, datetime.date(2024, 3, 1)) == D("87.00")
