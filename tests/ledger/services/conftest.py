"""Fixtures of the ledger service tests: a household's accounts and categories made through the services."""

from __future__ import annotations

import datetime

import pytest

from ledger.models import Account, Category, Household
from ledger.services import accounts_categories_tags as account_services


@pytest.fixture
def checking(household: Household) -> Account:
    return account_services.account_create(
        household=household, name="Checking", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )


@pytest.fixture
def savings(household: Household) -> Account:
    return account_services.account_create(
        household=household, name="Savings", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )


@pytest.fixture
def dollars(household: Household) -> Account:
    return account_services.account_create(
        household=household, name="Dollars", currency="USD", opening_date=datetime.date(2024, 1, 1)
    )


@pytest.fixture
def food(household: Household) -> Category:
    return account_services.category_create(household=household, name="Food")


@pytest.fixture
def fun(household: Household) -> Category:
    return account_services.category_create(household=household, name="Fun")
