"""The budget report against hand-computed figures."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from budgets.months import budget_month_of, budget_month_range
from budgets.selectors import budget_report_for_month
from ledger.models import Transaction
from ledger.services.transactions import SplitLine, transaction_create, transfer_create
from tests.budgets.factories import BudgetFactory, ExchangeRateFactory
from tests.factories import AccountFactory, Books, CategoryFactory, TransactionFactory

D = Decimal
MARCH = datetime.date(2024, 3, 1)


def spend(books: Books, day: str, amount: str, category=None, account=None) -> Transaction:
    return transaction_create(
        account=account or books.checking, date=datetime.date.fromisoformat(day), amount=amount, category=category
    )


@pytest.fixture
def march(books: Books) -> Books:
    BudgetFactory(household=books.household, category=books.groceries, month=MARCH, amount=D("300.00"))
    BudgetFactory(household=books.household, category=books.restaurants, month=MARCH, amount=D("100.00"))
    BudgetFactory(household=books.household, category=books.rent, month=MARCH, amount=D("1000.00"))
    spend(books, "2024-03-03", "-120.50", books.groceries)
    transaction_create(
        account=books.checking,
        date=datetime.date(2024, 3, 9),
        amount="-80.00",
        splits=[
            SplitLine(category=books.groceries, amount=D("-50.00")),
            SplitLine(category=books.restaurants, amount=D("-30.00")),
        ],
    )
    spend(books, "2024-03-12", "10.00", books.restaurants)  # a refund
    spend(books, "2024-03-01", "-1000.00", books.rent)
    spend(books, "2024-03-28", "3000.00", books.salary)
    transfer = transfer_create(from_account=books.checking, to_account=books.savings, date=MARCH, amount="500.00")
    # Even a categorised transfer is never spending.
    Transaction.objects.filter(transfer=transfer).update(category=books.rent)
    spend(books, "2024-02-29", "-999.00", books.groceries)  # February
    spend(books, "2024-04-01", "-999.00", books.groceries)  # April
    return books


def test_it_reports_budgeted_spent_available_and_percent_per_category(march: Books) -> None:
    report = budget_report_for_month(march.household, MARCH)

    groceries = report.line(march.groceries.pk)
    assert (groceries.budgeted, groceries.spent, groceries.available) == (D("300.00"), D("170.50"), D("129.50"))
    assert groceries.percent_used == D("56.8")
    restaurants = report.line(march.restaurants.pk)  # 30.00 split line minus a 10.00 refund
    assert (restaurants.spent, restaurants.available, restaurants.percent_used) == (D("20.00"), D("80.00"), D("20.0"))


def test_it_rolls_children_up_into_their_parent(march: Books) -> None:
    food = budget_report_for_month(march.household, MARCH).line(march.food.pk)

    assert (food.budgeted, food.spent, food.available) == (D("400.00"), D("190.50"), D("209.50"))
    assert [child.category_id for child in food.children] == [march.groceries.pk, march.restaurants.pk]


def test_it_never_counts_transfers_and_totals_income_and_left_to_budget(march: Books) -> None:
    report = budget_report_for_month(march.household, MARCH)

    assert report.line(march.rent.pk).spent == D("1000.00")
    assert (report.budgeted, report.spent, report.available) == (D("1400.00"), D("1190.50"), D("209.50"))
    assert report.income == D("3000.00")
    assert report.left_to_budget == D("1600.00")
    totals = report.as_dict()["totals"]
    assert totals == {
        "budgeted": "1400.00",
        "spent": "1190.50",
        "carried_over": "0.00",
        "available": "209.50",
        "income": "3000.00",
        "left_to_budget": "1600.00",
        "uncategorized": "0.00",
    }


def test_it_flags_over_budget_and_near_limit_categories(march: Books) -> None:
    spend(march, "2024-03-20", "-60.00", march.restaurants)  # 80.00 of 100.00 → 80%
    spend(march, "2024-03-21", "-15.00", march.restaurants)  # 95% → near the limit
    spend(march, "2024-03-22", "-0.01", march.rent)  # 1000.01 of 1000.00 → over

    data = budget_report_for_month(march.household, MARCH).as_dict()

    assert data["near_limit"] == [march.restaurants.pk]
    assert set(data["over_budget"]) == {march.rent.pk}
    rent = next(line for line in data["categories"] if line["category"] == march.rent.pk)
    assert (rent["available"], rent["over_budget"], rent["percent_used"]) == ("-0.01", True, "100.0")


def test_it_chains_rollover_over_three_months_through_an_overspent_month(books: Books) -> None:
    fun = CategoryFactory(household=books.household, name="Fun")
    for month in (1, 2, 3):
        BudgetFactory(
            household=books.household,
            category=fun,
            month=datetime.date(2024, month, 1),
            amount=D("100.00"),
            rollover=True,
        )
    # December's line does not roll over: the chain starts in January.
    BudgetFactory(household=books.household, category=fun, month=datetime.date(2023, 12, 1), amount=D("500.00"))
    spend(books, "2024-01-10", "-40.00", fun)  # January leaves 60.00
    spend(books, "2024-02-10", "-180.00", fun)  # February: 100 + 60 - 180 = -20.00 (overspent)
    spend(books, "2024-03-10", "-50.00", fun)  # March: 100 - 20 - 50 = 30.00

    february = budget_report_for_month(books.household, datetime.date(2024, 2, 1)).line(fun.pk)
    march = budget_report_for_month(books.household, MARCH).line(fun.pk)
    april = budget_report_for_month(books.household, datetime.date(2024, 4, 1)).line(fun.pk)

    assert (february.carried_over, february.available, february.over_budget) == (D("60.00"), D("-20.00"), True)
    assert (march.carried_over, march.available) == (D("-20.00"), D("30.00"))
    assert (april.budgeted, april.carried_over, april.available) == (D("0"), D("30.00"), D("30.00"))


def test_it_does_not_carry_over_without_the_rollover_flag(books: Books) -> None:
    BudgetFactory(
        household=books.household,
        category=books.rent,
        month=datetime.date(2024, 2, 1),
        amount=D("100.00"),
        rollover=False,
    )

    line = budget_report_for_month(books.household, MARCH).line(books.rent.pk)

    assert line.carried_over == D("0")


def test_a_payday_month_crosses_the_calendar_month_and_the_year_end(books: Books) -> None:
    household = books.household
    household.budget_month_start_day = 25
    household.save()
    january = datetime.date(2024, 1, 1)
    assert budget_month_range(household, january) == (datetime.date(2023, 12, 25), datetime.date(2024, 1, 24))
    assert budget_month_range(household, MARCH) == (datetime.date(2024, 2, 25), datetime.date(2024, 3, 24))
    assert budget_month_of(household, datetime.date(2023, 12, 25)) == january
    BudgetFactory(
        household=household, category=books.rent, month=datetime.date(2023, 12, 1), amount=D("200.00"), rollover=True
    )
    BudgetFactory(household=household, category=books.rent, month=january, amount=D("200.00"))
    spend(books, "2023-11-25", "-50.00", books.rent)  # first day of "December"
    spend(books, "2023-12-24", "-70.00", books.rent)  # last day of "December": leaves 80.00
    spend(books, "2023-12-25", "-11.00", books.rent)  # first day of "January"
    spend(books, "2024-01-24", "-22.00", books.rent)  # last day of "January"
    spend(books, "2024-01-25", "-999.00", books.rent)  # "February"

    report = budget_report_for_month(household, january)
    line = report.line(books.rent.pk)

    assert (report.start, report.end) == (datetime.date(2023, 12, 25), datetime.date(2024, 1, 24))
    assert (line.spent, line.carried_over, line.available) == (D("33.00"), D("80.00"), D("247.00"))


def test_it_converts_foreign_currency_at_the_latest_rate_on_or_before_the_day(books: Books) -> None:
    usd = AccountFactory(household=books.household, name="US card", currency="USD")
    ExchangeRateFactory(date=datetime.date(2024, 3, 5), base="EUR", quote="USD", rate=D("1.25"))
    ExchangeRateFactory(date=datetime.date(2024, 3, 20), base="EUR", quote="USD", rate=D("2.00"))
    spend(books, "2024-03-10", "-25.00", books.groceries, account=usd)  # at 1.25: 20.00 EUR
    spend(books, "2024-03-20", "-10.00", books.groceries, account=usd)  # at 2.00: 5.00 EUR

    report = budget_report_for_month(books.household, MARCH)

    assert report.line(books.groceries.pk).spent == D("25.00")
    assert report.missing_rates == []
    assert report.line(books.groceries.pk).missing_rate is False


def test_it_reports_a_missing_rate_and_leaves_the_amount_out(books: Books) -> None:
    usd = AccountFactory(household=books.household, name="US card", currency="USD")
    ExchangeRateFactory(date=datetime.date(2024, 3, 5), base="EUR", quote="USD", rate=D("1.25"))
    spend(books, "2024-03-02", "-10.00", books.groceries, account=usd)  # before the first rate
    spend(books, "2024-03-10", "-25.00", books.groceries, account=usd)
    spend(books, "2024-03-11", "-5.00", books.groceries)

    data = budget_report_for_month(books.household, MARCH).as_dict()

    assert data["missing_rates"] == [{"currency": "USD", "date": "2024-03-02", "amount": "-10.0000"}]
    food = next(line for line in data["categories"] if line["category"] == books.food.pk)
    groceries = food["children"][0]
    assert (groceries["spent"], groceries["missing_rate"], food["missing_rate"]) == ("25.00", True, True)


def test_it_uses_the_inverse_and_cross_rates_through_eur(books: Books) -> None:
    household = books.household
    household.base_currency = "GBP"
    household.save()
    usd = AccountFactory(household=household, name="US card", currency="USD")
    eur = books.checking
    # GBP→EUR is only known as EUR→GBP (inverse); USD→GBP only through EUR (cross).
    ExchangeRateFactory(date=datetime.date(2024, 3, 1), base="EUR", quote="GBP", rate=D("0.8"))
    ExchangeRateFactory(date=datetime.date(2024, 3, 1), base="EUR", quote="USD", rate=D("1.6"))
    spend(books, "2024-03-10", "-10.00", books.rent, account=eur)  # 8.00 GBP
    spend(books, "2024-03-10", "-16.00", books.rent, account=usd)  # 10.00 EUR → 8.00 GBP

    assert budget_report_for_month(household, MARCH).line(books.rent.pk).spent == D("16.00")


def test_it_reads_the_report_in_one_query_whatever_the_size(books: Books, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):  # the whole report is one statement
        budget_report_for_month(books.household, MARCH)
    for index in range(30):
        category = CategoryFactory(household=books.household, name=f"Extra {index}")
        BudgetFactory(household=books.household, category=category, month=MARCH, rollover=True)
        BudgetFactory(household=books.household, category=category, month=datetime.date(2024, 2, 1), rollover=True)
        TransactionFactory(account=books.checking, category=category, date=datetime.date(2024, 3, 2))
        TransactionFactory(account=books.checking, category=category, date=datetime.date(2024, 2, 2))
    with django_assert_num_queries(1):
        report = budget_report_for_month(books.household, MARCH)
    assert len(report.categories) == 3 + 30  # the books' Food, Rent and Travel, then the thirty added


def shift_kept_restaurant_totals(books: Books, by: int) -> None:
    """Move every kept daily total of the books' restaurants by `by`, behind the triggers' back."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_categorydaytotal SET total = total + %s WHERE household_id = %s AND category_id = %s",
            [by, books.household.pk, books.restaurants.pk],
        )


def test_it_reads_base_currency_amounts_from_the_daily_category_totals_and_foreign_ones_row_by_row(
    march: Books,
) -> None:
    """The report sums what `ledger_categorydaytotal` keeps for the base currency (ledger 0008): a total
    changed behind the triggers' back shows in it (and `check_ledger` names it); foreign amounts are read
    and converted one by one from the rows, so the kept totals in another currency are not read."""
    usd = AccountFactory(household=march.household, currency="USD", name="Dollars")
    ExchangeRateFactory(date=datetime.date(2024, 3, 1), base="USD", quote="EUR", rate=D("0.5"))
    spend(march, "2024-03-10", "-10.00", march.restaurants, account=usd)  # 5.00 EUR
    before = budget_report_for_month(march.household, MARCH)
    assert before.line(march.restaurants.pk).spent == D("25.00")
    shift_kept_restaurant_totals(march, -1)
    after = budget_report_for_month(march.household, MARCH)
    # Two EUR days (the split line on the 9th, the refund on the 12th) each a unit further; the USD one not.
    assert after.line(march.restaurants.pk).spent == D("27.00")
    shift_kept_restaurant_totals(march, +1)
