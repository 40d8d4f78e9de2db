"""The services are the only writers: their happy paths and every refusal."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from ledger.errors import ConflictError, ReconciledTransactionError
from ledger.models import (
    Account,
    AccountMonthTotal,
    Category,
    Household,
    Membership,
    Reconciliation,
    Role,
    Split,
    Transaction,
    TransactionTag,
    Transfer,
    User,
)
from ledger.selectors import account_balance, account_balance_as_of
from ledger.services import books, households
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
    TagFactory,
    TransactionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = Decimal
DAY = datetime.date(2024, 3, 15)


def field_errors(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict


@pytest.fixture
def checking(household: Household) -> Account:
    return books.account_create(
        household=household, name="Checking", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )


@pytest.fixture
def savings(household: Household) -> Account:
    return books.account_create(
        household=household, name="Savings", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )


@pytest.fixture
def dollars(household: Household) -> Account:
    return books.account_create(
        household=household, name="Dollars", currency="USD", opening_date=datetime.date(2024, 1, 1)
    )


@pytest.fixture
def food(household: Household) -> Category:
    return books.category_create(household=household, name="Food")


@pytest.fixture
def fun(household: Household) -> Category:
    return books.category_create(household=household, name="Fun")


# --- Accounts ------------------------------------------------------------------------------------


def test_account_create_stores_an_exact_opening_balance(household: Household) -> None:
    account = books.account_create(
        household=household, name="Wallet", currency="JPY", opening_date=DAY, opening_balance="1500", kind="cash"
    )
    assert account.opening_balance == D("1500")
    assert account_balance(account) == D("1500")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"currency": "XXX"}, None),
        ({"opening_balance": "1.001"}, "opening_balance"),
        ({"kind": "crypto"}, "kind"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
    ],
)
def test_account_create_refuses_bad_input(household: Household, fields: dict[str, str], field: str | None) -> None:
    values = {"name": "Wallet", "currency": "EUR", "opening_date": DAY, **fields}
    with pytest.raises(ValidationError) as error:
        books.account_create(household=household, **values)  # type: ignore[arg-type]
    if field:
        assert field in field_errors(error)


def test_account_names_are_unique_per_household_but_not_across(household: Household, checking: Account) -> None:
    with pytest.raises(ValidationError):
        books.account_create(household=household, name="Checking", currency="EUR", opening_date=DAY)
    other = books.account_create(household=HouseholdFactory(), name="Checking", currency="EUR", opening_date=DAY)
    assert other.pk


def test_account_update_changes_fields_and_refuses_unknown_ones(checking: Account) -> None:
    books.account_update(account=checking, name="Main", institution="Bank", archived=True)
    checking.refresh_from_db()
    assert (checking.name, checking.institution, checking.archived) == ("Main", "Bank", True)
    with pytest.raises(ValidationError):
        books.account_update(account=checking, household=HouseholdFactory())


def test_an_account_with_transactions_cannot_change_currency(checking: Account) -> None:
    transaction_create(account=checking, date=DAY, amount="-1.00")
    with pytest.raises(ValidationError) as error:
        books.account_update(account=checking, currency="USD")
    assert "currency" in field_errors(error)


def test_an_empty_account_may_change_currency(checking: Account) -> None:
    books.account_update(account=checking, currency="USD")
    assert Account.objects.get(pk=checking.pk).currency == "USD"


def test_account_delete_refuses_an_account_with_transactions(checking: Account) -> None:
    transaction_create(account=checking, date=DAY, amount="-1.00")
    with pytest.raises(ConflictError):
        books.account_delete(account=checking)
    assert Account.objects.filter(pk=checking.pk).exists()


def test_account_delete_removes_an_empty_account(checking: Account) -> None:
    books.account_delete(account=checking)
    assert not Account.objects.filter(pk=checking.pk).exists()


# --- Categories and tags -------------------------------------------------------------------------


def test_a_subcategory_takes_its_parents_kind(household: Household) -> None:
    salary = books.category_create(household=household, name="Salary", kind="income")
    bonus = books.category_create(household=household, name="Bonus", parent=salary)
    assert bonus.kind == "income"


def test_a_subcategory_of_another_kind_is_refused(household: Household, food: Category) -> None:
    with pytest.raises(ValidationError) as error:
        books.category_create(household=household, name="Refund", parent=food, kind="income")
    assert "kind" in field_errors(error)


def test_a_third_level_is_refused(household: Household, food: Category) -> None:
    groceries = books.category_create(household=household, name="Groceries", parent=food)
    with pytest.raises(ValidationError) as error:
        books.category_create(household=household, name="Organic", parent=groceries)
    assert "parent" in field_errors(error)


def test_a_parent_from_another_household_is_refused(household: Household) -> None:
    foreign = CategoryFactory(household=HouseholdFactory())
    with pytest.raises(ValidationError) as error:
        books.category_create(household=household, name="Mine", parent=foreign)
    assert "parent" in field_errors(error)


def test_a_category_with_children_cannot_become_a_child(household: Household, food: Category, fun: Category) -> None:
    books.category_create(household=household, name="Groceries", parent=food)
    with pytest.raises(ValidationError) as error:
        books.category_update(category=food, parent=fun)
    assert "parent" in field_errors(error)


def test_a_parent_with_children_cannot_change_kind(household: Household, food: Category) -> None:
    books.category_create(household=household, name="Groceries", parent=food)
    with pytest.raises(ValidationError) as error:
        books.category_update(category=food, kind="income")
    assert "kind" in field_errors(error)


def test_a_category_cannot_be_its_own_parent(food: Category) -> None:
    with pytest.raises(ValidationError):
        books.category_update(category=food, parent=food)


def test_duplicate_top_level_category_names_are_refused(household: Household, food: Category) -> None:
    with pytest.raises(ValidationError):
        books.category_create(household=household, name="Food")


def test_category_update_refuses_unknown_fields(food: Category) -> None:
    with pytest.raises(ValidationError):
        books.category_update(category=food, household=HouseholdFactory())


def test_a_category_in_use_cannot_be_deleted(checking: Account, food: Category) -> None:
    transaction_create(account=checking, date=DAY, amount="-1.00", category=food)
    with pytest.raises(ConflictError):
        books.category_delete(category=food)


def test_a_parent_category_cannot_be_deleted_under_its_children(household: Household, food: Category) -> None:
    books.category_create(household=household, name="Groceries", parent=food)
    with pytest.raises(ConflictError):
        books.category_delete(category=food)


def test_an_unused_category_is_deleted(food: Category) -> None:
    books.category_delete(category=food)
    assert not Category.objects.filter(pk=food.pk).exists()


def test_tags_are_trimmed_unique_and_deletable(household: Household, checking: Account) -> None:
    tag = books.tag_create(household=household, name="  holiday ")
    assert tag.name == "holiday"
    with pytest.raises(ValidationError):
        books.tag_create(household=household, name="holiday")
    with pytest.raises(ValidationError):
        books.tag_create(household=household, name="   ")
    books.tag_update(tag=tag, name="trip")
    tx = transaction_create(account=checking, date=DAY, amount="-1.00", tags=[tag])
    books.tag_delete(tag=tag)
    assert not TransactionTag.objects.filter(transaction=tx).exists()


# --- Transactions --------------------------------------------------------------------------------


def test_transaction_create_with_splits_and_tags(
    household: Household, checking: Account, food: Category, fun: Category
) -> None:
    tag = TagFactory(household=household)
    tx = transaction_create(
        account=checking,
        date=DAY,
        amount="-30.00",
        category=food,
        tags=[tag, tag],
        splits=[
            SplitLine(category=food, amount=D("-20.00")),
            SplitLine(category=fun, amount=D("-10.00"), memo="cinema"),
        ],
    )
    assert tx.household_id == household.pk
    assert tx.category is None  # a split transaction is categorised by its lines
    assert sorted(Split.objects.filter(transaction=tx).values_list("amount", flat=True)) == [D("-20.00"), D("-10.00")]
    assert list(tx.tags.all()) == [tag]


@pytest.mark.parametrize(
    ("amount", "field"),
    [("12.345", "amount"), ("1e3", "amount"), ("abc", "amount"), (1.5, "amount"), ("9" * 16, "amount")],
)
def test_transaction_create_refuses_bad_amounts(checking: Account, amount: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        transaction_create(account=checking, date=DAY, amount=amount)  # type: ignore[arg-type]
    assert field in field_errors(error)
    assert not Transaction.objects.exists()


def test_splits_must_sum_to_the_amount(checking: Account, food: Category, fun: Category) -> None:
    with pytest.raises(ValidationError) as error:
        transaction_create(
            account=checking,
            date=DAY,
            amount="-30.00",
            splits=[SplitLine(category=food, amount=D("-20.00")), SplitLine(category=fun, amount=D("-9.99"))],
        )
    assert "29.99" in field_errors(error)["splits"][0]
    assert not Transaction.objects.exists()


def test_split_amounts_respect_the_currency(checking: Account, food: Category) -> None:
    with pytest.raises(ValidationError) as error:
        transaction_create(
            account=checking, date=DAY, amount="-1.00", splits=[SplitLine(category=food, amount=D("-1.000001"))]
        )
    assert "splits" in field_errors(error)


def test_categories_tags_and_split_categories_of_another_household_are_refused(checking: Account) -> None:
    elsewhere = HouseholdFactory()
    with pytest.raises(ValidationError) as error:
        transaction_create(account=checking, date=DAY, amount="-1.00", category=CategoryFactory(household=elsewhere))
    assert "category" in field_errors(error)
    with pytest.raises(ValidationError) as error:
        transaction_create(account=checking, date=DAY, amount="-1.00", tags=[TagFactory(household=elsewhere)])
    assert "tags" in field_errors(error)
    with pytest.raises(ValidationError) as error:
        transaction_create(
            account=checking,
            date=DAY,
            amount="-1.00",
            splits=[SplitLine(category=CategoryFactory(household=elsewhere), amount=D("-1.00"))],
        )
    assert "splits" in field_errors(error)
    assert not Transaction.objects.exists()


def test_a_transaction_cannot_be_created_reconciled(checking: Account) -> None:
    with pytest.raises(ValidationError) as error:
        transaction_create(account=checking, date=DAY, amount="-1.00", status="reconciled")
    assert "status" in field_errors(error)


def test_transaction_update_changes_amount_and_splits_together(
    checking: Account, food: Category, fun: Category
) -> None:
    tx = transaction_create(
        account=checking, date=DAY, amount="-30.00", splits=[SplitLine(category=food, amount=D("-30.00"))]
    )
    with pytest.raises(ValidationError) as error:
        transaction_update(transaction_obj=tx, amount=D("-40.00"))
    assert "splits" in field_errors(error)
    transaction_update(
        transaction_obj=tx,
        amount=D("-40.00"),
        splits=[SplitLine(category=food, amount=D("-25.00")), SplitLine(category=fun, amount=D("-15.00"))],
    )
    assert Transaction.objects.get(pk=tx.pk).amount == D("-40.00")
    assert Split.objects.filter(transaction=tx).count() == 2


def test_transaction_update_moves_between_accounts_of_the_household(checking: Account, savings: Account) -> None:
    tx = transaction_create(account=checking, date=DAY, amount="-30.00")
    transaction_update(transaction_obj=tx, account=savings, date=datetime.date(2024, 4, 1))
    assert account_balance(checking) == D("0")
    assert account_balance(savings) == D("-30.00")


def test_transaction_update_refuses_another_households_account_and_unknown_fields(checking: Account) -> None:
    tx = transaction_create(account=checking, date=DAY, amount="-30.00")
    with pytest.raises(ValidationError) as error:
        transaction_update(transaction_obj=tx, account=AccountFactory(household=HouseholdFactory()))
    assert "account" in field_errors(error)
    with pytest.raises(ValidationError):
        transaction_update(transaction_obj=tx, household=HouseholdFactory())
    with pytest.raises(ValidationError) as error:
        transaction_update(transaction_obj=tx, status="reconciled")
    assert "status" in field_errors(error)


def test_transaction_update_checks_the_amount_against_the_new_accounts_currency(
    checking: Account, household: Household
) -> None:
    yen = books.account_create(household=household, name="Yen", currency="JPY", opening_date=DAY)
    tx = transaction_create(account=checking, date=DAY, amount="-30.50")
    with pytest.raises(ValidationError) as error:
        transaction_update(transaction_obj=tx, account=yen)
    assert "amount" in field_errors(error)


def test_transaction_delete_removes_the_row_and_its_splits(checking: Account, food: Category) -> None:
    tx = transaction_create(
        account=checking, date=DAY, amount="-3.00", splits=[SplitLine(category=food, amount=D("-3.00"))]
    )
    transaction_delete(transaction_obj=tx)
    assert not Transaction.objects.exists()
    assert not Split.objects.exists()
    assert account_balance(checking) == D("0")


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
    values: dict[str, object] = {"amount": "5.00", **kwargs}
    values["to_account"] = accounts.get(kwargs.get("to_account", ""), savings)
    with pytest.raises(ValidationError) as error:
        transfer_create(from_account=checking, date=DAY, **values)  # type: ignore[arg-type]
    assert field in field_errors(error)
    assert not Transfer.objects.exists()
    assert not Transaction.objects.exists()


def test_a_transfer_that_fails_while_writing_leaves_nothing_behind(checking: Account, savings: Account) -> None:
    # No date: the pair's insert fails after the Transfer row was written; the atomic block takes both back.
    with pytest.raises(IntegrityError):
        transfer_create(from_account=checking, to_account=savings, date=None, amount="5.00")  # type: ignore[arg-type]
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
    transaction_delete(transaction_obj=transfer.transactions.first())  # type: ignore[arg-type]
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
    books.account_update(account=checking, opening_balance="100.00")
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
    books.account_update(account=checking, opening_balance="100.00")
    transaction_create(account=checking, date=datetime.date(2024, 1, 31), amount="-10.00")
    transaction_create(account=checking, date=datetime.date(2024, 2, 1), amount="-1.00")
    transaction_create(account=checking, date=datetime.date(2024, 2, 15), amount="-2.00")
    assert account_balance_as_of(checking, datetime.date(2023, 12, 31)) == D("0")
    assert account_balance_as_of(checking, datetime.date(2024, 1, 31)) == D("90.00")
    assert account_balance_as_of(checking, datetime.date(2024, 2, 1)) == D("89.00")
    assert account_balance_as_of(checking, datetime.date(2024, 2, 14)) == D("89.00")
    assert account_balance_as_of(checking, datetime.date(2024, 3, 1)) == D("87.00")


# --- Households ----------------------------------------------------------------------------------


def test_signing_up_creates_a_personal_household_owned_by_the_person(owner: User, household: Household) -> None:
    assert Membership.objects.get(user=owner).role == Role.OWNER


def test_household_create_validates_its_fields(owner: User) -> None:
    with pytest.raises(ValidationError):
        households.household_create(owner=owner, name="Bad", budget_month_start_day=29)
    with pytest.raises(ValidationError):
        households.household_create(owner=owner, name="Bad", base_currency="XXX")


def test_a_household_needs_an_owner(owner: User, household: Household) -> None:
    membership = Membership.objects.get(user=owner, household=household)
    with pytest.raises(ConflictError):
        households.membership_set(household=household, user=owner, role=Role.VIEWER)
    with pytest.raises(ConflictError):
        households.membership_remove(membership=membership)
    second = UserFactory()
    households.membership_set(household=household, user=second, role=Role.OWNER)
    households.membership_set(household=household, user=owner, role=Role.EDITOR)
    assert Membership.objects.get(pk=membership.pk).role == Role.EDITOR


def test_membership_set_refuses_an_unknown_role(household: Household) -> None:
    with pytest.raises(ValidationError):
        households.membership_set(household=household, user=UserFactory(), role="admin")


def test_household_update_validates(household: Household) -> None:
    households.household_update(household=household, budget_month_start_day=25)
    with pytest.raises(ValidationError):
        households.household_update(household=household, budget_month_start_day=0)


def test_household_purge_deletes_everything_reconciled_rows_included(
    household: Household, checking: Account, savings: Account, food: Category
) -> None:
    transaction_create(
        account=checking, date=DAY, amount="-10.00", splits=[SplitLine(category=food, amount=D("-10.00"))]
    )
    transfer_create(from_account=checking, to_account=savings, date=DAY, amount="5.00")
    account_reconcile(account=checking, statement_date=DAY, statement_balance="-15.00")
    assert Transaction.objects.filter(status="reconciled").count() == 2
    keep = AccountFactory(household=HouseholdFactory())
    TransactionFactory(account=keep)
    households.household_delete(household=household)
    assert not Household.objects.filter(pk=household.pk).exists()
    assert list(Transaction.objects.values_list("account_id", flat=True)) == [keep.pk]
    assert not Account.objects.filter(household_id=household.pk).exists()
    assert not Split.objects.exists()
    assert not Reconciliation.objects.exists()


def test_the_reconciliation_lock_stays_on_after_a_purge(household: Household, checking: Account) -> None:
    households.household_delete(household=HouseholdFactory())
    transaction_create(account=checking, date=DAY, amount="-10.00")
    account_reconcile(account=checking, statement_date=DAY, statement_balance="-10.00")
    with pytest.raises(IntegrityError):
        Transaction.objects.all().delete()
