"""Every database invariant, proven by going around the services with the ORM and raw SQL.

Deferred triggers and composite foreign keys fire at commit; `SET CONSTRAINTS ALL IMMEDIATE` inside a
savepoint makes them fire at once, so each refusal is seen without committing anything.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from ledger.models import Account, AccountMonthTotal, Category, Household, Split, Transaction, TransactionTag, Transfer
from ledger.services.transactions import SplitLine, account_reconcile, transaction_create, transfer_create
from tests.factories import (
    AccountFactory,
    CategoryFactory,
    HouseholdFactory,
    SplitFactory,
    TagFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal


def _constraint_name(error: IntegrityError) -> str:
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    return (getattr(diag, "constraint_name", None) or "") if diag is not None else ""


@contextmanager
def refused(constraint: str) -> Iterator[None]:
    """The block must be refused by PostgreSQL, by the named constraint, even the deferred ones."""
    with pytest.raises(IntegrityError) as info, transaction.atomic():
        yield
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    assert _constraint_name(info.value) == constraint, str(info.value)


def committed_checks() -> None:
    """Fire every deferred check now, as a commit would, and expect none to fail."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def home() -> Household:
    return HouseholdFactory()


@pytest.fixture
def elsewhere() -> Household:
    return HouseholdFactory()


@pytest.fixture
def checking(home: Household) -> Account:
    return AccountFactory(household=home, name="Checking", currency="EUR")


@pytest.fixture
def savings(home: Household) -> Account:
    return AccountFactory(household=home, name="Savings", currency="EUR")


@pytest.fixture
def transfer(checking: Account, savings: Account) -> Transfer:
    return transfer_create(from_account=checking, to_account=savings, date=datetime.date(2024, 3, 1), amount="50.00")


# --- Composite household foreign keys ------------------------------------------------------------


def test_a_transaction_cannot_point_at_another_households_account(home: Household, elsewhere: Household) -> None:
    foreign = AccountFactory(household=elsewhere)
    with refused("transaction_account_same_household"):
        Transaction.objects.create(household=home, account=foreign, date=datetime.date(2024, 1, 2), amount=D("-1"))


def test_a_transaction_cannot_point_at_another_households_category(checking: Account, elsewhere: Household) -> None:
    foreign = CategoryFactory(household=elsewhere)
    with refused("transaction_category_same_household"):
        TransactionFactory(account=checking, category=foreign)


def test_a_transaction_cannot_join_another_households_transfer(checking: Account, elsewhere: Household) -> None:
    foreign = Transfer.objects.create(household=elsewhere)
    tx = TransactionFactory(account=checking)
    with refused("transaction_transfer_same_household"):
        Transaction.objects.filter(pk=tx.pk).update(transfer=foreign)


def test_a_category_cannot_have_another_households_parent(home: Household, elsewhere: Household) -> None:
    foreign = CategoryFactory(household=elsewhere)
    with refused("category_parent_same_household"):
        Category.objects.create(household=home, name="Child", parent=foreign)


def test_a_split_cannot_use_another_households_category(checking: Account, elsewhere: Household) -> None:
    tx = TransactionFactory(account=checking, amount=D("-1.00"))
    with refused("split_category_same_household"):
        Split.objects.create(
            household=checking.household,
            transaction=tx,
            category=CategoryFactory(household=elsewhere),
            amount=D("-1.00"),
        )


def test_a_split_cannot_belong_to_another_households_transaction(checking: Account, elsewhere: Household) -> None:
    tx = TransactionFactory(account=checking, amount=D("-1.00"))
    with refused("split_transaction_same_household"):
        Split.objects.create(
            household=elsewhere, transaction=tx, category=CategoryFactory(household=elsewhere), amount=D("-1.00")
        )


def test_a_tag_link_cannot_cross_households(checking: Account, elsewhere: Household) -> None:
    tx = TransactionFactory(account=checking)
    with refused("transactiontag_tag_same_household"):
        TransactionTag.objects.create(household=checking.household, transaction=tx, tag=TagFactory(household=elsewhere))


def test_a_reconciliation_cannot_name_another_households_account(home: Household, elsewhere: Household) -> None:
    foreign = AccountFactory(household=elsewhere)
    with refused("reconciliation_account_same_household"), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_reconciliation (household_id, account_id, statement_date, statement_balance,"
            " transaction_count, created_at) VALUES (%s, %s, '2024-01-31', 0, 0, now())",
            [home.pk, foreign.pk],
        )


# --- Two-level categories ------------------------------------------------------------------------


def test_three_level_categories_are_refused(home: Household) -> None:
    food = CategoryFactory(household=home, name="Food")
    groceries = CategoryFactory(household=home, name="Groceries", parent=food)
    with refused("category_two_levels"):
        Category.objects.create(household=home, name="Organic", parent=groceries)


