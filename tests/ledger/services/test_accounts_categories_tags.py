"""The account, category and tag services (ledger.services.accounts_categories_tags): happy paths and every refusal."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from financetracker.core.errors import ConflictError
from ledger.models import (
    Account,
    Category,
    Household,
    TransactionTag,
)
from ledger.selectors import account_balance
from ledger.services import accounts_categories_tags as account_services
from ledger.services.transactions import (
    transaction_create,
)
from tests.factories import (
    CategoryFactory,
    HouseholdFactory,
)
from tests.ledger.services.support import DAY, D, field_errors

pytestmark = pytest.mark.django_db


# --- Accounts ------------------------------------------------------------------------------------


def test_account_create_stores_an_exact_opening_balance(household: Household) -> None:
    account = account_services.account_create(
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
        account_services.account_create(household=household, **values)
    if field:
        assert field in field_errors(error)


def test_account_names_are_unique_per_household_but_not_across(household: Household, checking: Account) -> None:
    with pytest.raises(ValidationError):
        account_services.account_create(household=household, name="Checking", currency="EUR", opening_date=DAY)
    other = account_services.account_create(
        household=HouseholdFactory(), name="Checking", currency="EUR", opening_date=DAY
    )
    assert other.pk


def test_account_update_changes_fields_and_refuses_unknown_ones(checking: Account) -> None:
    account_services.account_update(account=checking, name="Main", institution="Bank", archived=True)
    checking.refresh_from_db()
    assert (checking.name, checking.institution, checking.archived) == ("Main", "Bank", True)
    with pytest.raises(ValidationError):
        account_services.account_update(account=checking, household=HouseholdFactory())


def test_an_account_with_transactions_cannot_change_currency(checking: Account) -> None:
    transaction_create(account=checking, date=DAY, amount="-1.00")
    with pytest.raises(ValidationError) as error:
        account_services.account_update(account=checking, currency="USD")
    assert "currency" in field_errors(error)


def test_an_empty_account_may_change_currency(checking: Account) -> None:
    account_services.account_update(account=checking, currency="USD")
    assert Account.objects.get(pk=checking.pk).currency == "USD"


def test_account_delete_refuses_an_account_with_transactions(checking: Account) -> None:
    transaction_create(account=checking, date=DAY, amount="-1.00")
    with pytest.raises(ConflictError):
        account_services.account_delete(account=checking)
    assert Account.objects.filter(pk=checking.pk).exists()


def test_account_delete_removes_an_empty_account(checking: Account) -> None:
    account_services.account_delete(account=checking)
    assert not Account.objects.filter(pk=checking.pk).exists()


# --- Categories and tags -------------------------------------------------------------------------


def test_a_subcategory_takes_its_parents_kind(household: Household) -> None:
    salary = account_services.category_create(household=household, name="Salary", kind="income")
    bonus = account_services.category_create(household=household, name="Bonus", parent=salary)
    assert bonus.kind == "income"


def test_a_subcategory_of_another_kind_is_refused(household: Household, food: Category) -> None:
    with pytest.raises(ValidationError) as error:
        account_services.category_create(household=household, name="Refund", parent=food, kind="income")
    assert "kind" in field_errors(error)


def test_a_third_level_is_refused(household: Household, food: Category) -> None:
    groceries = account_services.category_create(household=household, name="Groceries", parent=food)
    with pytest.raises(ValidationError) as error:
        account_services.category_create(household=household, name="Organic", parent=groceries)
    assert "parent" in field_errors(error)


def test_a_parent_from_another_household_is_refused(household: Household) -> None:
    foreign = CategoryFactory(household=HouseholdFactory())
    with pytest.raises(ValidationError) as error:
        account_services.category_create(household=household, name="Mine", parent=foreign)
    assert "parent" in field_errors(error)


def test_a_category_with_children_cannot_become_a_child(household: Household, food: Category, fun: Category) -> None:
    account_services.category_create(household=household, name="Groceries", parent=food)
    with pytest.raises(ValidationError) as error:
        account_services.category_update(category=food, parent=fun)
    assert "parent" in field_errors(error)


def test_a_parent_with_children_cannot_change_kind(household: Household, food: Category) -> None:
    account_services.category_create(household=household, name="Groceries", parent=food)
    with pytest.raises(ValidationError) as error:
        account_services.category_update(category=food, kind="income")
    assert "kind" in field_errors(error)


def test_a_category_cannot_be_its_own_parent(food: Category) -> None:
    with pytest.raises(ValidationError):
        account_services.category_update(category=food, parent=food)


def test_duplicate_top_level_category_names_are_refused(household: Household, food: Category) -> None:
    with pytest.raises(ValidationError):
        account_services.category_create(household=household, name="Food")


def test_category_update_refuses_unknown_fields(food: Category) -> None:
    with pytest.raises(ValidationError):
        account_services.category_update(category=food, household=HouseholdFactory())


def test_a_category_in_use_cannot_be_deleted(checking: Account, food: Category) -> None:
    transaction_create(account=checking, date=DAY, amount="-1.00", category=food)
    with pytest.raises(ConflictError):
        account_services.category_delete(category=food)


def test_a_parent_category_cannot_be_deleted_under_its_children(household: Household, food: Category) -> None:
    account_services.category_create(household=household, name="Groceries", parent=food)
    with pytest.raises(ConflictError):
        account_services.category_delete(category=food)


def test_an_unused_category_is_deleted(food: Category) -> None:
    account_services.category_delete(category=food)
    assert not Category.objects.filter(pk=food.pk).exists()


def test_tags_are_trimmed_unique_and_deletable(household: Household, checking: Account) -> None:
    tag = account_services.tag_create(household=household, name="  holiday ")
    assert tag.name == "holiday"
    with pytest.raises(ValidationError):
        account_services.tag_create(household=household, name="holiday")
    with pytest.raises(ValidationError):
        account_services.tag_create(household=household, name="   ")
    account_services.tag_update(tag=tag, name="trip")
    tx = transaction_create(account=checking, date=DAY, amount="-1.00", tags=[tag])
    account_services.tag_delete(tag=tag)
    assert not TransactionTag.objects.filter(transaction=tx).exists()
