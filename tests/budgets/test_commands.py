"""Commands: import_rates (ECB and simple CSV), copy_budgets, budget_report."""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from budgets.models import Budget, ExchangeRate
from budgets.selectors import exchange_rate_on
from budgets.services.budget_lines import budget_fill_from_average
from ledger.services.transactions import transaction_create
from tests.budgets.factories import BudgetFactory
from tests.factories import Books

ECB_SAMPLE = """Date,USD,JPY,BGN,CYP,GBP,
2024-03-01,1.0830,162.38,1.9558,N/A,0.85553,
2024-02-29,1.0813,162.45,1.9558,N/A,0.85510,
"""
SIMPLE_SAMPLE = """date,base,quote,rate
2024-03-01,USD,CHF,0.8812
2024-03-04,GBP,EUR,1.1690
"""


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.django_db
def test_import_rates_reads_the_ecb_layout_skipping_na_and_the_trailing_column(tmp_path: Path) -> None:
    output = run("import_rates", str(write(tmp_path, ECB_SAMPLE)))

    assert "Imported 8 rate(s)" in output
    assert ExchangeRate.objects.count() == 8
    rate = ExchangeRate.objects.get(date=datetime.date(2024, 3, 1), quote="USD")
    assert (rate.base, rate.rate) == ("EUR", Decimal("1.0830000000"))
    assert not ExchangeRate.objects.filter(quote="CYP").exists()


@pytest.mark.django_db
def test_import_rates_is_idempotent_and_updates_changed_rates(tmp_path: Path) -> None:
    path = write(tmp_path, ECB_SAMPLE)
    run("import_rates", str(path))
    run("import_rates", str(path))
    assert ExchangeRate.objects.count() == 8

    run("import_rates", str(write(tmp_path, ECB_SAMPLE.replace("1.0830", "1.0900"))))

    assert ExchangeRate.objects.count() == 8
    assert ExchangeRate.objects.get(date=datetime.date(2024, 3, 1), quote="USD").rate == Decimal("1.09")


@pytest.mark.django_db
def test_import_rates_reads_the_simple_layout(tmp_path: Path) -> None:
    run("import_rates", str(write(tmp_path, SIMPLE_SAMPLE)))

    assert ExchangeRate.objects.count() == 2
    # The inverse of a stored pair, and the latest rate on or before the day.
    assert exchange_rate_on("EUR", "GBP", datetime.date(2024, 3, 9)) == pytest.approx(Decimal(1) / Decimal("1.169"))
    assert exchange_rate_on("USD", "CHF", datetime.date(2024, 2, 29)) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("when,what\n2024-01-01,1\n", "unknown header"),
        ("date,base,quote,rate\n2024-13-01,EUR,USD,1.1\n", "line 2"),
        ("date,base,quote,rate\n2024-01-01,EUR,USD,-1\n", "positive"),
        ("Date,USD\n2024-01-01,abc\n", "not a rate"),
        ("", "empty"),
    ],
)
def test_import_rates_fails_clearly_on_bad_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("import_rates", str(write(tmp_path, text)))
    assert not ExchangeRate.objects.exists()


@pytest.mark.django_db
def test_import_rates_fails_on_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_rates", str(tmp_path / "nope.csv"))


def test_copy_budgets_copies_a_month_keeping_existing_lines(books: Books) -> None:
    march, april = datetime.date(2024, 3, 1), datetime.date(2024, 4, 1)
    BudgetFactory(household=books.household, category=books.rent, month=march, amount=Decimal("900"), rollover=True)
    BudgetFactory(household=books.household, category=books.groceries, month=march, amount=Decimal("300"))
    BudgetFactory(household=books.household, category=books.groceries, month=april, amount=Decimal("250"))

    output = run("copy_budgets", "--household", str(books.household.pk), "--from", "2024-03", "--to", "2024-04")

    assert "1 created, 0 updated, 1 kept" in output
    lines = {line.category_id: line for line in Budget.objects.filter(month=april)}
    assert (lines[books.rent.pk].amount, lines[books.rent.pk].rollover) == (Decimal("900"), True)
    assert lines[books.groceries.pk].amount == Decimal("250")

    run("copy_budgets", "--household", str(books.household.pk), "--from", "2024-03", "--to", "2024-04", "--overwrite")
    assert Budget.objects.get(month=april, category=books.groceries).amount == Decimal("300")


def test_copy_budgets_fails_clearly(books: Books) -> None:
    with pytest.raises(CommandError, match="No household"):
        run("copy_budgets", "--household", "999999", "--from", "2024-03", "--to", "2024-04")
    with pytest.raises(CommandError, match="--to"):
        run("copy_budgets", "--household", str(books.household.pk), "--from", "2024-03", "--to", "April")


def test_budget_report_prints_a_table_and_json(books: Books) -> None:
    BudgetFactory(
        household=books.household, category=books.rent, month=datetime.date(2024, 3, 1), amount=Decimal("900")
    )
    transaction_create(account=books.checking, date=datetime.date(2024, 3, 2), amount="-950.00", category=books.rent)

    table = run("budget_report", "--household", str(books.household.pk), "--month", "2024-03")
    data = json.loads(run("budget_report", "--household", str(books.household.pk), "--month", "2024-03", "--json"))

    assert "Rent" in table
    assert "OVER" in table
    assert data["totals"]["spent"] == "950.00"
    assert data["over_budget"] == [books.rent.pk]


def test_fill_from_average_budgets_each_category_at_its_average(books: Books) -> None:
    for day, amount in (("2024-01-05", "-90.00"), ("2024-02-05", "-120.00"), ("2024-03-05", "-30.01")):
        transaction_create(
            account=books.checking, date=datetime.date.fromisoformat(day), amount=amount, category=books.groceries
        )
    transaction_create(account=books.checking, date=datetime.date(2024, 2, 1), amount="-900.00", category=books.rent)

    result = budget_fill_from_average(household=books.household, month=datetime.date(2024, 4, 1), months=3)

    lines = {line.category_id: line.amount for line in Budget.objects.filter(month=datetime.date(2024, 4, 1))}
    assert lines == {books.groceries.pk: Decimal("80.00"), books.rent.pk: Decimal("300.00")}
    assert result.created == 2
