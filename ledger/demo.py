"""Two years of realistic demo books for `manage.py seed_demo`, deterministic for a given day.

Plain transactions are bulk-inserted in one statement (PostgreSQL's triggers still keep the monthly totals
and every invariant); anything with more than one row to keep consistent — split transactions, transfers,
the reconciliation — goes through the services, like every other writer.
"""

from __future__ import annotations

import calendar
import datetime
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum

from financetracker.core.maintenance import merge_gin_pending_lists
from financetracker.core.registries import demo_seeders
from ledger.admin.scoping import household_members_group
from ledger.models import (
    Account,
    Category,
    Household,
    Role,
    Tag,
    Transaction,
    TransactionStatus,
    TransactionTag,
    User,
)
from ledger.rules import rule_create
from ledger.services.accounts_categories_tags import account_create, category_create, tag_create
from ledger.services.households import household_update, user_sign_up
from ledger.services.invitations import invitation_accept, invitation_create
from ledger.services.transactions import SplitLine, account_reconcile, transaction_create, transfer_create

DEMO_USERNAME = "demo"
DEMO_VIEWER_USERNAME = "demo-viewer"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a published demo login, printed by the command
DEMO_HOUSEHOLD_NAME = "Demo household"
RANDOM_SEED = 20240501
# Rows this close to today are still pending at the bank.
PENDING_DAYS = 4

CATEGORY_TREE: dict[tuple[str, str], tuple[str, ...]] = {
    ("Income", "income"): ("Salary", "Interest", "Freelance"),
    ("Housing", "expense"): ("Rent", "Utilities", "Internet & phone"),
    ("Food", "expense"): ("Groceries", "Restaurants", "Coffee & bakery"),
    ("Transport", "expense"): ("Fuel", "Public transport", "Parking"),
    ("Leisure", "expense"): ("Streaming", "Hobbies", "Sport", "Travel"),
    ("Health", "expense"): ("Insurance", "Pharmacy"),
    ("Shopping", "expense"): ("Clothing", "Household", "Gifts"),
}
TAG_NAMES = ("vacation", "gift", "business", "kids")
# The recurring items: the books pay exactly what the schedules in budgets/demo.py post.
RENT = Decimal("-1150.00")
RENT_PAYEE = "Hausverwaltung Müller"
SALARY_PAYEE = "Acme GmbH"
MONTHLY_SAVING = Decimal("500.00")
DEMO_MONTHS = 24  # two years of books: the month index of the current month
# Rules that categorise imported statement rows: (name, payee pattern, category).
DEMO_RULES = (
    ("Supermarkets", "REWE|Edeka|Lidl|Aldi|Netto|Penny|Kaufland", "Groceries"),
    ("Streaming services", "Netflix|Spotify", "Streaming"),
    ("Fuel stations", "Aral|Shell", "Fuel"),
    ("Canteen", "Kantine", "Restaurants"),
)


@dataclass(frozen=True)
class _Purchase:
    """A kind of everyday purchase. On a day among `weekdays` (None: any day) it happens with the likelihood
    `chance` (None: always), from one of `accounts` to one of `payees` (picked at random where there are
    several), costing `cost` (a price, or a range to draw it from), filed under `category`; it carries `tag`
    with the likelihood `tag_chance` (None: whenever it has one)."""

    accounts: tuple[str, ...]
    cost: tuple[float, float] | Decimal
    payees: tuple[str, ...]
    category: str
    chance: float | None = None
    weekdays: frozenset[int] | None = None
    tag: str | None = None
    tag_chance: float | None = None


