"""The rules engine: ordered, first match wins per field, tags added, reconciled rows untouched."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from ledger.models import TransactionTag
from ledger.rules import rule_create, rules_apply
from tests.factories import AccountFactory, CategoryFactory, TagFactory, TransactionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(household):
    return AccountFactory(household=household)


def tx(account, **fields):
    return TransactionFactory(account=account, household=account.household, **fields)


def test_it_applies_rules_in_order_first_match_wins_and_reports_changes(household, account):
    groceries = CategoryFactory(household=household, name="Groceries")
    fallback = CategoryFactory(household=household, name="Shopping")
    weekly = TagFactory(household=household, name="weekly")
    first = rule_create(
        household=household,
        name="Market",
        position=1,
        set_category=groceries,
        add_tags=[weekly],
        conditions=[{"field": "payee", "operator": "regex", "value": r"^super\s*market"}],
    )
    rule_create(
        household=household,
        name="Any shop",
        position=2,
        set_category=fallback,
        set_payee="Shop",
        conditions=[{"field": "amount", "operator": "lte", "value": "-1.00"}],
    )
    market = tx(account, payee="SuperMarket 12", amount=Decimal("-40.00"))
    other = tx(account, payee="Kiosk", amount=Decimal("-2.00"))
    income = tx(account, payee="Employer", amount=Decimal("100.00"))
    dry = rules_apply(household=household, dry_run=True)
    market.refresh_from_db()
    assert market.category_id is None
    result = rules_apply(household=household)
    assert result.changed == dry.changed == 2
    market.refresh_from_db()
    other.refresh_from_db()
    income.refresh_from_db()
    assert (market.category_id, market.payee) == (groceries.pk, "Shop")
    assert (other.category_id, other.payee) == (fallback.pk, "Shop")
    assert income.category_id is None
    assert TransactionTag.objects.filter(transaction=market, tag=weekly).exists()
    change = next(c for c in result.changes if c.transaction_id == market.pk and c.field == "category")
    assert (change.rule_id, change.before, change.after) == (first.pk, None, groceries.pk)


def test_match_any_and_account_conditions(household, account):
    other_account = AccountFactory(household=household)
    bills = CategoryFactory(household=household)
    rule_create(
        household=household,
        name="Bills",
        match="any",
        set_category=bills,
        conditions=[
            {"field": "description", "operator": "contains", "value": "INVOICE"},
            {"field": "account", "operator": "is", "value": other_account.pk},
        ],
    )
    by_text = tx(account, description="invoice 42")
    by_account = tx(other_account)
    neither = tx(account, description="x")
    rules_apply(household=household)
    for row in (by_text, by_account, neither):
        row.refresh_from_db()
    assert [by_text.category_id, by_account.category_id, neither.category_id] == [bills.pk, bills.pk, None]


def test_reconciled_transactions_are_skipped(household, account):
    category = CategoryFactory(household=household)
    rule_create(
        household=household,
        name="All",
        set_category=category,
        conditions=[{"field": "amount", "operator": "between", "value": ["-100", "100"]}],
    )
    locked = tx(account, status="reconciled")
    result = rules_apply(household=household)
    locked.refresh_from_db()
    assert locked.category_id is None and result.changed == 0


@pytest.mark.parametrize(
    "conditions",
    [
        [],
        # Python's re accepts these; RE2, the engine that runs rules, has no lookarounds or backreferences.
        [{"field": "payee", "operator": "regex", "value": "(?<=a)b"}],
        [{"field": "payee", "operator": "regex", "value": r"(a)\1"}],
        [{"field": "payee", "operator": "regex", "value": "([unclosed"}],
        [{"field": "payee", "operator": "regex", "value": "a" * 201}],
        [{"field": "amount", "operator": "between", "value": ["5", "1"]}],
        [{"field": "amount", "operator": "gte", "value": 1.5}],
        [{"field": "colour", "operator": "is", "value": "red"}],
    ],
)
def test_bad_conditions_are_refused(household, conditions):
    with pytest.raises(ValidationError):
        rule_create(household=household, name="Bad", conditions=conditions, set_payee="x")


def test_an_account_of_another_household_is_refused(household, outsider_household):
    theirs = AccountFactory(household=outsider_household)
    with pytest.raises(ValidationError):
        rule_create(
            household=household,
            name="X",
            set_payee="x",
            conditions=[{"field": "account", "operator": "is", "value": theirs.pk}],
        )


def test_the_rules_api_is_scoped_and_applies(owner, viewer, outsider, client_for, household, account):
    category = CategoryFactory(household=household)
    client = client_for(owner)
    created = client.post(
        "/api/v1/rules/",
        {
            "household": household.pk,
            "name": "Coffee",
            "set_category": category.pk,
            "conditions": [{"field": "payee", "operator": "contains", "value": "coffee"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    bad = client.post(
        "/api/v1/rules/",
        {
            "household": household.pk,
            "name": "Bad",
            "set_payee": "x",
            "conditions": [{"field": "payee", "operator": "regex", "value": "(?=x)"}],
        },
        format="json",
    )
    assert bad.status_code == 400
    row = tx(account, payee="Coffee Bar")
    dry = client.post("/api/v1/rules/apply/", {"household": household.pk, "dry_run": True}, format="json").json()
    assert dry["changed"] == 1 and dry["changes"][0]["transaction"] == row.pk
    applied = client.post("/api/v1/rules/apply/", {"household": household.pk, "transactions": [row.pk]}, format="json")
    assert applied.json()["changed"] == 1
    row.refresh_from_db()
    assert row.category_id == category.pk
    rule_id = created.json()["id"]
    assert client_for(outsider).get(f"/api/v1/rules/{rule_id}/").status_code == 404
    assert (
        client_for(outsider).post("/api/v1/rules/apply/", {"household": household.pk}, format="json").status_code == 400
    )
    assert client_for(viewer).get(f"/api/v1/rules/{rule_id}/").status_code == 200
    assert client_for(viewer).delete(f"/api/v1/rules/{rule_id}/").status_code == 403
    assert (
        client_for(viewer).post("/api/v1/rules/apply/", {"household": household.pk}, format="json").status_code == 403
    )


def test_the_apply_rules_command(household, account, capsys):
    import io

    category = CategoryFactory(household=household)
    rule_create(
        household=household,
        name="Tea",
        set_category=category,
        conditions=[{"field": "payee", "operator": "equals", "value": " tea house "}],
    )
    row = tx(account, payee="Tea House")
    out = io.StringIO()
    call_command("apply_rules", "--household", str(household.pk), "--dry-run", stdout=out)
    assert "would change 1 transaction(s)" in out.getvalue()
    row.refresh_from_db()
    assert row.category_id is None
    call_command("apply_rules", "--household", str(household.pk), stdout=io.StringIO())
    row.refresh_from_db()
    assert row.category_id == category.pk


def test_rule_changes_are_audited(household):
    from ledger.models import AuditEntry
    from ledger.rules import rule_create, rule_delete, rule_update
    from tests.factories import CategoryFactory

    food = CategoryFactory(household=household, name="Food")
    rule = rule_create(
        household=household,
        name="Bakery",
        set_category=food,
        conditions=[{"field": "payee", "operator": "contains", "value": "bakery"}],
    )
    rule_id = rule.pk
    rule_update(rule=rule, name="Bakeries")
    rule_delete(rule=rule)

    actions = list(
        AuditEntry.objects.filter(object_type="ledger.rule", object_id=rule_id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]
