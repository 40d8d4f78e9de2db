"""Issue #14's pages in a real browser: the dashboard's charts drawn, the register's running balance and quick
entry, a budget edit reaching the report, a viewer without edit controls, and every main page at phone width.

The run writes screenshots of the main pages, desktop and phone, to docs/screenshots/ (shown in the README).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from budgets.models import Budget
from budgets.months import budget_month_of
from budgets.selectors import budget_report_for_month
from ledger.admin.register import register_url
from ledger.demo import DEMO_PASSWORD, DEMO_USERNAME, seed_demo
from ledger.models import Account, Household, Transaction, TransactionStatus, User
from ledger.selectors import account_balance
from ledger.services.accounts_categories_tags import account_create, category_create
from ledger.services.transactions import transaction_create
from tests.browser.wizard import map_the_german_csv
from tests.factories import staff_member

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SAMPLES = Path(__file__).resolve().parents[1] / "uploads" / "samples"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("uploads_in_tmp")]


def log_in(page: Any, base_url: str, username: str, password: str, next_path: str = "/admin/") -> None:
    page.goto(f"{base_url}/admin/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"**{next_path.split('?')[0]}*")


def db_running_balances(account: Account) -> dict[int, Decimal]:
    """The expectation, computed by PostgreSQL over every row of the account (a plain window, no kept totals)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.id, CASE WHEN t.date >= a.opening_date THEN a.opening_balance ELSE 0 END
                            + sum(t.amount) OVER (ORDER BY t.date, t.id)
                 FROM ledger_transaction t JOIN ledger_account a ON a.id = t.account_id
                WHERE t.account_id = %s""",
            [account.pk],
        )
        return {int(pk): Decimal(balance) for pk, balance in cursor.fetchall()}


def register_rows(page: Any) -> dict[int, str]:
    """Each register row's transaction id and the balance shown on it."""
    rows = page.eval_on_selector_all(
        "#result_list tbody tr",
        """rows => rows.map(row => {
            const link = row.querySelector('a[href*="/ledger/transaction/"]');
            const balance = row.querySelector('.ft-balance');
            return [link ? link.getAttribute('href') : '', balance ? balance.textContent.trim() : ''];
        })""",
    )
    result = {}
    for href, balance in rows:
        match = re.search(r"/ledger/transaction/(\d+)/change/", href)
        if match:
            result[int(match.group(1))] = balance
    return result


def shown(value: Decimal) -> str:
    """How a euro amount reads on a page: two places, grouped thousands, a real minus sign."""
    return f"{value:,.2f} EUR".replace("-", "\u2212")


