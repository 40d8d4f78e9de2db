"""check_ledger: OK on sound books; for each invariant, a row corrupted behind the database's back is named.

Corruption runs with `session_replication_role = replica`, which switches off triggers and foreign-key checks
for the session; the test transaction is rolled back afterwards, so the corrupt rows never commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from financetracker.core.registries import consistency_checks
from ledger.models import Category, Household, Transaction
from ledger.services import accounts_categories_tags as account_services
from ledger.services.transactions import SplitLine, account_reconcile, transaction_create, transfer_create
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 15)


@contextmanager
def behind_the_databases_back() -> Iterator[Any]:
    with connection.cursor() as cursor:
        # Settle the checks the fixtures' writes queued for commit first, or they would judge the corruption.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("SET session_replication_role = origin")


def run_check_ledger(*args: str) -> str:
    out = StringIO()
    call_command("check_ledger", *args, stdout=out, stderr=out)
    return out.getvalue()


def breaches(*args: str) -> str:
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("check_ledger", *args, stdout=out, stderr=out)
    assert "breach" in str(error.value)
    return out.getvalue()


@pytest.fixture
def home() -> Household:
    return HouseholdFactory()


@pytest.fixture
def ledger(home: Household) -> dict[str, Any]:
    checking = account_services.account_create(household=home, name="Checking", currency="EUR", opening_date=DAY)
    savings = account_services.account_create(household=home, name="Savings", currency="EUR", opening_date=DAY)
    food = account_services.category_create(household=home, name="Food")
    groceries = account_services.category_create(household=home, name="Groceries", parent=food)
    split = transaction_create(
        account=checking, date=DAY, amount="-30.00", splits=[SplitLine(category=groceries, amount=Decimal("-30.00"))]
    )
    plain = transaction_create(account=checking, date=DAY, amount="-5.00", category=food)
    transfer = transfer_create(from_account=checking, to_account=savings, date=DAY, amount="50.00")
    account_reconcile(account=savings, statement_date=DAY, statement_balance="50.00")
    return {
        "checking": checking,
        "savings": savings,
        "food": food,
        "groceries": groceries,
        "split": split,
        "plain": plain,
        "transfer": transfer,
    }


def test_sound_books_pass_every_check(ledger: dict[str, Any]) -> None:
    assert run_check_ledger().strip() == f"ledger OK: {len(consistency_checks)} checks passed"


def test_it_checks_one_household(ledger: dict[str, Any], home: Household) -> None:
    assert "ledger OK" in run_check_ledger("--household", str(home.pk))
    with pytest.raises(CommandError, match="No household"):
        run_check_ledger("--household", "999999999")


def test_it_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_ledger", "--help")
    assert exit_info.value.code == 0
    assert "--household" in capsys.readouterr().out


def ids_of(ledger: dict[str, Any]) -> dict[str, int]:
    return {name: row.pk for name, row in ledger.items()}


@pytest.mark.parametrize(
    ("corruption", "named"),
    [
        pytest.param(
            "UPDATE ledger_split SET amount = -29.99 WHERE transaction_id = {split}",
            ["transaction {split}: splits sum to -29.99"],
            id="a_transaction_whose_splits_do_not_sum",
        ),
        pytest.param(
            "UPDATE ledger_transaction SET transfer_id = NULL WHERE transfer_id = {transfer}",
            ["transfer {transfer} is an orphan"],
            id="an_orphan_transfer",
        ),
        pytest.param(
            "UPDATE ledger_category SET kind = 'income' WHERE id = {groceries}",
            ["category {groceries} is income but its parent {food} is expense"],
            id="a_child_of_another_kind",
        ),
        pytest.param(
            "UPDATE ledger_transaction SET amount = -6.00 WHERE id = {plain}",
            [
                "account {checking} month 2024-03: transactions sum to -86.0000 in 3 rows but the monthly total says"
                " -85.0000"
            ],
            id="an_account_month_whose_total_drifted",
        ),
        pytest.param(
            "UPDATE ledger_transaction SET date = '2024-05-01' WHERE id = {plain}",
            ["account {checking} month 2024-03", "account {checking} month 2024-05"],
            id="a_month_total_left_behind_by_a_moved_row",
        ),
        pytest.param(
            "UPDATE ledger_split SET amount = -1.00 WHERE transaction_id = {split};"
            " UPDATE ledger_category SET kind = 'income' WHERE id = {groceries}",
            ["transaction {split}", "category {groceries}"],
            id="every_breach_not_just_the_first",
        ),
    ],
)
def test_it_names_the_breach(ledger: dict[str, Any], corruption: str, named: list[str]) -> None:
    ids = ids_of(ledger)
    with behind_the_databases_back() as cursor:
        cursor.execute(corruption.format(**ids))
    output = breaches()
    for breach in named:
        assert breach.format(**ids) in output


def test_it_names_a_transfer_with_one_side(ledger: dict[str, Any]) -> None:
    side = ledger["transfer"].transactions.get(amount__lt=0)
    with behind_the_databases_back() as cursor:
        cursor.execute("DELETE FROM ledger_transaction WHERE id = %s", [side.pk])
    assert f"transfer {ledger['transfer'].pk} must be one outgoing" in breaches()


def test_it_names_an_unbalanced_transfer(ledger: dict[str, Any]) -> None:
    side = ledger["transfer"].transactions.get(amount__lt=0)
    with behind_the_databases_back() as cursor:
        cursor.execute("UPDATE ledger_transaction SET amount = -49.00 WHERE id = %s", [side.pk])
    assert f"transfer {ledger['transfer'].pk} must be one outgoing" in breaches()


def test_it_names_a_transfer_within_one_account(ledger: dict[str, Any]) -> None:
    side = ledger["transfer"].transactions.get(amount__gt=0)
    with behind_the_databases_back() as cursor:
        cursor.execute("UPDATE ledger_transaction SET account_id = %s WHERE id = %s", [ledger["checking"].pk, side.pk])
    assert f"transfer {ledger['transfer'].pk} must be one outgoing" in breaches()


@pytest.mark.parametrize(
    ("table", "row", "column"),
    [
        ("ledger_transaction", "plain", "account_id"),
        ("ledger_split", "split", "transaction_id"),
        ("ledger_category", "groceries", "parent_id"),
        ("ledger_accountmonthtotal", "checking", "account_id"),
        ("ledger_reconciliation", "savings", "account_id"),
    ],
)
def test_it_names_rows_whose_household_differs_from_their_parents(
    ledger: dict[str, Any], table: str, row: str, column: str
) -> None:
    elsewhere = HouseholdFactory()
    target = ledger[row]
    where = {
        "ledger_transaction": ("id", target.pk),
        "ledger_split": ("transaction_id", target.pk),
        "ledger_category": ("id", target.pk),
        "ledger_accountmonthtotal": ("account_id", target.pk),
        "ledger_reconciliation": ("account_id", target.pk),
    }[table]
    with behind_the_databases_back() as cursor:
        cursor.execute(
            f"UPDATE {table} SET household_id = %s WHERE {where[0]} = %s RETURNING id",  # noqa: S608
            [elsewhere.pk, where[1]],
        )
        corrupted = cursor.fetchone()[0]
    output = breaches()
    assert f"{table.removeprefix('ledger_')} {corrupted} is in household {elsewhere.pk} but its {column}" in output
    assert "ledger OK" not in run_check_ledger_or_fail("--household", str(ledger["checking"].household_id))


def run_check_ledger_or_fail(*args: str) -> str:
    out = StringIO()
    try:
        call_command("check_ledger", *args, stdout=out, stderr=out)
    except CommandError as error:
        return out.getvalue() + str(error)
    return out.getvalue()


def test_it_names_a_tag_link_across_households(ledger: dict[str, Any], home: Household) -> None:
    tag = account_services.tag_create(household=HouseholdFactory(), name="foreign")
    with behind_the_databases_back() as cursor:
        cursor.execute(
            "INSERT INTO ledger_transactiontag (household_id, transaction_id, tag_id) VALUES (%s, %s, %s) RETURNING id",
            [home.pk, ledger["plain"].pk, tag.pk],
        )
        link = cursor.fetchone()[0]
    assert f"transactiontag {link} is in household {home.pk} but its tag_id {tag.pk}" in breaches()


def test_it_names_a_third_level_category(ledger: dict[str, Any], home: Household) -> None:
    organic = Category(household=home, name="Organic", kind="expense")
    with behind_the_databases_back():
        organic.parent = ledger["groceries"]
        organic.save()
    assert f"category {organic.pk} is a third level" in breaches()


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "UPDATE ledger_transaction SET amount = -5.001 WHERE id = {plain}",
            "transaction {plain}: -5.0010 has more than 2",
        ),
        (
            "UPDATE ledger_account SET opening_balance = 0.5, currency = 'JPY' WHERE id = {savings}",
            "account opening balance {savings}",
        ),
        # The daily category totals are kept per account currency: they move with it (all are checking's).
        (
            "UPDATE ledger_account SET currency = 'KWD' WHERE id = {checking};"
            " UPDATE ledger_categorydaytotal SET currency = 'KWD'"
            " WHERE household_id = (SELECT household_id FROM ledger_account WHERE id = {checking})",
            "ledger OK",
        ),
    ],
)
def test_it_names_amounts_with_more_places_than_their_currency(ledger: dict[str, Any], sql: str, expected: str) -> None:
    ids = ids_of(ledger)
    with behind_the_databases_back() as cursor:
        cursor.execute(sql.format(**ids))
    assert expected.format(**ids) in run_check_ledger_or_fail()


def test_it_names_a_split_with_too_many_places(ledger: dict[str, Any]) -> None:
    with behind_the_databases_back() as cursor:
        cursor.execute("UPDATE ledger_account SET currency = 'JPY' WHERE id = %s", [ledger["checking"].pk])
        cursor.execute("UPDATE ledger_transaction SET amount = -30.5 WHERE id = %s", [ledger["split"].pk])
        cursor.execute(
            "UPDATE ledger_split SET amount = -30.5 WHERE transaction_id = %s RETURNING id", [ledger["split"].pk]
        )
        split_id = cursor.fetchone()[0]
    assert f"split {split_id}: -30.5000 has more than 0 decimal places for JPY" in breaches()


def test_it_names_a_reconciled_row_after_the_last_statement(ledger: dict[str, Any]) -> None:
    with behind_the_databases_back() as cursor:
        cursor.execute("UPDATE ledger_transaction SET status = 'reconciled' WHERE id = %s", [ledger["plain"].pk])
        cursor.execute(
            "UPDATE ledger_transaction SET date = '2024-04-01' WHERE account_id = %s RETURNING id",
            [ledger["savings"].pk],
        )
        moved = cursor.fetchone()[0]
    output = breaches()
    assert (
        f"transaction {ledger['plain'].pk} is reconciled on 2024-03-15 but account {ledger['checking'].pk} was never reconciled"
        in output
    )
    assert (
        f"transaction {moved} is reconciled on 2024-04-01 but account {ledger['savings'].pk} was last reconciled to 2024-03-15"
        in output
    )


def test_a_household_filter_ignores_other_households_breaches(ledger: dict[str, Any]) -> None:
    other = HouseholdFactory()
    account = account_services.account_create(household=other, name="Other", currency="EUR", opening_date=DAY)
    tx = transaction_create(account=account, date=DAY, amount="-1.00")
    with behind_the_databases_back() as cursor:
        cursor.execute("UPDATE ledger_transaction SET amount = -2.00 WHERE id = %s", [tx.pk])
    assert "ledger OK" in run_check_ledger("--household", str(ledger["checking"].household_id))
    assert f"account {account.pk} month 2024-03" in breaches("--household", str(other.pk))


def test_each_check_is_one_query_whatever_the_size(ledger: dict[str, Any], django_assert_num_queries: Any) -> None:
    Transaction.objects.bulk_create(
        Transaction(
            household_id=ledger["checking"].household_id, account=ledger["checking"], date=DAY, amount=Decimal(-1)
        )
        for _ in range(200)
    )
    for check in consistency_checks:
        with django_assert_num_queries(1):
            assert check.run(None) == []