def test_a_category_with_children_cannot_become_a_child(home: Household) -> None:
    food = CategoryFactory(household=home, name="Food")
    CategoryFactory(household=home, name="Groceries", parent=food)
    other = CategoryFactory(household=home, name="Living")
    with refused("category_two_levels"):
        Category.objects.filter(pk=food.pk).update(parent=other)


def test_a_child_category_must_have_its_parents_kind(home: Household) -> None:
    salary = CategoryFactory(household=home, name="Salary", kind="income")
    with refused("category_kind_matches_parent"):
        Category.objects.create(household=home, name="Bonus", parent=salary, kind="expense")


def test_a_parent_cannot_change_kind_under_its_children(home: Household) -> None:
    food = CategoryFactory(household=home, name="Food", kind="expense")
    CategoryFactory(household=home, name="Groceries", parent=food, kind="expense")
    with refused("category_kind_matches_parent"):
        Category.objects.filter(pk=food.pk).update(kind="income")


def test_a_category_cannot_be_its_own_parent(home: Household) -> None:
    food = CategoryFactory(household=home, name="Food")
    with refused("category_not_own_parent"):
        Category.objects.filter(pk=food.pk).update(parent=food)


def test_category_names_are_unique_per_household_and_parent_even_at_the_top(home: Household) -> None:
    CategoryFactory(household=home, name="Food")
    with refused("category_household_parent_name_unique"):
        Category.objects.create(household=home, name="Food")


# --- Splits sum to the amount --------------------------------------------------------------------


def test_splits_that_do_not_sum_to_the_amount_are_refused(checking: Account) -> None:
    tx = TransactionFactory(account=checking, amount=D("-30.00"))
    with refused("split_sum_equals_amount"):
        SplitFactory(transaction=tx, amount=D("-20.00"))
        SplitFactory(transaction=tx, amount=D("-9.99"))


def test_splits_that_sum_to_the_amount_are_accepted(checking: Account) -> None:
    tx = TransactionFactory(account=checking, amount=D("-30.00"))
    SplitFactory(transaction=tx, amount=D("-20.00"))
    SplitFactory(transaction=tx, amount=D("-10.00"))
    committed_checks()


def test_changing_the_amount_under_its_splits_is_refused(checking: Account) -> None:
    tx = TransactionFactory(account=checking, amount=D("-30.00"))
    SplitFactory(transaction=tx, amount=D("-30.00"))
    committed_checks()
    with refused("split_sum_equals_amount"):
        Transaction.objects.filter(pk=tx.pk).update(amount=D("-31.00"))


def test_deleting_one_split_of_two_is_refused(checking: Account) -> None:
    tx = TransactionFactory(account=checking, amount=D("-30.00"))
    first = SplitFactory(transaction=tx, amount=D("-20.00"))
    SplitFactory(transaction=tx, amount=D("-10.00"))
    committed_checks()
    with refused("split_sum_equals_amount"):
        Split.objects.filter(pk=first.pk).delete()


def test_deleting_a_transaction_takes_its_splits_with_it(checking: Account) -> None:
    tx = TransactionFactory(account=checking, amount=D("-30.00"))
    SplitFactory(transaction=tx, amount=D("-30.00"))
    tx.delete()
    committed_checks()
    assert not Split.objects.exists()


# --- Transfer pairs ------------------------------------------------------------------------------


def test_a_transfer_with_one_side_is_refused(checking: Account) -> None:
    pair = Transfer.objects.create(household=checking.household)
    with refused("transfer_pair_balanced"):
        TransactionFactory(account=checking, amount=D("-5.00"), transfer=pair)


def test_a_transfer_within_one_account_is_refused(checking: Account) -> None:
    pair = Transfer.objects.create(household=checking.household)
    with refused("transfer_pair_balanced"):
        TransactionFactory(account=checking, amount=D("-5.00"), transfer=pair)
        TransactionFactory(account=checking, amount=D("5.00"), transfer=pair)


def test_a_same_currency_transfer_that_does_not_sum_to_zero_is_refused(checking: Account, savings: Account) -> None:
    pair = Transfer.objects.create(household=checking.household)
    with refused("transfer_pair_balanced"):
        TransactionFactory(account=checking, amount=D("-5.00"), transfer=pair)
        TransactionFactory(account=savings, amount=D("4.99"), transfer=pair)


def test_a_transfer_with_two_outgoing_sides_is_refused(checking: Account, savings: Account) -> None:
    pair = Transfer.objects.create(household=checking.household)
    with refused("transfer_pair_balanced"):
        TransactionFactory(account=checking, amount=D("-5.00"), transfer=pair)
        TransactionFactory(account=savings, amount=D("-5.00"), transfer=pair)


