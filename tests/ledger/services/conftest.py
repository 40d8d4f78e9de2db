"""Fixtures of the ledger service tests: a household's accounts made through the services (its categories,
`food` and `fun`, come from tests/ledger/conftest.py)."""

from __future__ import annotations

import datetime

import pytest

from ledger.models import Account, Household
from ledger.services import accounts_categories_tags as account_services


def opened_on_new_year(household: Household, name: str, currency: str = "EUR") -> Account:
    return account_services.account_create(
        household=household, name=name, currency=currency, opening_date=datetime.date(2024, 1, 1)
    )


@pytest.fixture
def checking(household: Household) -> Account:
    return opened_on_new_year(household, "Checking")


@pytest.fixture
def savings(household: Household) -> Account:
    return opened_on_new_year(household, "Savings")


@pytest.fixture
def dollars(household: Household) -> Account:
    return opened_on_new_year(household, "Dollars", "USD")