def phone_fits(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


@pytest.fixture
def demo() -> Household:
    result = seed_demo(today=timezone.localdate())
    assert result.household is not None
    return result.household


def test_main_pages_draw_their_charts_fit_a_phone_and_are_photographed(
    page: Any, live_server: Any, demo: Household
) -> None:
    checking = Account.objects.filter(household=demo).order_by("id").first()
    assert checking is not None
    month = budget_month_of(demo, timezone.localdate())
    pages = {
        "dashboard": f"{reverse('admin:budgets_dashboard')}?household={demo.pk}",
        "register": register_url(checking),
        "budget-month": f"{reverse('admin:budgets_budget_month')}?household={demo.pk}&month={month:%Y-%m}",
        "report-cashflow": f"{reverse('admin:budgets_report_cashflow')}?household={demo.pk}",
        "report-spending": f"{reverse('admin:budgets_report_spending')}?household={demo.pk}",
        "report-net-worth": f"{reverse('admin:budgets_report_net_worth')}?household={demo.pk}",
        "report-forecast": f"{reverse('admin:budgets_report_forecast')}?household={demo.pk}",
        "import-wizard": reverse("admin:uploads_import_wizard"),
    }
    on_phone = set(pages)
    log_in(page, live_server.url, DEMO_USERNAME, DEMO_PASSWORD)
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)

    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + pages["dashboard"])
    # The net-worth chart: one dot per month end and one line, as many as the table of the report has months.
    chart = page.locator('[data-chart="net_worth"] svg')
    assert chart.locator("circle.ft-point").count() == 12
    assert chart.locator("path.ft-line").count() == 1
    points = chart.locator("circle.ft-point").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert all(height > 0 for height in points), "the dots are laid out, not just present"
    # The spending chart: one bar per category with spending this month.
    spending_bars = page.locator("svg.ft-chart rect").count()
    report = budget_report_for_month(demo, month)
    assert spending_bars == sum(1 for line in report.categories if line.spent > 0)
    for name, path in pages.items():
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        shoot(page, f"{name}-desktop")
    page.goto(live_server.url + pages["report-cashflow"])
    assert page.locator('[data-chart="cashflow"] rect.ft-income').count() == 12
    assert page.locator('[data-chart="cashflow"] rect.ft-expense').count() == 12
    assert page.locator('[data-table="cashflow"] tbody tr').count() == 12

    page.set_viewport_size(PHONE)
    too_wide = {}
    for name in sorted(on_phone):
        page.goto(live_server.url + pages[name])
        page.wait_for_load_state("networkidle")
        width = phone_fits(page)
        if width > PHONE["width"]:
            too_wide[name] = width
        shoot(page, f"{name}-phone")
    # The wizard's next steps, on the phone: the file's first rows to map, then the preview.
    page.goto(live_server.url + pages["import-wizard"])
    page.select_option("#id_account", label="Checking (EUR)")
    page.set_input_files("#id_file", str(SAMPLES / "de_decimal_comma_bom_crlf.csv"))
    page.click("input[value=Upload]")
    page.wait_for_url("**/wizard/map/")
    for step in ("import-wizard-map", "import-wizard-preview"):
        page.wait_for_load_state("networkidle")
        width = phone_fits(page)
        if width > PHONE["width"]:
            too_wide[step] = width
        shoot(page, f"{step}-phone")
        if step == "import-wizard-map":
            map_the_german_csv(page, with_description=False)
    assert too_wide == {}, f"pages wider than the phone: {too_wide}"
    assert blocked == [], f"the Content-Security-Policy blocked something: {blocked}"


@pytest.fixture
def register_books(owner: User, household: Household) -> dict[str, Any]:
    staff_member(owner)
    account = account_create(
        household=household,
        name="Checking",
        currency="EUR",
        opening_balance=Decimal("500.00"),
        opening_date=datetime.date(2024, 1, 1),
    )
    food = category_create(household=household, name="Food")
    groceries = category_create(household=household, name="Groceries", parent=food)
    for day, amount, payee, status in [
        (2, "-42.10", "Kaufland", TransactionStatus.CLEARED),
        (5, "2100.00", "Employer", TransactionStatus.CLEARED),
        (5, "-900.00", "Landlord", TransactionStatus.PENDING),
        (9, "-13.37", "Kaufland", TransactionStatus.CLEARED),
    ]:
        for month in (1, 2, 3):
            transaction_create(
                account=account,
                date=datetime.date(2024, month, day),
                amount=amount,
                payee=payee,
                category=groceries if payee == "Kaufland" else None,
                status=status,
            )
    return {"account": account, "groceries": groceries}


