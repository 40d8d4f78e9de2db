"""Demo planning data (budgets, scheduled transactions, rates) for `seed_demo`. Idempotent: running it again
adds nothing (rates are upserted, schedules found by payee, budget lines kept where set)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from budgets.models import ScheduledTransaction
from budgets.months import add_months, budget_month_of
from budgets.services.budget_lines import budget_fill_from_average
from budgets.services.rates import RateRow, exchange_rates_upsert
from budgets.services.schedules import scheduled_create
from ledger.demo import DEMO_MONTHS, MONTHLY_SAVING, RENT, RENT_PAYEE, SALARY_PAYEE, salary
from ledger.models import Account, AccountKind, Category, CategoryKind, Household
from ledger.services.accounts_categories_tags import category_create

# Rough rates per 1 EUR; the demo wobbles around them deterministically.
_REFERENCE_RATES = {
    "USD": Decimal("1.08"),
    "GBP": Decimal("0.86"),
    "CHF": Decimal("0.95"),
    "JPY": Decimal("160"),
    "CAD": Decimal("1.47"),
    "SEK": Decimal("11.4"),
}
_DEMO_DAYS = 2 * 366 + 31


def demo_rates(*, quote: str, first: date, last: date) -> Iterator[RateRow]:
    """Daily EUR→quote rates: a triangle wave of ±4% with a 120-day period, exact Decimals, no randomness."""
    reference = _REFERENCE_RATES.get(quote, Decimal(1))
    day = first
    while day <= last:
        phase = day.toordinal() % 120
        wave = Decimal(abs(phase - 60) - 30) / Decimal(750)  # -0.04 .. +0.04
        yield RateRow(date=day, base="EUR", quote=quote, rate=(reference * (1 + wave)).quantize(Decimal("0.0001")))
        day += timedelta(days=1)


def _category(household: Household, names: tuple[str, ...], kind: str) -> Category:
    for name in names:
        found = Category.objects.filter(household=household, name__iexact=name, kind=kind).first()
        if found is not None:
            return found
    return category_create(household=household, name=names[0], kind=kind)


def _schedule(household: Household, *, payee: str, **fields: object) -> None:
    if not ScheduledTransaction.objects.filter(household=household, payee=payee).exists():
        scheduled_create(household=household, payee=payee, **fields)


def seed_planning_demo(*, household: Household, today: date) -> None:
    """Called by `manage.py seed_demo` after the ledger demo data exists."""
    accounts = list(Account.objects.filter(household=household, archived=False).order_by("id"))
    foreign = {a.currency for a in accounts} | {household.base_currency}
    foreign.discard("EUR")
    for currency in sorted(foreign):
        exchange_rates_upsert(rows=demo_rates(quote=currency, first=today - timedelta(days=_DEMO_DAYS), last=today))

    current = budget_month_of(household, today)
    for month in (add_months(current, -1), current):
        budget_fill_from_average(household=household, month=month, months=3, today=today)

    base_accounts = [a for a in accounts if a.currency == household.base_currency]
    checking = next((a for a in base_accounts if a.kind == AccountKind.CHECKING), None)
    if checking is None:
        return
    savings = next((a for a in base_accounts if a.kind == AccountKind.SAVINGS), None)
    card = next((a for a in base_accounts if a.kind == AccountKind.CREDIT_CARD), checking)
    next_month = add_months(today.replace(day=1), 1)
    # The same payees, amounts and days as the books pay (ledger/demo.py), so the forecast continues them.
    _schedule(
        household,
        payee=RENT_PAYEE,
        account=checking,
        amount=RENT,
        category=_category(household, ("Rent", "Housing"), CategoryKind.EXPENSE),
        recurrence="FREQ=MONTHLY;BYMONTHDAY=1",
        start_date=next_month,
        description="Monthly rent",
    )
    _schedule(
        household,
        payee=SALARY_PAYEE,
        account=checking,
        amount=salary(DEMO_MONTHS),
        category=_category(household, ("Salary", "Income"), CategoryKind.INCOME),
        recurrence="FREQ=MONTHLY;BYMONTHDAY=1",
        start_date=next_month,
        description="Salary",
    )
    _schedule(
        household,
        payee="Netflix",
        account=card,
        amount=Decimal("-12.99"),
        category=_category(household, ("Streaming", "Subscriptions", "Entertainment"), CategoryKind.EXPENSE),
        recurrence="FREQ=MONTHLY;BYMONTHDAY=5",
        start_date=today + timedelta(days=1),
        description="Subscription",
    )
    if savings is not None:
        _schedule(
            household,
            payee="Savings transfer",
            account=checking,
            to_account=savings,
            amount=MONTHLY_SAVING,
            recurrence="FREQ=MONTHLY;BYMONTHDAY=26",
            start_date=today + timedelta(days=1),
            description="Monthly saving",
        )
