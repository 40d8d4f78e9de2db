"""Hypothesis strategies for generated households, and the code that builds one (in bulk) while recording the
same facts in the reference model."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

from hypothesis import strategies as st

from budgets.models import Budget, ExchangeRate
from ledger.models import Account, Category, Household, Split, Transaction, Transfer, User
from ledger.services.households import household_create
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
    """Create the plan's household and record the same facts in the reference.

    The household comes from the service (its owner's membership is what the API scopes by); its books are
    written in bulk, a few statements per example instead of a service call (validation, audit entry) per row:
    what is under test here is the figures the API reads back. The database's own rules still hold every row:
    the monthly and daily totals, the split sums and transfer pairs are kept by triggers, and each example
    fires the deferred ones before it is checked (tests/reference/test_figures_match_reference.py). The
    services that write these rows have tests of their own (tests/ledger, tests/budgets)."""
    household = household_create(
        owner=owner, name="Generated", base_currency=plan.base, budget_month_start_day=plan.start_day
    )
    books = model.Books(base=plan.base, start_day=plan.start_day)
    categories: dict[str, Category] = {}
    for level in (False, True):  # parents first: the children's rows name them
        made = [
            (key, Category(household=household, name=name, kind=kind, parent=categories[parent] if parent else None))
            for key, name, kind, parent in CATEGORIES
            if (parent is not None) == level
        ]
        Category.objects.bulk_create([category for _key, category in made])
        categories.update(made)
    for key, name, kind, parent in CATEGORIES:
        category = categories[key]
        books.categories[category.pk] = model.Category(
            category.pk, name, kind, None if parent is None else categories[parent].pk
        )
    accounts = Account.objects.bulk_create(
        Account(
            household=household,
            name=f"Account {index}",
            currency=currency,
            opening_date=FIRST_DAY + timedelta(days=offset),
            opening_balance=Decimal(opening) * minor_units(currency),
        )
        for index, (currency, opening, offset) in enumerate(plan.accounts)
    )
    for account in accounts:
        books.accounts[account.pk] = model.Account(
            account.pk, account.currency, account.opening_balance, account.opening_date
        )
    rates = [(FIRST_DAY + timedelta(days=offset), base, quote, rate) for offset, base, quote, rate in plan.rates]
    ExchangeRate.objects.bulk_create(ExchangeRate(date=d, base=b, quote=q, rate=r) for d, b, q, r in rates)
    books.rates += [model.Rate(*rate) for rate in rates]
    # Every transaction of the plan in one statement: the plain ones, then each transfer's two sides (in the
    # order `plan.deletions` counts them); then the splits and the transfers' rows they point to.
    rows: list[Transaction] = []
    splits: list[tuple[int, list[tuple[str, Decimal]]]] = []
    for item in plan.txns:
        account = accounts[item["account"]]
        day = max(FIRST_DAY + timedelta(days=item["day"]), account.opening_date)
        chosen = None if item["splits"] or item["category"] is None else categories[item["category"]]
        if item["splits"]:
            splits.append((len(rows), item["splits"]))
        rows.append(
            Transaction(
                household_id=household.pk,
                account=account,
                date=day,
                amount=item["amount"],
                category=chosen,
                status=item["status"],
            )
        )
    transfers = Transfer.objects.bulk_create(Transfer(household_id=household.pk) for _ in plan.transfers)
    for transfer, (source, target, offset, sent, received) in zip(transfers, plan.transfers, strict=True):
        from_account, to_account = accounts[source], accounts[target]
        day = max(FIRST_DAY + timedelta(days=offset), from_account.opening_date, to_account.opening_date)
        sent_amount = Decimal(sent) * minor_units(from_account.currency)
        received_amount = (
            sent_amount
            if from_account.currency == to_account.currency
            else (Decimal(received) * minor_units(to_account.currency))
        )
        common = {"household_id": household.pk, "date": day, "transfer": transfer, "status": "cleared"}
        rows.append(Transaction(account=from_account, amount=-sent_amount, payee=to_account.name, **common))
        rows.append(Transaction(account=to_account, amount=received_amount, payee=from_account.name, **common))
    created = Transaction.objects.bulk_create(rows)
    Split.objects.bulk_create(
        Split(household_id=household.pk, transaction=created[index], category=categories[key], amount=amount)
        for index, lines in splits
        for key, amount in lines
    )
    split_of = dict(splits)
    for index, tx in enumerate(created):
        books.txns[tx.pk] = model.Txn(
            tx.pk,
            tx.account_id,
            tx.date,
            tx.amount,
            tx.category_id,
            [(categories[key].pk, amount) for key, amount in split_of.get(index, [])],
            status=tx.status,
            transfer_id=tx.transfer_id,
        )
    for index in plan.deletions:
        if index < len(created) and created[index].pk in books.txns:
            tx = created[index]
            # As transaction_delete does: a transfer goes with both its sides, any other row with its splits.
            gone = [
                t.id
                for t in books.txns.values()
                if t.id == tx.pk or (tx.transfer_id and t.transfer_id == tx.transfer_id)
            ]
            if tx.transfer_id:
                Transfer.objects.filter(pk=tx.transfer_id).delete()
            else:
                Transaction.objects.filter(pk=tx.pk).delete()
            for pk in gone:
                del books.txns[pk]
    lines = [
        (categories[key], REPORT_MONTHS[month_index], Decimal(minor) * minor_units(plan.base), rollover)
        for key, month_index, minor, rollover in plan.lines
    ]
    Budget.objects.bulk_create(
        Budget(household=household, category=category, month=month, amount=amount, rollover=rollover)
        for category, month, amount, rollover in lines
    )
    books.lines += [model.Line(category.pk, month, amount, rollover) for category, month, amount, rollover in lines]
    return Built(household, books, accounts, categories)