def test_register_shows_the_databases_running_balance_and_quick_entry_updates_it(
    page: Any, live_server: Any, owner: User, register_books: dict[str, Any]
) -> None:
    account: Account = register_books["account"]
    log_in(page, live_server.url, owner.username, PASSWORD, register_url(account))
    expected = db_running_balances(account)
    rows = register_rows(page)
    assert len(rows) == 12
    assert rows == {pk: shown(expected[pk]) for pk in rows}
    # Filtered to one status, each row keeps the account's true balance after it.
    page.goto(live_server.url + register_url(account) + "&status__exact=pending")
    pending = register_rows(page)
    assert len(pending) == 3
    assert pending == {pk: shown(expected[pk]) for pk in pending}
    assert page.locator(".ft-status-pending").count() == 3

    # Quick entry from the keyboard: the payee proposes its last category and amount; Enter saves.
    page.goto(live_server.url + register_url(account))
    page.fill("#ft-qe-date", "2024-03-20")
    page.focus("#ft-qe-payee")
    page.keyboard.type("Kaufland")
    from playwright.sync_api import expect

    # (expect, not wait_for_function: the CSP forbids the eval that a string predicate needs)
    expect(page.locator("#ft-qe-amount")).to_have_value("-13.37")
    assert page.input_value("#ft-qe-category") == str(register_books["groceries"].pk)
    page.keyboard.press("Enter")  # payee → amount (it is filled)
    assert page.evaluate("document.activeElement.id") == "ft-qe-amount"
    page.keyboard.press("Control+A")
    page.keyboard.type("-20.00")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Added Kaufland")
    saved = Transaction.objects.get(account=account, date=datetime.date(2024, 3, 20))
    assert (saved.amount, saved.category, saved.created_by) == (Decimal("-20.00"), register_books["groceries"], owner)
    expected = db_running_balances(account)
    rows = register_rows(page)
    assert rows[saved.pk] == shown(expected[saved.pk])
    # The newest row's balance is the account's balance, shown above the register.
    assert expected[saved.pk] == account_balance(account)
    assert page.locator('[data-testid="account-balance"]').inner_text() == shown(account_balance(account))
    assert page.evaluate("document.activeElement.id") == "ft-qe-payee"  # ready for the next entry


def test_a_budget_edit_on_the_month_page_reaches_the_report(
    page: Any, live_server: Any, owner: User, household: Household
) -> None:
    staff_member(owner)
    rent = category_create(household=household, name="Rent")
    month = budget_month_of(household, timezone.localdate())
    url = f"{reverse('admin:budgets_budget_month')}?household={household.pk}&month={month:%Y-%m}"
    log_in(page, live_server.url, owner.username, PASSWORD, url)
    page.fill(f'input[name="amount_{rent.pk}"]', "1234.50")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text=Saved the budget of {month:%B %Y}")
    assert Budget.objects.get(category=rent, month=month).amount == Decimal("1234.50")
    row = page.locator(f'tr[data-category="{rent.pk}"]')
    assert row.locator('[data-figure="available"]').inner_text().startswith("1,234.50")
    assert page.locator('tfoot [data-figure="budgeted"]').inner_text() == "1,234.50"
    # The dashboard reads the same report.
    page.goto(f"{live_server.url}{reverse('admin:budgets_dashboard')}?household={household.pk}")
    assert "0.00 / 1,234.50" in page.content()


def test_a_viewer_sees_no_edit_controls(page: Any, live_server: Any, viewer: User, household: Household) -> None:
    staff_member(viewer)
    account = account_create(household=household, name="Joint", currency="EUR", opening_date=datetime.date(2024, 1, 1))
    category_create(household=household, name="Rent")
    transaction_create(account=account, date=datetime.date(2024, 2, 1), amount="-5.00", payee="Kiosk")
    log_in(page, live_server.url, viewer.username, PASSWORD, register_url(account))
    assert page.locator(".ft-balance").count() == 1
    assert page.locator("#ft-quick-entry").count() == 0
    month = budget_month_of(household, timezone.localdate())
    page.goto(f"{live_server.url}{reverse('admin:budgets_budget_month')}?household={household.pk}&month={month:%Y-%m}")
    assert page.locator("text=Rent").count() >= 1
    assert page.locator('input[name^="amount_"]').count() == 0
    assert page.locator('button[value="copy_previous"]').count() == 0
    assert page.locator('button[value="fill_average"]').count() == 0
