"""Fixtures of the budgets tests: a household's books with hand-computable figures."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from ledger.models import Account, Category, Household
from tests.factories import AccountFactory, CategoryFactory


@dataclass
class Books:
    household: Household
    checking: Account
    savings: Account
    food: Category
    groceries: Category
    restaurants: Category
    rent: Category
    salary: Category


@pytest.fixture
def books(household: Household) -> Books:
    food = CategoryFactory(household=household, name="Food")
    return Books(
        household=household,
        checking=AccountFactory(household=household, name="Checking", opening_date=datetime.date(2023, 1, 1)),
        savings=AccountFactory(
            household=household, name="Savings", kind="savings", opening_date=datetime.date(2023, 1, 1)
        ),
        food=food,
        groceries=CategoryFactory(household=household, name="Groceries", parent=food),
        restaurants=CategoryFactory(household=household, name="Restaurants", parent=food),
        rent=CategoryFactory(household=household, name="Rent"),
        salary=CategoryFactory(household=household, name="Salary", kind="income"),
    )
