"""The household services (ledger.services.households): sign-up, owners, members, purges."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from financetracker.core.errors import ConflictError
from ledger.models import (
    Account,
    Category,
    Household,
    Membership,
    Reconciliation,
    Role,
    Split,
    Transaction,
    User,
)
from ledger.services import households
from ledger.services.transactions import (
    SplitLine,
    account_reconcile,
    transaction_create,
    transfer_create,
)
from tests.factories import (
    AccountFactory,
    HouseholdFactory,
    TransactionFactory,
    UserFactory,
)
from tests.ledger.services.support import DAY, D

pytestmark = pytest.mark.django_db


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
