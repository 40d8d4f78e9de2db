"""Money reads as money on every admin page, generated from the admin's registry.

Amounts are stored numeric(19, 4); a page that prints one as stored shows "-134.2100". Every changelist,
add and change page of every registered model is rendered for a household holding EUR (2 places), JPY (0)
and KWD (3) amounts, and its visible text and visible input values are searched for four-decimal figures.
"""

from __future__ import annotations

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse

from budgets.services.budget_lines import budget_set
from budgets.services.rates import RateRow, exchange_rates_upsert
from budgets.services.schedules import scheduled_create
from financetracker.core.money import display_amount, display_rate
from ledger.models import Transaction, User
from ledger.services.accounts_categories_tags import account_create
from ledger.services.transactions import SplitLine, transaction_create, transfer_create
from tests.factories import Books, staff_member

pytestmark = pytest.mark.django_db

FOUR_DECIMALS = re.compile(r"\d\.\d{4}(?!\d)")
MANY_DECIMALS = re.compile(r"\d\.\d{7,}")
HIDDEN_INPUT = re.compile(r"<input[^>]*type=\"hidden\"[^>]*>", re.I)
INPUT_VALUE = re.compile(r"<input[^>]*\bvalue=\"([^\"]*)\"[^>]*>", re.I)
NOT_SHOWN = re.compile(r"<(script|style|template)\b.*?</\1>", re.S | re.I)
TAG = re.compile(r"<[^>]+>")


def visible_text(page: str) -> str:
    page = NOT_SHOWN.sub(" ", HIDDEN_INPUT.sub(" ", page))
    values = " ".join(INPUT_VALUE.findall(page))
    return html.unescape(TAG.sub(" ", page) + " " + values)


@pytest.fixture
def books(books: Books, owner: User) -> Books:
    """The shared books (tests.factories.books_for) with amounts in currencies of 0, 2 and 3 places, a
    split, a transfer, a budget, a schedule and a rate, shown to the owner as a superuser."""
    staff_member(owner, superuser=True)
    household, eur, savings, food, groceries = (
        books.household,
        books.checking,
        books.savings,
        books.food,
        books.groceries,
    )
    jpy = account_create(household=household, name="Tokyo", currency="JPY", opening_date=datetime.date(2024, 1, 1))
    kwd = account_create(household=household, name="Kuwait", currency="KWD", opening_date=datetime.date(2024, 1, 1))
    transaction_create(account=eur, date=datetime.date(2024, 4, 1), amount="-1234.5", payee="Kaufland")
    transaction_create(
        account=eur,
        date=datetime.date(2024, 4, 2),
        amount="-50.25",
        payee="Market",
        splits=[SplitLine(groceries, Decimal("-30.25")), SplitLine(food, Decimal("-20.00"))],
    )
    transaction_create(account=jpy, date=datetime.date(2024, 4, 3), amount="123456", payee="Salary")
    transaction_create(account=kwd, date=datetime.date(2024, 4, 4), amount="-1234.567", payee="Souq")
    transfer_create(from_account=eur, to_account=savings, date=datetime.date(2024, 4, 5), amount="2500")
    budget_set(household=household, category=groceries, month=datetime.date(2024, 4, 1), amount="1234.5")
    scheduled_create(
        household=household,
        account=eur,
        amount=Decimal("-1099.9"),
        payee="Rent",
        recurrence="FREQ=MONTHLY;BYMONTHDAY=1",
        start_date=datetime.date(2024, 5, 1),
    )
    exchange_rates_upsert(rows=[RateRow(datetime.date(2024, 4, 1), "EUR", "USD", Decimal("1.0852300000"))])
    return books


def admin_pages(owner: User) -> list[str]:
    request = RequestFactory().get("/admin/")
    request.user = owner
    urls = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{prefix}_changelist"))
        if model_admin.has_add_permission(request):
            urls.append(reverse(f"{prefix}_add"))
        first = model_admin.get_queryset(request).first()
        if first is not None:
            try:
                urls.append(reverse(f"{prefix}_change", args=[first.pk]))
                urls.append(reverse(f"{prefix}_history", args=[first.pk]))
            except NoReverseMatch:
                pass
    return urls


def test_no_admin_page_shows_an_amount_with_four_decimals(books: Books, owner: User) -> None:
    client = Client()
    client.force_login(owner)
    pages = admin_pages(owner)
    pages += [reverse("admin:budgets_dashboard"), reverse("admin:budgets_budget_month") + "?month=2024-04"]
    assert len(pages) > 40
    offenders = []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible_text(response.content.decode())
        for match in [*FOUR_DECIMALS.finditer(text), *MANY_DECIMALS.finditer(text)]:
            offenders.append(f"{url}: …{text[max(0, match.start() - 40) : match.end() + 10]!r}")
    assert offenders == []


def test_amounts_read_with_currency_places_separators_and_sign(books: Books, owner: User) -> None:
    client = Client()
    client.force_login(owner)
    listing = visible_text(client.get(reverse("admin:ledger_transaction_changelist")).content.decode())
    assert "\u22121,234.50 EUR" in listing
    assert "+123,456 JPY" in listing
    assert "Transfer → Savings" in listing and "Transfer ← Checking" in listing
    assert "\u22121,234.567 KWD" in listing
    change = client.get(
        reverse("admin:ledger_transaction_change", args=[Transaction.objects.get(payee="Kaufland").pk])
    ).content.decode()
    # The title and the amount input.
    assert "Kaufland \u22121,234.50 EUR" in html.unescape(change)
    assert 'value="-1234.50"' in change
    accounts = client.get(reverse("admin:ledger_account_changelist")).content.decode()
    assert 'class="ft-amount ft-negative"' in accounts  # colour as well as the sign
    rates = visible_text(client.get(reverse("admin:budgets_exchangerate_changelist")).content.decode())
    assert "1 EUR = 1.08523 USD" in rates


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("-134.2100", "EUR", "\u2212134.21 EUR"),
        ("1234.5", "EUR", "1,234.50 EUR"),
        ("1000", "JPY", "1,000 JPY"),
        ("1.234", "KWD", "1.234 KWD"),
        ("0", "EUR", "0.00 EUR"),
    ],
)
def test_display_amount(amount: str, currency: str, shown: str) -> None:
    assert display_amount(Decimal(amount), currency) == shown


@pytest.mark.parametrize(
    ("rate", "shown"), [("1.0852300000", "1.08523"), ("157.2300000000", "157.23"), ("0.0063450000", "0.006345")]
)
def test_display_rate(rate: str, shown: str) -> None:
    assert display_rate(Decimal(rate)) == shown