WORKDAYS = frozenset(range(5))
# In the order the builder rolls the dice for them, day by day: reordering changes every figure after it.
EVERYDAY_PURCHASES = (
    _Purchase(("checking", "card"), (45, 140), ("REWE", "Edeka", "Lidl"), "Groceries", weekdays=frozenset({5})),
    _Purchase(("card",), (8, 40), ("Aldi", "Lidl", "Bio Markt"), "Groceries", 0.6, frozenset({1, 3})),
    _Purchase(("cash",), (2.2, 8.5), ("Bäckerei Schmidt", "Café Central", "Kiosk"), "Coffee & bakery", 0.7),
    _Purchase(("card",), (7, 14), ("Kantine",), "Restaurants", 0.45, WORKDAYS),
    _Purchase(("cash",), (1.5, 4.5), ("Kiosk am Bahnhof",), "Coffee & bakery", 0.35, WORKDAYS),
    _Purchase(("card",), (3, 25), ("Spätkauf", "Netto", "Penny"), "Groceries", 0.3),
    _Purchase(("card",), (9, 70), ("Amazon.de",), "Household", 0.1),
    _Purchase(
        ("card",), (18, 85), ("Trattoria Roma", "Sushi Bar", "Burger Place"), "Restaurants", 0.2, None, "kids", 0.2
    ),
    _Purchase(("card",), (45, 80), ("Aral", "Shell"), "Fuel", 0.1),
    _Purchase(("cash",), Decimal("3.20"), ("BVG ticket",), "Public transport", 0.08),
    _Purchase(("card",), (2, 12), ("City parking",), "Parking", 0.05),
    _Purchase(("card",), (15, 120), ("Thalia", "Decathlon", "Music store"), "Hobbies", 0.07),
    _Purchase(("card",), (8, 60), ("dm", "IKEA", "Rossmann"), "Household", 0.05),
    _Purchase(("card",), (30, 150), ("Zalando", "H&M", "Uniqlo"), "Clothing", 0.03),
    _Purchase(("cash",), (5, 25), ("Apotheke",), "Pharmacy", 0.03),
    _Purchase(("usd",), (5, 60), ("Amazon.com", "Starbucks NYC", "Uber"), "Hobbies", 0.1, tag="business"),
)


def _pick(rng: random.Random, options: tuple[str, ...]) -> str:
    """One of `options`; a single one is taken without a roll, so it draws nothing from `rng`."""
    return options[0] if len(options) == 1 else rng.choice(options)


def salary(month_index: int) -> Decimal:
    """A raise after the first year."""
    return Decimal("4100.00") if month_index < 12 else Decimal("4280.00")


@dataclass
class DemoResult:
    created: bool
    household: Household | None = None
    transactions: int = 0


