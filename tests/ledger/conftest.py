"""Fixtures of the ledger tests. For the back-office (admin) tests: the shared books (tests.factories.books_for)
with one pending purchase in them, and an outsider's books whose every name carries SECRET
(tests.ledger.back_office), with a transaction and a rule, so a page that leaks them is caught. For the tests
that write through the services: two categories, `food` and `fun`, made by them."""

from __future__ import annotations

import datetime

import pytest

from ledger.models import Category, Household, Transaction, TransactionStatus, User
from ledger.rules import rule_create
from ledger.services import accounts_categories_tags as account_services
from ledger.services.transactions import transaction_create
from tests.factories import Books, books_for
from tests.ledger.back_office import SECRET


@pytest.fixture
def books(books: Books, owner: User) -> Books:
    transaction_create(
        account=books.checking,
        date=datetime.date(2024, 3, 1),
        amount="-40.00",
        payee="Corner shop",
        category=books.groceries,
        status=TransactionStatus.PENDING,
        tags=[books.holiday],
        user=owner,
    )
    return books


@pytest.fixture
def purchase(books: Books) -> Transaction:
    """The pending purchase in the household's books."""
    return Transaction.objects.get(household=books.household, payee="Corner shop")


@pytest.fixture
def outsider_books(outsider_household: Household) -> Books:
    books = books_for(outsider_household, prefix=f"{SECRET} ")
    transaction_create(
        account=books.checking,
        date=datetime.date(2024, 3, 2),
        amount="-99.00",
        payee=f"{SECRET} payee",
        category=books.food,
    )
    rule_create(
        household=outsider_household,
        name=f"{SECRET} rule",
        conditions=[{"field": "payee", "operator": "contains", "value": "x"}],
        set_category=books.food,
    )
    return books


@pytest.fixture
def their_purchase(outsider_books: Books) -> Transaction:
    """The outsider's transaction."""
    return Transaction.objects.get(household=outsider_books.household)


@pytest.fixture
def food(household: Household) -> Category:
    return account_services.category_create(household=household, name="Food")


@pytest.fixture
def fun(household: Household) -> Category:
    return account_services.category_create(household=household, name="Fun")
