"""Hostile values in the admin's forms and lists: a form shown again with the field's error, or the admin's own
"incorrect lookup" redirect, never a 500, and never a value the API refuses stored.

Generated from `admin.site`: every registered model's change form (on the walls' seeded world, as the household's
owner), each date field and each autocomplete field of it, and every change list with a date hierarchy.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.db import models
from django.test import Client, RequestFactory
from django.urls import reverse

from ledger.models import Account, Transfer
from tests.hardening.conftest import world_owner_client
from tests.walls.world import World

pytestmark = pytest.mark.django_db

# Dates Django's form field cannot read, and dates it reads that lie outside the books' range (the API's 400).
UNREADABLE_DATES = ("2024-02-30", "garbage")
OUT_OF_RANGE_DATES = ("9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01")
# Amounts Python's Decimal reads and the API refuses: Arabic-Indic digits, digit grouping, exponents, NaN.
HOSTILE_AMOUNTS = ("\u0663", "1_000", "1e5", "NaN", "-Infinity")
# A seeded row's key in tests/walls/world.py, where it is not the model's name.
SEEDED_KEY = {"scheduledtransaction": "scheduled", "exchangerate": "rate", "statementimport": "statement_import"}


@pytest.fixture
def owner_admin(world: World) -> Client:
    return world_owner_client(world, Client())


def form_values(page: str) -> dict[str, Any]:
    """What a browser would post back from an admin change form as it was rendered."""
    data: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if not name or (kind and kind.group(1) in ("submit", "button", "file")):
            continue
        if kind and kind.group(1) == "checkbox":
            if "checked" in tag:
                data[name.group(1)] = "on"
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.findall(r'<option[^>]*value="([^"]*)"[^>]*selected', options)
        data[name] = (
            chosen if "multiple" in page.split(f'name="{name}"')[1][:200].split(">")[0] else next(iter(chosen), "")
        )
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        data[name] = html.unescape(text).removeprefix("\n")
    data.pop("_addanother", None)
    data.pop("_continue", None)
    return data


def seeded_rows(world: World) -> list[tuple[admin.ModelAdmin, models.Model]]:
    """Each registered model's seeded row of the owner's household (or its first visible row)."""
    request = RequestFactory().get("/admin/")
    request.user = world.person("owner")
    found = []
    for model, model_admin in admin.site._registry.items():
        name = str(model._meta.model_name)
        key = SEEDED_KEY.get(name, name)
        pk = world.ours.ids.get(key)
        queryset = model_admin.get_queryset(request)
        obj = queryset.filter(pk=pk).first() if pk is not None else queryset.order_by("pk").first()
        if obj is not None and model_admin.has_change_permission(request, obj):
            found.append((model_admin, obj))
    return found


def change_url(obj: models.Model) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def form_fields(model_admin: admin.ModelAdmin, obj: models.Model, world: World) -> dict[str, forms.Field]:
    request = RequestFactory().get(change_url(obj))
    request.user = world.person("owner")
    return dict(model_admin.get_form(request, obj).base_fields)


def test_every_change_forms_dates_are_refused_with_a_message_when_unreadable_or_out_of_range(world, owner_admin):
    checked, failures = set(), []
    for model_admin, obj in seeded_rows(world):
        url = change_url(obj)
        values = form_values(owner_admin.get(url).content.decode())
        dates = [
            name
            for name, field in form_fields(model_admin, obj, world).items()
            if isinstance(field, forms.DateField) and not isinstance(field, forms.DateTimeField) and name in values
        ]
        for name in dates:
            stored = getattr(type(obj)._default_manager.get(pk=obj.pk), name)
            for value in UNREADABLE_DATES + OUT_OF_RANGE_DATES:
                response = owner_admin.post(url, {**values, name: value})
                now = getattr(type(obj)._default_manager.get(pk=obj.pk), name)
                if response.status_code != 200 or now != stored:
                    failures.append(f"{url} {name}={value}: {response.status_code}, stored {now}")
                elif "errorlist" not in response.content.decode():
                    failures.append(f"{url} {name}={value}: shown again without an error")
            checked.add(f"{obj._meta.model_name}.{name}")
    # The dates people type in the back office (a new model's date field joins this list by itself).
    assert {
        "transaction.date",
        "account.opening_date",
        "scheduledtransaction.start_date",
        "exchangerate.date",
    } <= checked
    assert failures == []


def test_adding_a_copy_of_every_row_with_a_hostile_date_stores_nothing_and_answers(world, owner_admin):
    # The add form has no stored value to fall back on: an unreadable date reaches model validation as None.
    request = RequestFactory().get("/admin/")
    request.user = world.person("owner")
    checked, failures = set(), []
    for model_admin, obj in seeded_rows(world):
        if not model_admin.has_add_permission(request):
            continue
        values = form_values(owner_admin.get(change_url(obj)).content.decode())
        add_url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_add")
        for name, field in form_fields(model_admin, obj, world).items():
            if not isinstance(field, forms.DateField) or isinstance(field, forms.DateTimeField) or name not in values:
                continue
            for value in UNREADABLE_DATES + OUT_OF_RANGE_DATES:
                before = type(obj)._default_manager.count()
                response = owner_admin.post(add_url, {**values, name: value})
                if response.status_code != 200 or type(obj)._default_manager.count() != before:
                    failures.append(f"{add_url} {name}={value}: {response.status_code}")
            checked.add(f"{obj._meta.model_name}.{name}")
    assert {"transaction.date", "scheduledtransaction.start_date", "exchangerate.date"} <= checked
    assert failures == []


def test_every_change_forms_amounts_are_read_as_the_api_reads_them(world, owner_admin):
    checked, failures = set(), []
    for model_admin, obj in seeded_rows(world):
        url = change_url(obj)
        values = form_values(owner_admin.get(url).content.decode())
        for name, field in form_fields(model_admin, obj, world).items():
            if not isinstance(field, forms.DecimalField) or name not in values:
                continue
            stored = getattr(type(obj)._default_manager.get(pk=obj.pk), name)
            for value in HOSTILE_AMOUNTS:
                response = owner_admin.post(url, {**values, name: value})
                now = getattr(type(obj)._default_manager.get(pk=obj.pk), name)
                if response.status_code != 200 or now != stored or "plain decimal" not in response.content.decode():
                    failures.append(f"{url} {name}={value!r}: {response.status_code}, stored {now}")
            checked.add(f"{obj._meta.model_name}.{name}")
    assert {"transaction.amount", "account.opening_balance", "scheduledtransaction.amount", "budget.amount"} <= checked
    assert failures == []


@pytest.mark.parametrize("value", HOSTILE_AMOUNTS)
def test_a_transfer_amount_is_read_as_the_api_reads_it(world, owner_admin, value):
    ids = world.ours.ids
    savings = Account.objects.exclude(pk=ids["account"]).get(household_id=ids["household"], archived=False)
    form = {"from_account": ids["account"], "to_account": savings.pk, "date": "2024-03-01", "status": "cleared"}
    before = Transfer.objects.count()
    response = owner_admin.post(reverse("admin:ledger_transfer_add"), {**form, "amount": value})
    assert response.status_code == 200 and "plain decimal" in response.content.decode()
    assert Transfer.objects.count() == before


def test_an_autocomplete_field_given_no_id_is_a_field_error(world, owner_admin):
    request = RequestFactory().get("/admin/")
    request.user = world.person("owner")
    checked, failures = [], []
    for model_admin, obj in seeded_rows(world):
        url = change_url(obj)
        values = form_values(owner_admin.get(url).content.decode())
        for name in model_admin.get_autocomplete_fields(request):
            for value in ("abc", "1.5", "-", "9" * 30):
                response = owner_admin.post(url, {**values, name: value})
                if response.status_code != 200 or "errorlist" not in response.content.decode():
                    failures.append(f"{url} {name}={value}: {response.status_code}")
            checked.append(f"{obj._meta.model_name}.{name}")
    assert {"transaction.category", "rule.set_category"} <= set(checked)
    assert failures == []


def test_a_date_hierarchy_year_outside_the_books_is_the_admins_incorrect_lookup_redirect(world, owner_admin):
    lists = [
        (model, model_admin.date_hierarchy)
        for model, model_admin in admin.site._registry.items()
        if model_admin.date_hierarchy
    ]
    assert len(lists) >= 5
    failures = []
    for model, field in lists:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for query in (f"{field}__year=9999", f"{field}__year=9999&{field}__month=12", f"{field}__year=1"):
            response = owner_admin.get(f"{url}?{query}")
            if response.status_code != 302 or not response["Location"].endswith("?e=1"):
                failures.append(f"{url}?{query}: {response.status_code}")
        in_range = owner_admin.get(f"{url}?{field}__year=2024")
        assert in_range.status_code == 200, f"{url}: {in_range.status_code}"
    assert failures == []
