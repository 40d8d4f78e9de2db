"""The suite's own promise: a test that leaves the books inconsistent fails, as its COMMIT would."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from ledger.models import Household
from tests.conftest import check_deferred_constraints
from tests.factories import AccountFactory, CategoryFactory, SplitFactory, TransactionFactory


def test_a_split_that_does_not_sum_to_its_transaction_fails_the_end_of_test_check(household: Household) -> None:
    account = AccountFactory(household=household)
    tx = TransactionFactory(account=account, amount=Decimal("-10.00"))
    # Everything inside the savepoint, so its rollback also drops the queued trigger events.
    with pytest.raises(AssertionError, match="inconsistent"), transaction.atomic():
        SplitFactory(transaction=tx, category=CategoryFactory(household=household), amount=Decimal("-4.00"))
        check_deferred_constraints()


def test_consistent_books_pass_the_end_of_test_check(household: Household) -> None:
    account = AccountFactory(household=household)
    tx = TransactionFactory(account=account, amount=Decimal("-10.00"))
    SplitFactory(transaction=tx, category=CategoryFactory(household=household), amount=Decimal("-10.00"))
    check_deferred_constraints()


def test_every_database_test_runs_the_check(request: pytest.FixtureRequest, household: Household) -> None:
    assert "_deferred_constraints_hold" in request.fixturenames
