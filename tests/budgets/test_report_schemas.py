"""Every report's real body against its response schema in the generated OpenAPI document.

The routes come from the URLconf (every view built on `ReportView`), their parameters from the walls'
expectations, and the schema from drf-spectacular: so a field added to an `as_dict()` without its schema, or
one the schema promises that the body lacks, fails here, and so does a new report without a schema."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator

from budgets.api.views import ReportView
from ledger.services.transactions import SplitLine, transaction_create
from tests.budgets.factories import BudgetFactory, ScheduledTransactionFactory
from tests.factories import AccountFactory, Books
from tests.walls.expectations import API

SCHEMA_PREFIX = "#/components/schemas/"


def url_names_of(patterns: list[Any]) -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from url_names_of(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name, getattr(pattern.callback, "view_class", None)


REPORT_ROUTES = sorted(
    name for name, view in url_names_of(get_resolver().url_patterns) if view and issubclass(view, ReportView)
)


def strict(node: Any) -> Any:
    """The OpenAPI 3.0 schema as strict JSON Schema: `nullable` as a null type, and no key beyond those listed."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: strict(value) for key, value in node.items()}
    if node.pop("nullable", False) and "type" in node:
        node["type"] = [node["type"], "null"]
    if node.get("type") == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)
    return node


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def response_schema(document: dict[str, Any], path: str) -> dict[str, Any]:
    return document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def refs_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"].removeprefix(SCHEMA_PREFIX)
        for value in node.values():
            yield from refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs_in(item)


def reachable(components: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    pending = list(refs_in(schema))
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(refs_in(components[name]))
    return found


def exercised(components: dict[str, Any], schema: dict[str, Any], value: Any, seen: set[str]) -> None:
    """The components that some part of `value` was actually checked against (an empty list checks nothing)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(SCHEMA_PREFIX)
        seen.add(name)
        exercised(components, components[name], value, seen)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in schema.get("properties", {}):
                exercised(components, schema["properties"][key], item, seen)
    elif isinstance(value, list):
        for item in value:
            exercised(components, schema.get("items", {}), item, seen)


@pytest.fixture
def busy_books(books: Books) -> Books:
    """Something in every part of every report: income, split spending in a subcategory, a budget line, a
    schedule, and a dollar account with no rate (so missing rates and null conversions show)."""
    day = datetime.date
    transaction_create(account=books.checking, date=day(2024, 2, 25), amount="2500.00", category=books.salary)
    transaction_create(
        account=books.checking,
        date=day(2024, 2, 10),
        amount="-80.00",
        splits=[
            SplitLine(category=books.groceries, amount=Decimal("-60.00")),
            SplitLine(category=books.restaurants, amount=Decimal("-20.00")),
        ],
    )
    dollars = AccountFactory(household=books.household, name="Dollars", currency="USD")
    transaction_create(account=dollars, date=day(2024, 2, 12), amount="-15.00", category=books.groceries)
    BudgetFactory(household=books.household, category=books.groceries, month=day(2024, 2, 1), amount="100.00")
    ScheduledTransactionFactory(account=books.checking, amount=Decimal("-30.00"))
    return books


def test_every_report_route_is_found() -> None:
    assert REPORT_ROUTES == [
        "report-budget",
        "report-cashflow",
        "report-forecast",
        "report-net-worth",
        "report-spending",
    ]


@pytest.mark.parametrize("name", REPORT_ROUTES)
def test_the_body_is_exactly_what_the_schema_describes(
    name: str, document: dict[str, Any], busy_books: Books, viewer, client_for
) -> None:
    path = reverse(name)
    schema = response_schema(document, path)
    assert schema.get("$ref"), f"{path} has no response schema of its own"
    components = document["components"]["schemas"]
    query = {**API[name].query, "household": str(busy_books.household.pk)}

    response = client_for(viewer).get(path, query)

    assert response.status_code == 200, response.content
    body = response.json()
    jsonschema.Draft202012Validator(
        {**strict(schema), "components": {"schemas": strict(copy.deepcopy(components))}}
    ).validate(body)
    seen: set[str] = set()
    exercised(components, schema, body, seen)
    assert reachable(components, schema) <= seen, "the data leaves part of the schema unchecked"
