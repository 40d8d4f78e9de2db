"""Fixtures of the back-office (admin) tests: the household's books with one transaction, and an outsider's
books whose every name carries SECRET (tests.ledger.back_office), so a page that leaks them is caught."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from ledger.models import (
    Household,
    TransactionStatus,
    User,
)
from ledger.rules import rule_create
from ledger.services.books import account_create, category_create, tag_create
from ledger.services.transactions import transaction_create
from tests.ledger.back_office import SECRET


@pytest.fixture
def books(household: Household, owner: User) -> dict[str, Any]:
    checking = account_create(
        household=household, name="Checking", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    food = category_create(household=household, name="Food")
    groceries = category_create(household=household, name="Groceries", parent=food)
    travel = category_create(household=household, name="Travel")
    tag = tag_create(household=household, name="holiday")
    tx = transaction_create(
        account=checking,
        date=datetime.date(2024, 3, 1),
        amount="-40.00",
        payee="Corner shop",
        category=groceries,
        status=TransactionStatus.PENDING,
        tags=[tag],
        user=owner,
    )
    return {"account": checking, "food": food, "groceries": groceries, "travel": travel, "tag": tag, "tx": tx}


@pytest.fixture
def outsider_books(outsider_household: Household, outsider: User) -> dict[str, Any]:
    account = account_create(
        household=outsider_household, name=f"{SECRET} account", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    category = category_create(household=outsider_household, name=f"{SECRET} category")
    tag = tag_create(household=outsider_household, name=f"{SECRET} tag")
    tx = transaction_create(
        account=account, date=datetime.date(2024, 3, 2), amount="-99.00", payee=f"{SECRET} payee", category=category
    )
    rule = rule_create(
        household=outsider_household,
        name=f"{SECRET} rule",
        conditions=[{"field": "payee", "operator": "contains", "value": "x"}],
        set_category=category,
    )
    return {"account": account, "category": category, "tag": tag, "tx": tx, "rule": rule}
