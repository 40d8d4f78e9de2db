"""Hypothesis strategies for generated households, and the code that builds one through the services
while recording the same facts in the reference model."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

from hypothesis import strategies as st

from budgets.services.budget_lines import budget_set
from budgets.services.rates import exchange_rate_create
from financetracker.core.errors import ConflictError
from ledger.models import Account, Category, Household, Transaction, User
from ledger.services.accounts_categories_tags import account_create, category_create
from ledger.services.households import household_create
from ledger.services.transactions import SplitLine, transaction_create, transaction_delete, transfer_create
from tests.reference import model

CURRENCIES = ["EUR", "USD", "JPY", "KWD"]
FIRST_DAY = date(2024, 1, 1)
DAYS = 130  # the books span 2024-01-01 .. 2024-05-09
REPORT_MONTHS = [date(2024, m, 1) for m in (1, 2, 3, 4)]
# Rates whose inverse is a terminating decimal (so the inverse is exact wherever it is computed), plus
# a few arbitrary ones: amount x rate lands exactly on half a minor unit often with the first kind.
RATES = [Decimal(x) for x in ("0.5", "0.8", "1.25", "2", "4", "0.0064", "156.25", "0.32", "3.125", "1.0841", "0.3075")]
# Categories: (key, name, kind, parent key)
CATEGORIES = [
    ("home", "Home", "expense", None),
    ("rent", "Rent", "expense", "home"),
    ("food", "Food", "expense", None),
    ("salary", "Salary", "income", None),
    ("bonus", "Bonus", "income", "salary"),
]
CATEGORY_KEYS = [key for key, *_ in CATEGORIES]
EXPENSE_KEYS = [key for key, _n, kind, _p in CATEGORIES if kind == "expense"]


def minor_units(currency: str) -> Decimal:
    return Decimal(1).scaleb(-model.PLACES[currency])


def amounts(currency: str, *, positive: bool = False) -> st.SearchStrategy[Decimal]:
    low = 1 if positive else -500_000
    values = st.integers(min_value=low, max_value=500_000).filter(lambda n: n != 0)
    return values.map(lambda n: Decimal(n) * minor_units(currency))


@dataclass
class Plan:
    base: str
    start_day: int
    accounts: list[tuple[str, int, int]]  # currency, opening minor units, opening day offset
    rates: list[tuple[int, str, str, Decimal]]
    txns: list[dict]
    transfers: list[tuple[int, int, int, int, int]]  # from, to, day, sent minor units, received minor units
    deletions: list[int]
    lines: list[tuple[str, int, int, bool]]  # category key, month index, amount minor units, rollover
    statuses: list[str] = field(default_factory=list)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    base = draw(st.sampled_from(CURRENCIES))
    start_day = draw(st.integers(min_value=1, max_value=28))
    accounts = draw(
        st.lists(
            st.tuples(st.sampled_from(CURRENCIES), st.integers(-100_000, 100_000), st.integers(0, 20)),
            min_size=1,
            max_size=3,
        )
    )
    pairs = st.sampled_from([(a, b) for a in [*CURRENCIES] for b in CURRENCIES if a != b])
    rates = draw(
        st.lists(
            st.tuples(st.integers(0, DAYS), pairs, st.sampled_from(RATES)).map(
                lambda x: (x[0], x[1][0], x[1][1], x[2])
            ),
            max_size=8,
            unique_by=lambda x: (x[0], x[1], x[2]),
        )
    )
    txns = []
    for _ in range(draw(st.integers(0, 12))):
        account = draw(st.integers(0, len(accounts) - 1))
        currency = accounts[account][0]
        amount = draw(amounts(currency))
        day = draw(st.integers(0, DAYS))
        category = draw(st.none() | st.sampled_from(CATEGORY_KEYS))
        splits = []
        if draw(st.booleans()) and abs(amount) >= 2 * minor_units(currency):
            first = draw(amounts(currency).filter(partial(operator.ne, amount)))
            splits = [
                (draw(st.sampled_from(CATEGORY_KEYS)), first),
                (draw(st.sampled_from(CATEGORY_KEYS)), amount - first),
            ]
        status = draw(st.sampled_from(["pending", "cleared"]))
        txns.append(
            {"account": account, "amount": amount, "day": day, "category": category, "splits": splits, "status": status}
        )
    transfers = []
    if len(accounts) > 1:
        for _ in range(draw(st.integers(0, 3))):
            source, target = draw(st.permutations(range(len(accounts))))[:2]
            sent = draw(st.integers(1, 200_000))
            received = sent if accounts[source][0] == accounts[target][0] else draw(st.integers(1, 200_000))
            transfers.append((source, target, draw(st.integers(0, DAYS)), sent, received))
    deletions = draw(st.lists(st.integers(0, 14), max_size=3, unique=True))
    lines = draw(
        st.lists(
            st.tuples(st.sampled_from(EXPENSE_KEYS), st.integers(0, 3), st.integers(0, 300_000), st.booleans()),
            max_size=6,
            unique_by=lambda x: (x[0], x[1]),
        )
    )
    return Plan(base, start_day, accounts, rates, txns, transfers, deletions, lines)


@dataclass
class Built:
    household: Household
    books: model.Books
    accounts: list[Account]
    categories: dict[str, Category]


def build(plan: Plan, owner: User) -> Built:
    """Create the plan's household through the services; record the same facts in the reference."""
    household = household_create(
        owner=owner, name="Generated", base_currency=plan.base, budget_month_start_day=plan.start_day
    )
    books = model.Books(base=plan.base, start_day=plan.start_day)
    categories: dict[str, Category] = {}
    for key, name, kind, parent in CATEGORIES:
        category = category_create(
            household=household, name=name, kind=kind, parent=categories.get(parent) if parent else None
        )
        categories[key] = category
        books.categories[category.pk] = model.Category(
            category.pk, name, kind, None if parent is None else categories[parent].pk
        )
    accounts = []
    for index, (currency, opening, offset) in enumerate(plan.accounts):
        balance = Decimal(opening) * minor_units(currency)
        opened = FIRST_DAY + timedelta(days=offset)
        account = account_create(
            household=household,
            name=f"Account {index}",
            currency=currency,
            opening_date=opened,
            opening_balance=balance,
        )
        accounts.append(account)
        books.accounts[account.pk] = model.Account(account.pk, currency, balance, opened)
    for offset, base, quote, rate in plan.rates:
        day = FIRST_DAY + timedelta(days=offset)
        exchange_rate_create(date=day, base=base, quote=quote, rate=rate)
        books.rates.append(model.Rate(day, base, quote, rate))
    created: list[Transaction] = []
    for item in plan.txns:
        account = accounts[item["account"]]
        day = max(FIRST_DAY + timedelta(days=item["day"]), account.opening_date)
        splits = [SplitLine(category=categories[key], amount=amount) for key, amount in item["splits"]]
        chosen = None if splits or item["category"] is None else categories[item["category"]]
        tx = transaction_create(
            account=account, date=day, amount=item["amount"], category=chosen, splits=splits, status=item["status"]
        )
        created.append(tx)
        books.txns[tx.pk] = model.Txn(
            tx.pk,
            account.pk,
            day,
            item["amount"],
            None if chosen is None else chosen.pk,
            [(categories[key].pk, amount) for key, amount in item["splits"]],
            status=item["status"],
        )
    for source, target, offset, sent, received in plan.transfers:
        from_account, to_account = accounts[source], accounts[target]
        day = max(FIRST_DAY + timedelta(days=offset), from_account.opening_date, to_account.opening_date)
        sent_amount = Decimal(sent) * minor_units(from_account.currency)
        received_amount = Decimal(received) * minor_units(to_account.currency)
        same = from_account.currency == to_account.currency
        transfer = transfer_create(
            from_account=from_account,
            to_account=to_account,
            date=day,
            amount=sent_amount,
            to_amount=None if same else received_amount,
        )
        for side in transfer.transactions.all():
            created.append(side)
            books.txns[side.pk] = model.Txn(side.pk, side.account_id, day, side.amount, transfer_id=transfer.pk)
    for index in plan.deletions:
        if index < len(created) and created[index].pk in books.txns:
            tx = created[index]
            try:
                transaction_delete(transaction_obj=tx)
            except Transaction.DoesNotExist:  # the other side of a transfer deleted already
                continue
            except ConflictError:  # pragma: no cover - nothing is reconciled at this point
                raise
            gone = [
                t.id
                for t in books.txns.values()
                if t.id == tx.pk or (tx.transfer_id and t.transfer_id == tx.transfer_id)
            ]
            for pk in gone:
                del books.txns[pk]
    for key, month_index, minor, rollover in plan.lines:
        amount = Decimal(minor) * minor_units(plan.base)
        month = REPORT_MONTHS[month_index]
        budget_set(household=household, category=categories[key], month=month, amount=amount, rollover=rollover)
        books.lines.append(model.Line(categories[key].pk, month, amount, rollover))
    return Built(household, books, accounts, categories)
