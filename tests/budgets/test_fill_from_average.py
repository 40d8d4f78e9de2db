"""Fill from average: only complete past budget months count, payday months included, and the result
names the months it used (service, API and admin)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from budgets.models import Budget
from budgets.months import add_months, budget_month_of, budget_month_range
from budgets.services.budget_lines import budget_fill_from_average
from ledger.models import User
from ledger.services.households import household_update
from ledger.services.transactions import transaction_create
from tests.factories import Books, staff_client

D = Decimal
APRIL = datetime.date(2024, 4, 1)


def rent_paid(books: Books, *days: str) -> None:
    for day in days:
        transaction_create(
            account=books.checking, date=datetime.date.fromisoformat(day), amount="-900.00", category=books.rent
        )


def lines(month: datetime.date) -> dict[int, Decimal]:
    return {line.category_id: line.amount for line in Budget.objects.filter(month=month)}


def test_a_month_not_over_yet_is_left_out_of_the_average(books: Books) -> None:
    # Found in #12: March, under way on the 15th, counted as a month of zero rent (two thirds of the rent).
    rent_paid(books, "2024-01-02", "2024-02-02", "2024-03-02")

    result = budget_fill_from_average(
        household=books.household, month=APRIL, months=3, today=datetime.date(2024, 3, 15)
    )

    assert result.months == (datetime.date(2024, 1, 1), datetime.date(2024, 2, 1))
    assert lines(APRIL) == {books.rent.pk: D("900.00")}


def test_months_that_have_not_happened_yet_are_left_out(books: Books) -> None:
    rent_paid(books, "2024-01-02")

    result = budget_fill_from_average(household=books.household, month=APRIL, months=3, today=datetime.date(2024, 2, 1))

    assert result.months == (datetime.date(2024, 1, 1),)
    assert lines(APRIL) == {books.rent.pk: D("900.00")}


def test_payday_months_are_complete_only_once_they_end(books: Books) -> None:
    household_update(household=books.household, budget_month_start_day=25)
    books.household.refresh_from_db()
    # "February" runs 25 Jan..24 Feb, "March" 25 Feb..24 Mar: on 20 March, March is not over.
    rent_paid(books, "2024-01-26", "2024-02-26", "2024-03-01")

    result = budget_fill_from_average(
        household=books.household, month=APRIL, months=2, today=datetime.date(2024, 3, 20)
    )

    assert result.months == (datetime.date(2024, 2, 1),)
    assert lines(APRIL) == {books.rent.pk: D("900.00")}


def test_nothing_is_filled_when_no_month_is_complete(books: Books) -> None:
    rent_paid(books, "2024-03-02")

    result = budget_fill_from_average(
        household=books.household, month=APRIL, months=1, today=datetime.date(2024, 3, 31)
    )

    assert result.months == ()
    assert result.created == 0
    assert lines(APRIL) == {}


def test_the_api_names_the_months_it_used(books: Books, owner: User, client_for) -> None:
    this_month = budget_month_of(books.household, timezone.localdate())
    last = add_months(this_month, -1)
    transaction_create(account=books.checking, date=last, amount="-900.00", category=books.rent)
    transaction_create(account=books.checking, date=this_month, amount="-900.00", category=books.rent)
    target = add_months(this_month, 1)

    response = client_for(owner).post(
        "/api/v1/budgets/fill-from-average/",
        {"household": books.household.pk, "month": f"{target:%Y-%m}", "months": 2},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["months_used"] == [f"{last:%Y-%m}"]  # this month is not over
    assert lines(target) == {books.rent.pk: D("900.00")}


def test_a_viewer_cannot_fill_through_the_api(books: Books, viewer: User, client_for) -> None:
    response = client_for(viewer).post(
        "/api/v1/budgets/fill-from-average/", {"household": books.household.pk, "month": "2024-04"}, format="json"
    )

    assert response.status_code == 403
    assert not Budget.objects.exists()


def test_the_admin_message_names_the_months_it_used(books: Books, owner: User) -> None:
    this_month = budget_month_of(books.household, timezone.localdate())
    last = add_months(this_month, -1)
    transaction_create(
        account=books.checking, date=budget_month_range(books.household, last)[0], amount="-90.00", category=books.rent
    )
    client = staff_client(owner)

    response = client.post(
        "/admin/budgets/budget/month/",
        {"household": books.household.pk, "month": f"{this_month:%Y-%m}", "action": "fill_average"},
        follow=True,
    )

    assert response.status_code == 200
    assert f"{last:%B %Y}" in response.content.decode()
    assert f"{this_month:%B %Y})" not in response.content.decode()