def test_a_transfer_side_cannot_be_zero(checking: Account) -> None:
    pair = Transfer.objects.create(household=checking.household)
    with refused("transaction_transfer_nonzero"):
        TransactionFactory(account=checking, amount=D("0"), transfer=pair)


def test_a_cross_currency_transfer_may_have_different_amounts(checking: Account, home: Household) -> None:
    dollars = AccountFactory(household=home, currency="USD")
    pair = Transfer.objects.create(household=home)
    TransactionFactory(account=checking, amount=D("-100.00"), transfer=pair)
    TransactionFactory(account=dollars, amount=D("108.20"), transfer=pair)
    committed_checks()


def test_deleting_one_transfer_side_alone_is_refused(transfer: Transfer) -> None:
    side = transfer.transactions.first()
    assert side is not None
    with refused("transfer_pair_balanced"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_transaction WHERE id = %s", [side.pk])


def test_changing_one_transfer_sides_amount_is_refused(transfer: Transfer) -> None:
    side = transfer.transactions.get(amount__gt=0)
    with refused("transfer_pair_balanced"):
        Transaction.objects.filter(pk=side.pk).update(amount=D("49.00"))


def test_deleting_the_transfer_deletes_both_sides(transfer: Transfer) -> None:
    transfer.delete()
    committed_checks()
    assert not Transaction.objects.exists()


# --- The reconciliation lock ---------------------------------------------------------------------


@pytest.fixture
def reconciled(checking: Account) -> Transaction:
    tx = TransactionFactory(account=checking, amount=D("-10.00"), date=datetime.date(2024, 2, 1))
    account_reconcile(account=checking, statement_date=datetime.date(2024, 2, 29), statement_balance="-10.00")
    tx.refresh_from_db()
    assert tx.status == "reconciled"
    return tx


@pytest.mark.parametrize(
    "change",
    [
        {"amount": D("-11.00")},
        {"date": datetime.date(2024, 2, 2)},
        {"household_id": None},
    ],
    ids=["amount", "date", "household"],
)
def test_a_reconciled_rows_money_facts_cannot_change(reconciled: Transaction, change: dict[str, object]) -> None:
    if "household_id" in change:
        change = {"household_id": HouseholdFactory().pk}
    with refused("transaction_reconciled_lock"):
        Transaction.objects.filter(pk=reconciled.pk).update(**change)


def test_a_reconciled_row_cannot_move_to_another_account(reconciled: Transaction, savings: Account) -> None:
    with refused("transaction_reconciled_lock"):
        Transaction.objects.filter(pk=reconciled.pk).update(account=savings)


def test_a_reconciled_row_cannot_be_deleted(reconciled: Transaction) -> None:
    with refused("transaction_reconciled_lock"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_transaction WHERE id = %s", [reconciled.pk])


def test_a_reconciled_rows_splits_cannot_change(reconciled: Transaction, home: Household) -> None:
    with refused("transaction_reconciled_lock"):
        Split.objects.create(
            household=home, transaction=reconciled, category=CategoryFactory(household=home), amount=D("-10.00")
        )


def test_un_reconciling_and_changing_the_amount_in_one_statement_is_refused(reconciled: Transaction) -> None:
    with refused("transaction_reconciled_lock"):
        Transaction.objects.filter(pk=reconciled.pk).update(status="cleared", amount=D("-99.00"))


def test_un_reconciling_alone_is_allowed_by_the_database(reconciled: Transaction) -> None:
    Transaction.objects.filter(pk=reconciled.pk).update(status="cleared")
    committed_checks()
    reconciled.refresh_from_db()
    assert reconciled.status == "cleared"


def test_a_reconciled_rows_payee_may_still_be_corrected_in_the_database(reconciled: Transaction) -> None:
    # The database locks the money facts; the services and API lock everything (see test_reconciliation).
    Transaction.objects.filter(pk=reconciled.pk).update(payee="Corrected")
    committed_checks()


# --- Monthly account totals ----------------------------------------------------------------------


def assert_month_totals_match_rows() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(t.account_id, m.account_id), coalesce(t.month, m.month),
                   coalesce(t.total, 0), coalesce(m.total, 0), coalesce(t.rows, 0), coalesce(m.row_count, 0)
              FROM (SELECT account_id, date_trunc('month', date)::date AS month, sum(amount) AS total,
                           count(*) AS rows
                      FROM ledger_transaction GROUP BY 1, 2) t
              FULL JOIN ledger_accountmonthtotal m ON m.account_id = t.account_id AND m.month = t.month
             WHERE coalesce(t.total, 0) <> coalesce(m.total, 0) OR coalesce(t.rows, 0) <> coalesce(m.row_count, 0)
            """
        )
        assert cursor.fetchall() == []


def test_month_totals_follow_inserts_updates_deletes_and_moves(checking: Account, savings: Account) -> None:
    march = TransactionFactory(account=checking, amount=D("-10.00"), date=datetime.date(2024, 3, 5))
    TransactionFactory(account=checking, amount=D("-2.50"), date=datetime.date(2024, 3, 31))
    april = TransactionFactory(account=checking, amount=D("100.00"), date=datetime.date(2024, 4, 1))
    assert_month_totals_match_rows()
    assert AccountMonthTotal.objects.get(account=checking, month=datetime.date(2024, 3, 1)).total == D("-12.50")

    Transaction.objects.filter(pk=march.pk).update(amount=D("-11.00"))
    assert_month_totals_match_rows()
    Transaction.objects.filter(pk=march.pk).update(date=datetime.date(2024, 5, 1))
    assert_month_totals_match_rows()
    Transaction.objects.filter(pk=april.pk).update(account=savings)
    assert_month_totals_match_rows()
    Transaction.objects.filter(pk=april.pk).update(account=checking, date=datetime.date(2023, 12, 31), amount=D("7"))
    assert_month_totals_match_rows()
    Transaction.objects.filter(pk=march.pk).delete()
    assert_month_totals_match_rows()
    assert AccountMonthTotal.objects.get(account=checking, month=datetime.date(2024, 5, 1)).row_count == 0


def test_month_totals_follow_bulk_statements(checking: Account, savings: Account) -> None:
    Transaction.objects.bulk_create(
        Transaction(household=checking.household, account=checking, date=datetime.date(2024, month, 1), amount=D(month))
        for month in range(1, 13)
        for _ in range(3)
    )
    assert_month_totals_match_rows()
    Transaction.objects.filter(date__month__lte=6).update(account=savings)
    assert_month_totals_match_rows()
    Transaction.objects.filter(date__month__gte=10).delete()
    assert_month_totals_match_rows()
    assert AccountMonthTotal.objects.get(account=savings, month=datetime.date(2024, 2, 1)).total == D("6")


def test_month_totals_follow_service_writes(checking: Account, savings: Account, home: Household) -> None:
    food = CategoryFactory(household=home)
    transaction_create(
        account=checking,
        date=datetime.date(2024, 6, 3),
        amount="-30.00",
        splits=[SplitLine(category=food, amount=D("-30.00"))],
    )
    transfer_create(from_account=checking, to_account=savings, date=datetime.date(2024, 6, 30), amount="5.00")
    assert_month_totals_match_rows()


# --- Check constraints ---------------------------------------------------------------------------


def test_an_unknown_status_is_refused(checking: Account) -> None:
    tx = TransactionFactory(account=checking)
    with refused("transaction_status_valid"):
        Transaction.objects.filter(pk=tx.pk).update(status="void")


@pytest.mark.parametrize("currency", ["eur", "EU", "E1R", "1AB"])
def test_a_currency_must_be_three_capital_letters(checking: Account, currency: str) -> None:
    with refused("account_currency_iso"):
        Account.objects.filter(pk=checking.pk).update(currency=currency)


def test_a_household_base_currency_must_be_three_capital_letters(home: Household) -> None:
    with refused("household_base_currency_iso"):
        Household.objects.filter(pk=home.pk).update(base_currency="eu")


@pytest.mark.parametrize("day", [0, 29, 31])
def test_the_budget_month_starts_on_a_day_from_1_to_28(home: Household, day: int) -> None:
    with refused("household_budget_month_start_day_1_28"):
        Household.objects.filter(pk=home.pk).update(budget_month_start_day=day)


@pytest.mark.parametrize("day", [1, 28])
def test_budget_month_start_days_1_and_28_are_accepted(home: Household, day: int) -> None:
    Household.objects.filter(pk=home.pk).update(budget_month_start_day=day)


def test_an_unknown_account_kind_is_refused(checking: Account) -> None:
    with refused("account_kind_valid"):
        Account.objects.filter(pk=checking.pk).update(kind="crypto")


def test_account_names_are_unique_per_household(checking: Account, home: Household) -> None:
    with refused("account_household_name_unique"):
        AccountFactory(household=home, name=checking.name)


def test_an_unknown_membership_role_is_refused(home: Household) -> None:
    from ledger.models import Membership
    from tests.factories import UserFactory

    membership = Membership.objects.filter(user=UserFactory()).get()
    with refused("membership_role_valid"):
        Membership.objects.filter(pk=membership.pk).update(role="admin")
