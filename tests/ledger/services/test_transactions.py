"""The transaction services: splits, tags, updates and deletes, and every refusal."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from ledger.models import (
    Account,
    Category,
    Household,
    Split,
    Transaction,
)
from ledger.selectors import account_balance
from ledger.services import accounts_categories_tags as account_services
from ledger.services.transactions import (
    SplitLine,
    transaction_create,
    transaction_delete,
    transaction_update,
)
from tests.factories import (
    AccountFactory,
    CategoryFactory,
    HouseholdFactory,
    TagFactory,
)
from tests.ledger.services.support import DAY, D, field_errors

pytestmark = pytest.mark.django_db


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
def test_transaction_create_refuses_bad_amounts(checking: Account, amount: Any, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        transaction_create(account=checking, date=DAY, amount=amount)
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
    yen = account_services.account_create(household=household, name="Yen", currency="JPY", opening_date=DAY)
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
