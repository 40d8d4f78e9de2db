"""The budgets back office: scoped lists, the month view saving through services, the dashboard."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from budgets.models import Budget
from budgets.months import budget_month_of
from ledger.models import User
from ledger.services.transactions import transaction_create
from tests.budgets.factories import BudgetFactory
from tests.factories import Books, CategoryFactory, staff_client


@pytest.fixture
def this_month(books: Books) -> datetime.date:
    return budget_month_of(books.household, timezone.localdate())


def test_the_admin_index_links_to_the_dashboard(books: Books, owner) -> None:
    response = staff_client(owner).get("/admin/")

    assert response.status_code == 200
    assert b"/admin/budgets/budget/dashboard/" in response.content


def test_the_dashboard_shows_balances_budget_progress_and_spending(books: Books, owner, this_month) -> None:
    BudgetFactory(household=books.household, category=books.rent, month=this_month, amount=Decimal("1000.00"))
    transaction_create(account=books.checking, date=timezone.localdate(), amount="-950.00", category=books.rent)

    response = staff_client(owner).get("/admin/budgets/budget/dashboard/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "\u2212950.00 EUR" in content  # the checking balance, with a real minus sign
    assert '<rect class="fill near" width="95"' in content
    assert "<svg" in content
    assert "950.00 / 1,000.00" in content


def test_the_month_view_lists_every_category_and_saves_through_services(books: Books, editor, this_month) -> None:
    client = staff_client(editor)
    url = f"/admin/budgets/budget/month/?household={books.household.pk}&month={this_month:%Y-%m}"
    page = client.get(url)
    assert page.status_code == 200
    for category in (books.groceries, books.restaurants, books.rent):
        assert f'name="amount_{category.pk}"'.encode() in page.content
    assert f'name="amount_{books.salary.pk}"'.encode() not in page.content  # income

    response = client.post(
        url,
        {
            "household": books.household.pk,
            "month": f"{this_month:%Y-%m}",
            f"amount_{books.rent.pk}": "900.00",
            f"rollover_{books.rent.pk}": "on",
            f"amount_{books.groceries.pk}": "250",
        },
    )

    assert response.status_code == 302
    lines = {line.category_id: line for line in Budget.objects.filter(month=this_month)}
    assert (lines[books.rent.pk].amount, lines[books.rent.pk].rollover) == (Decimal("900.00"), True)
    assert lines[books.groceries.pk].amount == Decimal("250")


def test_the_month_view_saves_nothing_when_one_amount_is_wrong(books: Books, owner, this_month) -> None:
    client = staff_client(owner)

    response = client.post(
        "/admin/budgets/budget/month/",
        {
            "household": books.household.pk,
            "month": f"{this_month:%Y-%m}",
            f"amount_{books.rent.pk}": "900.00",
            f"amount_{books.groceries.pk}": "12.345",
        },
    )

    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not Budget.objects.exists()


def test_a_viewer_cannot_save_the_month(books: Books, viewer, this_month) -> None:
    response = staff_client(viewer).post(
        "/admin/budgets/budget/month/",
        {
            "household": books.household.pk,
            "month": f"{this_month:%Y-%m}",
            f"amount_{books.rent.pk}": "1.00",
        },
    )

    assert response.status_code == 403
    assert not Budget.objects.exists()


def test_an_outsider_sees_none_of_the_households_lines_or_categories(
    books: Books, outsider, outsider_household
) -> None:
    line = BudgetFactory(household=books.household, category=books.rent)
    mine = CategoryFactory(household=outsider_household, name="Mine")
    client = staff_client(outsider)

    listing = client.get("/admin/budgets/budget/")
    add_form = client.get("/admin/budgets/budget/add/")

    assert listing.status_code == 200
    assert f"/admin/budgets/budget/{line.pk}/change/".encode() not in listing.content
    assert client.get(f"/admin/budgets/budget/{line.pk}/change/").status_code == 302  # "does not exist"
    choices = add_form.context["adminform"].form.fields["category"].queryset
    assert list(choices) == [mine]
    dashboard = client.get(f"/admin/budgets/budget/dashboard/?household={books.household.pk}")
    assert books.household.name.encode() not in dashboard.content


def added_through_the_admin(user: User, books: Books, model: str, **fields: object) -> Any:
    """The response to `user` posting the budgets admin's add form of `model` for the books' household."""
    return staff_client(user).post(f"/admin/budgets/{model}/add/", {"household": books.household.pk, **fields})


def test_an_editor_adds_a_budget_line_through_the_admin_form(books: Books, editor) -> None:
    response = added_through_the_admin(
        editor, books, "budget", category=books.rent.pk, month="2024-03-01", amount="900.00"
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    line = Budget.objects.get()
    assert (line.category_id, line.month, line.amount) == (books.rent.pk, datetime.date(2024, 3, 1), Decimal("900"))


def test_the_schedule_form_shows_a_bad_recurrence_next_to_the_field(books: Books, owner) -> None:
    from budgets.models import ScheduledTransaction

    response = added_through_the_admin(
        owner,
        books,
        "scheduledtransaction",
        account=books.checking.pk,
        amount="-10.00",
        recurrence="FREQ=EVERY",
        start_date="2024-01-01",
        active="on",
        **{"occurrences-TOTAL_FORMS": "0", "occurrences-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 200
    assert "RFC 5545" in response.content.decode()
    assert not ScheduledTransaction.objects.exists()
