"""Small things a person notices (issue #14, item 8), each checked against the structure it comes from:
filters offer only values in use, categories read as a tree, the API root lists every collection, and no
admin page says "Django"."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from ledger.admin.scoping import InUseChoicesFilter
from ledger.models import Category, Household, User
from ledger.services.accounts_categories_tags import account_create, category_create
from tests.factories import Books, staff_member
from tests.ledger.test_money_display import admin_pages, books, visible_text  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_the_currency_filter_lists_only_currencies_in_use(
    books: Books,  # noqa: F811
    owner: User,
    outsider_household: Household,
) -> None:
    account_create(household=outsider_household, name="Theirs", currency="CHF", opening_date=datetime.date(2024, 1, 1))
    # A household member, not a superuser (who sees every household, CHF included).
    staff_member(owner)
    client = Client()
    client.force_login(owner)
    response = client.get(reverse("admin:ledger_account_changelist"))
    specs = {spec.field_path: spec for spec in response.context["cl"].filter_specs if hasattr(spec, "field_path")}
    currency = specs["currency"]
    assert isinstance(currency, InUseChoicesFilter)
    offered = {choice["display"] for choice in currency.choices(response.context["cl"])} - {"All"}
    assert offered == {"EUR", "JPY", "KWD"}  # the owner's accounts; nobody else's CHF


def test_every_choices_filter_of_every_admin_offers_only_values_in_use(books: Books, owner: User) -> None:  # noqa: F811
    client = Client()
    client.force_login(owner)
    checked = 0
    for model in admin.site._registry:
        opts = model._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if response.status_code != 200 or response.context is None or "cl" not in response.context:
            continue
        changelist = response.context["cl"]
        for spec in changelist.filter_specs:
            field = getattr(spec, "field", None)
            if field is None or not field.choices or getattr(field, "remote_field", None) is not None:
                continue
            assert isinstance(spec, InUseChoicesFilter), (model, field.name)
            in_use = set(changelist.root_queryset.values_list(spec.field_path, flat=True))
            assert {value for value, _label in spec.field.flatchoices} <= in_use, (model, field.name)
            checked += 1
    assert checked >= 5


def test_categories_sort_by_parent_then_child(owner: User, household: Household) -> None:
    staff_member(owner, superuser=True)
    shopping = category_create(household=household, name="Shopping")
    category_create(household=household, name="Clothing", parent=shopping)
    food = category_create(household=household, name="Food")
    category_create(household=household, name="Groceries", parent=food)
    client = Client()
    client.force_login(owner)
    listing = client.get(reverse("admin:ledger_category_changelist"))
    shown = [str(category) for category in listing.context["cl"].result_list]
    assert shown == ["Food", "Food › Groceries", "Shopping", "Shopping › Clothing"]
    # The same order in a form's category choices.
    form = client.get(reverse("admin:budgets_budget_add")).content.decode()
    positions = [form.index(f">{name}</option>") for name in shown]
    assert positions == sorted(positions)
    assert Category.objects.count() == 4


def _list_routes(patterns: list[Any], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= _list_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("api/v1/"):
            name = pattern.name or ""
            if (name.endswith("-list") or name.startswith("report-")) and "<format>" not in str(pattern.pattern):
                names.add(name)
    return names


def test_the_api_root_lists_every_list_route_of_the_url_configuration(owner: User) -> None:
    routes = _list_routes(get_resolver().url_patterns)
    assert {"transaction-list", "budget-list", "scheduled-list", "rule-list", "statementimport-list"} <= routes
    client = APIClient()
    client.force_authenticate(owner)
    root = client.get("/api/v1/")
    assert root.status_code == 200
    listed = set(root.json().values())
    missing = {name for name in routes if f"http://testserver{reverse(name)}" not in listed}
    assert missing == set()


def test_no_admin_page_says_django(books: Books, owner: User) -> None:  # noqa: F811
    client = Client()
    client.force_login(owner)
    pages = [*admin_pages(owner), reverse("admin:budgets_dashboard"), reverse("admin:password_change")]
    said = [url for url in pages if "django" in visible_text(client.get(url).content.decode()).lower()]
    assert said == []
    client.logout()
    assert "django" not in visible_text(client.get(reverse("admin:login")).content.decode()).lower()
