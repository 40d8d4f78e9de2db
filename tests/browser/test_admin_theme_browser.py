"""The themed admin (django-unfold) in a real browser under our Content-Security-Policy.

Every page a household member opens must run without a single CSP violation or script error: a violation
means a broken widget (a style or a script the browser refused), not just noise in the console.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from ledger.models import Household, User
from ledger.services.accounts_categories_tags import account_create, category_create
from ledger.services.transactions import transaction_create

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/admin/",
    "/admin/budgets/budget/dashboard/",
    "/admin/budgets/budget/month/",
    "/admin/ledger/account/",
    "/admin/ledger/account/add/",
    "/admin/ledger/transaction/",
    "/admin/ledger/transaction/add/",
    "/admin/ledger/category/",
    "/admin/budgets/scheduledtransaction/",
    "/admin/budgets/scheduledtransaction/add/",
    "/admin/budgets/exchangerate/",
    "/admin/uploads/statementimport/",
    "/admin/uploads/statementimport/wizard/",
]


def test_admin_pages_run_under_the_csp_without_violations(
    page: Any, live_server: Any, staff_owner: User, household: Household
) -> None:
    account = account_create(
        household=household, name="Checking", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    category_create(household=household, name="Food")
    transaction = transaction_create(
        account=account, date=datetime.date(2024, 4, 1), amount="-1234.50", payee="Kaufland"
    )
    problems: list[str] = []
    page.on(
        "console", lambda message: problems.append(f"{page.url}: {message.text}") if message.type == "error" else None
    )
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))

    page.goto(f"{live_server.url}/admin/login/")
    assert "financetracker" in page.title()
    page.fill("#id_username", staff_owner.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/admin/budgets/budget/dashboard/")

    for path in [*PAGES, f"/admin/ledger/transaction/{transaction.pk}/change/"]:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        # Alpine ran (it removes x-cloak from the page root once it has started): the theme's scripts work.
        page.wait_for_function("() => !document.documentElement.hasAttribute('x-cloak')")
    assert problems == []

    # The sidebar groups the pages by what people do, with the product's name above them.
    page.goto(f"{live_server.url}/admin/")
    sidebar = page.locator("#nav-sidebar-inner")
    for group in ("Money", "Planning", "Imports", "Settings"):
        assert sidebar.get_by_text(group, exact=True).count() >= 1, group
    assert sidebar.get_by_role("link", name="Transactions").count() >= 1
    assert "Django" not in page.locator("body").inner_text()
    favicon = page.evaluate("() => document.querySelector('link[rel=icon]').href")
    assert favicon.endswith("ledger/favicon.svg")
