"""The admin dashboard's upcoming bills and forecast: what they show, whose data, and a fixed query count."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ledger.models import Account, Household, User
from tests.budgets.factories import ScheduledTransactionFactory
from tests.factories import AccountFactory, Books, staff_client

DASHBOARD = "/admin/budgets/budget/dashboard/"
# Session (read from PostgreSQL: db sessions), user, permissions, households, budget report, spending, forecast (accounts + schedules), upcoming,
# net worth over 12 months: the same whatever the number of accounts, schedules or transactions.
DASHBOARD_QUERIES = 12


def section(html: str, section_id: str) -> str:
    """The HTML of one dashboard section."""
    start = html.index(f'<section id="{section_id}"')
    return html[start : html.index("</section>", start)]


def bill(account: Account, payee: str, amount: str, *, in_days: int, **fields: object) -> None:
    start = timezone.localdate() + datetime.timedelta(days=in_days)
    ScheduledTransactionFactory(
        account=account, payee=payee, amount=Decimal(amount), start_date=start, recurrence="FREQ=MONTHLY", **fields
    )


@pytest.fixture
def joint(books: Books) -> Account:
    return AccountFactory(
        household=books.household,
        name="Joint account",
        opening_balance=Decimal("1000.00"),
        opening_date=datetime.date(2023, 1, 1),
    )


def test_it_shows_the_next_bills_and_each_accounts_forecast(books: Books, owner: User, joint: Account) -> None:
    bill(joint, "City Power", "-75.25", in_days=5, occurrence_count=1, category=books.rent)
    bill(joint, "Far Future Gym", "-20.00", in_days=45)  # beyond the 30 days, inside the forecast
    ScheduledTransactionFactory(
        account=books.checking,
        to_account=books.savings,
        payee="Rainy day",
        amount=Decimal("300.00"),
        start_date=timezone.localdate() + datetime.timedelta(days=2),
        occurrence_count=1,
    )

    response = staff_client(owner).get(DASHBOARD)

    assert response.status_code == 200
    html = response.content.decode()
    upcoming = section(html, "ft-upcoming")
    assert "City Power" in upcoming
    assert "\u221275.25 EUR" in upcoming
    assert "Joint account" in upcoming
    assert (timezone.localdate() + datetime.timedelta(days=5)).isoformat() in upcoming
    assert "Rainy day" in upcoming
    assert "Checking → Savings" in upcoming
    assert "\u2212300.00 EUR" in upcoming
    assert "Far Future Gym" not in upcoming

    forecast = section(html, "ft-forecast")
    joint_row = next(row for row in forecast.split("<tr>") if "Joint account" in row)
    assert "1,000.00" in joint_row  # now, thousands grouped
    assert "924.75" in joint_row  # after the one power bill
    months = 6
    # 40 days apart, the power bill and the first gym payment fall in different months: one column is 924.75.
    assert joint_row.count('class="ft-money') == 1 + months
    assert "<polyline" in joint_row
    savings_row = next(row for row in forecast.split("<tr>") if "Savings" in row and "Joint" not in row)
    assert "300.00" in savings_row  # the scheduled transfer in
    assert "(EUR)" in savings_row


def test_an_outsider_never_sees_the_households_bills_or_accounts(
    books: Books, owner: User, outsider: User, outsider_household: Household, joint: Account
) -> None:
    bill(joint, "Our Landlord", "-900.00", in_days=3)
    theirs = AccountFactory(household=outsider_household, name="Oscar's wallet", opening_date=datetime.date(2023, 1, 1))
    bill(theirs, "Oscar's phone", "-15.00", in_days=4)

    outsider_html = staff_client(outsider).get(f"{DASHBOARD}?household={books.household.pk}").content.decode()
    owner_html = staff_client(owner).get(DASHBOARD).content.decode()

    for text in ("Our Landlord", "Joint account", "-900.00", "Checking"):
        assert text not in outsider_html
    assert "Oscar&#x27;s phone" in section(outsider_html, "ft-upcoming")
    assert "Oscar&#x27;s wallet" in section(outsider_html, "ft-forecast")
    for text in ("Oscar&#x27;s phone", "Oscar&#x27;s wallet", "-15.00"):
        assert text not in owner_html


def dashboard_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    return len(queries)


def test_the_dashboard_runs_a_fixed_number_of_queries(books: Books, owner: User, joint: Account) -> None:
    client = staff_client(owner)
    client.get(DASHBOARD)  # warm up: content types and permission caches are not the dashboard's
    for index in range(2):
        bill(joint, f"Bill {index}", "-10.00", in_days=index + 1)
    with_two = dashboard_queries(client)
    for index in range(2, 10):
        account = joint if index % 2 else books.checking
        bill(account, f"Bill {index}", "-10.00", in_days=index + 1, category=books.groceries)
    AccountFactory(household=books.household, name="Extra", opening_date=datetime.date(2023, 1, 1))
    with_ten = dashboard_queries(client)

    html = client.get(DASHBOARD).content.decode()
    assert section(html, "ft-upcoming").count("Bill ") == 10
    assert with_two == with_ten == DASHBOARD_QUERIES