@dataclass
class _Books:
    """What the builder accumulates before writing: plain rows and the tags each should carry."""

    household: Household
    user: User
    today: datetime.date
    rng: random.Random
    accounts: dict[str, Account] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)
    rows: list[Transaction] = field(default_factory=list)
    row_tags: list[tuple[int, str]] = field(default_factory=list)
    # Card spending per month, paid off from checking early the next month.
    card_spending: dict[tuple[int, int], Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def money(self, low: float, high: float) -> Decimal:
        return Decimal(self.rng.randint(round(low * 100), round(high * 100))) / 100

    def add(
        self, account: str, day: datetime.date, amount: Decimal, payee: str, category: str, tag: str | None = None
    ) -> None:
        if day > self.today:
            return
        pending = (self.today - day).days < PENDING_DAYS
        self.rows.append(
            Transaction(
                household_id=self.household.pk,
                account=self.accounts[account],
                date=day,
                amount=amount,
                payee=payee,
                category=self.categories[category],
                status=TransactionStatus.PENDING if pending else TransactionStatus.CLEARED,
                created_by=self.user,
                updated_by=self.user,
            )
        )
        if tag:
            self.row_tags.append((len(self.rows) - 1, tag))
        if account == "card" and amount < 0:
            self.card_spending[(day.year, day.month)] -= amount


def _months(start: datetime.date, today: datetime.date) -> list[datetime.date]:
    months, month = [], start.replace(day=1)
    while month <= today:
        months.append(month)
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def _on(month: datetime.date, day: int) -> datetime.date:
    return month.replace(day=min(day, calendar.monthrange(month.year, month.month)[1]))


def _people() -> tuple[User, User, Household]:
    group = household_members_group()
    demo = user_sign_up(username=DEMO_USERNAME, email="demo@example.test", password=DEMO_PASSWORD, is_staff=True)
    viewer = user_sign_up(
        username=DEMO_VIEWER_USERNAME, email="demo-viewer@example.test", password=DEMO_PASSWORD, is_staff=True
    )
    for person in (demo, viewer):
        person.groups.add(group)
    # Signing up gave demo a personal household: that is the demo household, and the viewer joins it by invitation.
    household = household_update(
        household=Household.objects.get(memberships__user=demo),
        name=DEMO_HOUSEHOLD_NAME,
        base_currency="EUR",
        budget_month_start_day=1,
    )
    invitation, _code = invitation_create(
        household=household, invited_by=demo, invited_as=DEMO_VIEWER_USERNAME, role=Role.VIEWER
    )
    invitation_accept(invitation=invitation, user=viewer)
    return demo, viewer, household


def _chart(books: _Books, start: datetime.date) -> None:
    household = books.household
    for key, name, currency, kind, opening in [
        ("checking", "Checking", "EUR", "checking", "2400.00"),
        ("savings", "Savings", "EUR", "savings", "8000.00"),
        ("card", "Credit card", "EUR", "credit_card", "0.00"),
        ("usd", "US checking", "USD", "checking", "350.00"),
        ("cash", "Cash", "EUR", "cash", "120.00"),
    ]:
        books.accounts[key] = account_create(
            household=household,
            name=name,
            currency=currency,
            kind=kind,
            opening_balance=opening,
            opening_date=start,
            institution="" if kind == "cash" else "Demo Bank",
        )
    for (parent_name, kind), children in CATEGORY_TREE.items():
        parent = category_create(household=household, name=parent_name, kind=kind)
        for child in children:
            books.categories[child] = category_create(household=household, name=child, parent=parent)
    for name in TAG_NAMES:
        books.tags[name] = tag_create(household=household, name=name)
    for position, (name, pattern, category) in enumerate(DEMO_RULES):
        rule_create(
            household=household,
            name=name,
            position=position,
            conditions=[{"field": "payee", "operator": "regex", "value": pattern}],
            set_category=books.categories[category],
        )


def _month_of_spending(books: _Books, month: datetime.date, index: int) -> None:
    rng, add, money = books.rng, books.add, books.money
    # Fixed income and bills.
    # Paid on the 1st for the month ahead, so every budget month starts with its income and "left to
    # budget" reads sensibly on any day of it (the schedule in budgets/demo.py posts the same).
    add("checking", _on(month, 1), salary(index), SALARY_PAYEE, "Salary")
    add("savings", _on(month, 28), money(4, 14), "Demo Bank", "Interest")
    add("checking", _on(month, 1), RENT, RENT_PAYEE, "Rent")
    add("checking", _on(month, 15), -money(70, 145), "Stadtwerke", "Utilities")
    add("checking", _on(month, 10), Decimal("-39.99"), "Telekom", "Internet & phone")
    add("card", _on(month, 12), Decimal("-19.99"), "Mobile plan", "Internet & phone")
    add("card", _on(month, 5), Decimal("-12.99"), "Netflix", "Streaming")
    add("card", _on(month, 7), Decimal("-9.99"), "Spotify", "Streaming")
    add("checking", _on(month, 3), Decimal("-29.90"), "FitX", "Sport")
    add("checking", _on(month, 2), Decimal("-54.30"), "Allianz", "Insurance")
    add("checking", _on(month, 1), Decimal("-49.00"), "Deutschlandticket", "Public transport")
    if index % 3 == 1:
        add("usd", _on(month, 20), money(200, 450), "Freelance client", "Freelance", "business")

    days = calendar.monthrange(month.year, month.month)[1]
    for day_number in range(1, days + 1):
        day = month.replace(day=day_number)
        for purchase in EVERYDAY_PURCHASES:
            if purchase.weekdays is not None and day.weekday() not in purchase.weekdays:
                continue
            if purchase.chance is not None and rng.random() >= purchase.chance:
                continue
            tag = purchase.tag if purchase.tag_chance is None or rng.random() < purchase.tag_chance else None
            account = _pick(rng, purchase.accounts)
            amount = -purchase.cost if isinstance(purchase.cost, Decimal) else -money(*purchase.cost)
            add(account, day, amount, _pick(rng, purchase.payees), purchase.category, tag)
    if month.month in (7, 8):
        for _ in range(4):
            add("card", _on(month, rng.randint(1, 28)), -money(60, 600), "Holiday booking", "Travel", "vacation")
    if month.month == 12:
        for _ in range(3):
            add("card", _on(month, rng.randint(1, 23)), -money(20, 120), "Gift shop", "Gifts", "gift")


def _write_plain_rows(books: _Books) -> None:
    created = Transaction.objects.bulk_create(books.rows, batch_size=2000)
    TransactionTag.objects.bulk_create(
        TransactionTag(household_id=books.household.pk, transaction=created[index], tag=books.tags[name])
        for index, name in books.row_tags
    )


def _split_purchases(books: _Books, months: list[datetime.date]) -> int:
    count = 0
    for month in months:
        day = _on(month, 18)
        if day > books.today - datetime.timedelta(days=PENDING_DAYS):
            continue
        food, household = books.money(40, 110), books.money(10, 45)
        transaction_create(
            account=books.accounts["checking"],
            date=day,
            amount=-(food + household),
            payee="Kaufland",
            description="Weekly shop with household goods",
            user=books.user,
            splits=[
                SplitLine(category=books.categories["Groceries"], amount=-food, memo="food"),
                SplitLine(category=books.categories["Household"], amount=-household, memo="cleaning, paper"),
            ],
            tags=[books.tags["kids"]] if month.month % 4 == 0 else [],
        )
        count += 1
    return count


def _transfers(books: _Books, months: list[datetime.date]) -> int:
    accounts, count = books.accounts, 0
    for month in months:
        previous = (month - datetime.timedelta(days=1)).replace(day=1)
        moves = [
            (accounts["checking"], accounts["cash"], _on(month, 3), Decimal("180.00"), "ATM withdrawal"),
            (accounts["checking"], accounts["savings"], _on(month, 26), MONTHLY_SAVING, "Monthly saving"),
        ]
        card_bill = books.card_spending.get((previous.year, previous.month), Decimal(0))
        if card_bill > 0:
            moves.append((accounts["checking"], accounts["card"], _on(month, 8), card_bill, "Credit card bill"))
        for source, target, day, amount, description in moves:
            if day <= books.today:
                transfer_create(
                    from_account=source,
                    to_account=target,
                    date=day,
                    amount=amount,
                    description=description,
                    user=books.user,
                )
                count += 2
    # One cross-currency transfer: both amounts are given, as the bank booked them.
    transfer_create(
        from_account=accounts["checking"],
        to_account=accounts["usd"],
        date=months[1] + datetime.timedelta(days=13),
        amount=Decimal("1000.00"),
        to_amount=Decimal("1084.70"),
        description="Currency exchange",
        user=books.user,
    )
    return count + 2


def _reconcile_checking(books: _Books) -> None:
    """Reconcile checking against a statement at the end of the month before last, as the bank would issue it."""
    checking = books.accounts["checking"]
    statement_date = books.today.replace(day=1) - datetime.timedelta(days=1)
    statement_date = statement_date.replace(day=1) - datetime.timedelta(days=1)
    cleared = Transaction.objects.filter(
        account=checking,
        date__lte=statement_date,
        status__in=[TransactionStatus.CLEARED, TransactionStatus.RECONCILED],
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    account_reconcile(
        account=checking,
        statement_date=statement_date,
        statement_balance=checking.opening_balance + cleared,
        user=books.user,
    )


def seed_demo(*, today: datetime.date | None = None) -> DemoResult:
    """Create the demo people and household with two years of books ending `today`; a no-op if they exist."""
    if User.objects.filter(username=DEMO_USERNAME).exists():
        return DemoResult(created=False)
    today = today or datetime.date.today()
    # All or nothing: a failure halfway leaves no demo user behind, so the next run starts over.
    with transaction.atomic():
        demo, _viewer, household = _people()
        start = datetime.date(today.year - DEMO_MONTHS // 12, today.month, 1)
        books = _Books(household=household, user=demo, today=today, rng=random.Random(RANDOM_SEED))
        _chart(books, start)
        months = _months(start, today)
        for index, month in enumerate(months):
            _month_of_spending(books, month, index)
        _write_plain_rows(books)
        count = len(books.rows) + _split_purchases(books, months) + _transfers(books, months)
        _reconcile_checking(books)
        # The other apps' parts of the demo (budgets' planning data), registered in their AppConfig.ready().
        for seed_more in demo_seeders:
            seed_more(household=household, today=today)
    _analyze_seeded_tables()
    return DemoResult(created=True, household=household, transactions=count)


def _analyze_seeded_tables() -> None:
    """Fresh planner statistics for what the demo just filled: with autovacuum off or behind (a new database,
    a crash restart), plans would otherwise be made for empty tables. The whole database, because the other
    apps' seeders (demo_seeders) filled tables this module does not know."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    merge_gin_pending_lists()  # the search's trigram indexes hold the demo's rows unmerged otherwise
