"""The budget month page and the report pages: the API's figures, totals that are the sum of the rows shown,
charts with one element per data point, and no edit controls for a viewer."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from budgets.models import Budget
from budgets.months import add_months, budget_month_of
from budgets.services.budget_lines import budget_set
from ledger.models import AuditEntry, Household, User
from ledger.services.transactions import transaction_create
from tests.factories import Books, staff_client

pytestmark = pytest.mark.django_db


def cells(html: str, table: str) -> list[list[str]]:
    """The text of each body and foot row's cells of the table marked data-table=`table`."""
    body = html.split(f'data-table="{table}"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]:  # skip the head row
        texts = [re.sub(r"<[^>]+>", " ", cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows.append([" ".join(t.split()) for t in texts])
    return rows


def amount(text: str) -> Decimal:
    return Decimal(text.split()[0].replace(",", "").replace("\u2212", "-"))


@pytest.fixture
def this_month(books: Books) -> datetime.date:
    return budget_month_of(books.household, timezone.localdate())


@pytest.fixture
def month_books(books: Books, this_month: datetime.date) -> Books:
    h = books.household
    today = timezone.localdate()
    budget_set(household=h, category=books.groceries, month=this_month, amount="300.00")
    budget_set(household=h, category=books.restaurants, month=this_month, amount="50.00")
    budget_set(household=h, category=books.food, month=this_month, amount="20.00")
    budget_set(household=h, category=books.rent, month=this_month, amount="900.00")
    budget_set(household=h, category=books.rent, month=add_months(this_month, -1), amount="1000.00", rollover=True)
    transaction_create(account=books.checking, date=today, amount="2500.00", category=books.salary)
    transaction_create(account=books.checking, date=today, amount="-80.25", category=books.restaurants)
    transaction_create(account=books.checking, date=today, amount="-120.10", category=books.groceries)
    transaction_create(account=books.checking, date=today, amount="-950.00", category=books.rent)
    return books


def month_url(household: Household, month: datetime.date) -> str:
    return f"{reverse('admin:budgets_budget_month')}?household={household.pk}&month={month:%Y-%m}"


def test_month_page_shows_budgeted_carried_spent_available_and_totals_that_add_up(
    month_books: Books, owner: User, this_month: datetime.date
) -> None:
    html = staff_client(owner).get(month_url(month_books.household, this_month)).content.decode()
    rows = cells(html, "budget-month")
    by_name = {row[0].replace("└ ", ""): row for row in rows}
    # Restaurants: budgeted 50, spent 80.25 → overspent, said in words.
    assert by_name["Restaurants"][2:5] == ["0.00", "80.25", "\u221230.25 overspent"]
    # Rent: 1000 last month with rollover, nothing spent then → 1000 carried; 900 + 1000 - 950.
    assert by_name["Rent"][2:5] == ["1,000.00", "950.00", "950.00"]
    # The group row is the sum of the rows under it (its own line included), the total the sum of the top rows.
    group, own = by_name["Food"], by_name["Food — not in a subcategory"]
    parts = [own, by_name["Groceries"], by_name["Restaurants"]]
    for column in (2, 3):
        assert amount(group[column]) == sum(amount(p[column]) for p in parts)
    total = rows[-1]
    assert total[0] == "Total"
    top = [group, by_name["Rent"]]
    for column in (2, 3, 4):
        assert amount(total[column]) == sum(amount(r[column]) for r in top)
    # Budgeted figures are inputs for the owner; their values add up to the total too.
    inputs = dict(re.findall(r'name="amount_(\d+)" value="([^"]*)"', html))
    assert sum(Decimal(v) for v in inputs.values() if v) == amount(total[1]) == Decimal("1270.00")
    # Left to budget: the month's income minus what is budgeted.
    assert re.search(r'data-figure="left_to_budget">1,230.00 EUR', html)
    assert re.search(r'data-figure="income">2,500.00 EUR', html)


def test_month_page_matches_the_api_budget_report(month_books: Books, owner: User, this_month: datetime.date) -> None:
    api = APIClient()
    api.force_authenticate(owner)
    report = api.get(
        "/api/v1/reports/budget/", {"household": str(month_books.household.pk), "month": f"{this_month:%Y-%m}"}
    )
    html = staff_client(owner).get(month_url(month_books.household, this_month)).content.decode()
    total = cells(html, "budget-month")[-1]
    totals = report.json()["totals"]
    assert [amount(total[1]), *map(amount, total[2:5])] == [
        Decimal(totals["budgeted"]),
        Decimal(totals["carried_over"]),
        Decimal(totals["spent"]),
        Decimal(totals["available"]),
    ]


def test_saving_the_month_writes_only_what_changed(month_books: Books, editor: User, this_month: datetime.date) -> None:
    client = staff_client(editor)
    url = month_url(month_books.household, this_month)
    html = client.get(url).content.decode()
    data = dict(re.findall(r'name="(amount_\d+)" value="([^"]*)"', html))
    data.update({"household": str(month_books.household.pk), "month": f"{this_month:%Y-%m}", "action": "save"})
    data[f"amount_{month_books.groceries.pk}"] = "333.30"
    entries = AuditEntry.objects.filter(object_type="budgets.budget")
    before = entries.count()
    assert client.post(url, data).status_code == 302
    assert entries.count() == before + 1  # the groceries line alone: unchanged lines are not rewritten
    assert Budget.objects.get(category=month_books.groceries, month=this_month).amount == Decimal("333.30")
    assert Budget.objects.get(category=month_books.rent, month=this_month).amount == Decimal("900.00")


def test_viewer_sees_the_month_without_edit_controls_and_may_not_post(
    month_books: Books, viewer: User, this_month: datetime.date
) -> None:
    client = staff_client(viewer)
    html = client.get(month_url(month_books.household, this_month)).content.decode()
    assert "950.00" in html
    assert 'name="amount_' not in html
    assert 'value="copy_previous"' not in html
    response = client.post(
        month_url(month_books.household, this_month),
        {"household": month_books.household.pk, "month": f"{this_month:%Y-%m}", f"amount_{month_books.rent.pk}": "1"},
    )
    assert response.status_code == 403
    assert Budget.objects.get(category=month_books.rent, month=this_month).amount == Decimal("900.00")


@pytest.mark.parametrize(
    ("page", "api", "table"),
    [
        ("cashflow", "cashflow", "cashflow"),
        ("spending", "spending", "spending"),
        ("net_worth", "net-worth", "net_worth"),
    ],
)
def test_report_pages_show_the_apis_figures_with_a_chart(
    month_books: Books, viewer: User, page: str, api: str, table: str
) -> None:
    h = month_books.household
    end = timezone.localdate().replace(day=1)
    start = add_months(end, -2)
    query = {"household": str(h.pk), "start": f"{start:%Y-%m}", "end": f"{end:%Y-%m}"}
    response = staff_client(viewer).get(reverse(f"admin:budgets_report_{page}"), query)
    assert response.status_code == 200
    html = response.content.decode()
    api_client = APIClient()
    api_client.force_authenticate(viewer)
    data = api_client.get(f"/api/v1/reports/{api}/", query).json()
    rows = cells(html, table)
    assert 'data-chart="' in html
    if page == "cashflow":
        assert [[amount(c) for c in row[1:]] for row in rows[:-1]] == [
            [Decimal(m["income"]), Decimal(m["expense"]), Decimal(m["net"])] for m in data["months"]
        ]
        assert [amount(c) for c in rows[-1][1:]] == [Decimal(data["totals"][k]) for k in ("income", "expense", "net")]
        assert html.count('class="ft-bar ft-income"') == html.count('class="ft-bar ft-expense"') == len(data["months"])
    elif page == "spending":
        top = {line["name"]: Decimal(line["spent"]) for line in data["categories"]}
        shown = {row[0]: amount(row[1]) for row in rows[:-1] if not row[0].startswith("└")}
        assert shown == top
        assert amount(rows[-1][1]) == Decimal(data["total"]) == sum(shown.values())
        assert html.count('class="ft-bar ft-spent"') == sum(1 for v in top.values() if v != 0)
    else:
        assert [amount(row[-1]) for row in rows] == [Decimal(m["total"]) for m in data["months"]]
        for row in rows:  # each month's net worth is the sum of the account columns shown
            assert amount(row[-1]) == sum(amount(c) for c in row[1:-1])
        assert html.count('class="ft-point ft-total"') == len(data["months"])


def test_forecast_page_shows_each_accounts_projection(month_books: Books, viewer: User) -> None:
    query = {"household": str(month_books.household.pk), "months": "4"}
    html = staff_client(viewer).get(reverse("admin:budgets_report_forecast"), query).content.decode()
    rows = cells(html, "forecast")
    assert [row[0] for row in rows] == ["Checking EUR", "Savings EUR"]
    assert all(len(row) == 2 + 4 for row in rows)
    assert amount(rows[0][1]) == Decimal("1349.65")  # 2500 - 80.25 - 120.10 - 950
    assert html.count('class="ft-point ft-series-0"') == 4


def test_a_bad_report_range_is_explained_and_the_default_shown(month_books: Books, viewer: User) -> None:
    query = {"household": str(month_books.household.pk), "start": "2024-13"}
    response = staff_client(viewer).get(reverse("admin:budgets_report_cashflow"), query, follow=True)
    assert response.status_code == 200
    assert "Showing the default range instead" in response.content.decode()


def test_dashboard_shows_net_worth_and_its_chart(month_books: Books, owner: User) -> None:
    html = staff_client(owner).get(reverse("admin:budgets_dashboard")).content.decode()
    assert re.search(r'data-testid="net-worth">1,349.65 EUR<', html)
    chart = html.split('data-chart="net_worth"', 1)[1].split("</figure>", 1)[0]
    assert chart.count("<circle") == 12
    assert chart.count("<path") == 1


def test_spending_page_groups_add_up_when_the_parent_has_its_own_spending(month_books: Books, owner: User) -> None:
    transaction_create(
        account=month_books.checking, date=timezone.localdate(), amount="-5.05", category=month_books.food
    )
    query = {"household": str(month_books.household.pk)}
    html = staff_client(owner).get(reverse("admin:budgets_report_spending"), query).content.decode()
    rows = {row[0].replace("└ ", ""): amount(row[1]) for row in cells(html, "spending")}
    assert rows["Food — not in a subcategory"] == Decimal("5.05")
    assert rows["Food"] == rows["Food — not in a subcategory"] + rows["Groceries"] + rows["Restaurants"]
    assert rows["Food"] == Decimal("205.40")
