"""The daily category totals (migration 0008) follow every write to transactions and split lines.

Each test writes through the services, the ORM's bulk paths or raw SQL, then compares the kept totals with
figures written out by hand and with `check_ledger`'s recount from the rows (no drift). The end-of-test
fixture fires the deferred keys and checks as COMMIT would; the tests that lean on deferral call it inside
their own `transaction.atomic()`.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from ledger.consistency import category_day_totals_match_entries
from ledger.models import Account, Category, CategoryDayTotal, Household, Split, Transaction
from ledger.services import accounts_categories_tags as account_services
from ledger.services.households import household_delete
from ledger.services.transactions import (
    SplitLine,
    transaction_create,
    transaction_delete,
    transaction_update,
    transactions_mark_cleared,
    transactions_set_category,
    transfer_create,
)
from tests.conftest import check_deferred_constraints
from uploads.household_io import household_export, household_import

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2024, 3, 15)
APRIL = datetime.date(2024, 4, 2)

Key = tuple[int | None, datetime.date, str]


def kept(household: Household) -> dict[Key, tuple[D, D, int]]:
    """{(category, day, currency): (total, inflow, entries)} for the rows that hold anything."""
    return {
        (row.category_id, row.date, row.currency): (row.total, row.inflow, row.entry_count)
        for row in CategoryDayTotal.objects.filter(household=household)
        if row.entry_count or row.total or row.inflow
    }


def assert_no_drift(household: Household) -> None:
    assert category_day_totals_match_entries(household.pk) == []
    assert category_day_totals_match_entries() == []


def ten_and_twenty(first: Category, second: Category) -> list[SplitLine]:
    """The split lines of a -30.00 purchase: -10.00 under `first`, -20.00 under `second`."""
    return [SplitLine(category=first, amount=D("-10.00")), SplitLine(category=second, amount=D("-20.00"))]


def split_purchase(checking: Account, first: Category, second: Category, day: datetime.date = MARCH) -> Transaction:
    """A -30.00 purchase on `day` split -10.00 under `first` and -20.00 under `second`."""
    return transaction_create(account=checking, date=day, amount="-30.00", splits=ten_and_twenty(first, second))


@pytest.fixture
def checking(household: Household) -> Account:
    return account_services.account_create(household=household, name="Checking", currency="EUR", opening_date=MARCH)


def test_a_transaction_counts_under_its_category_on_its_day(
    household: Household, checking: Account, food: Category
) -> None:
    transaction_create(account=checking, date=MARCH, amount="-5.00", category=food)
    transaction_create(account=checking, date=MARCH, amount="2.50", category=food)
    transaction_create(account=checking, date=MARCH, amount="-1.25")
    assert kept(household) == {
        (food.pk, MARCH, "EUR"): (D("-2.5"), D("2.5"), 2),
        (None, MARCH, "EUR"): (D("-1.25"), D(0), 1),
    }
    assert_no_drift(household)


def test_the_first_split_line_replaces_the_whole_amount_and_the_last_one_brings_it_back(
    household: Household, checking: Account, food: Category, fun: Category
) -> None:
    tx = transaction_create(account=checking, date=MARCH, amount="-30.00", category=food)
    transaction_update(transaction_obj=tx, splits=ten_and_twenty(food, fun))
    assert kept(household) == {
        (food.pk, MARCH, "EUR"): (D("-10"), D(0), 1),
        (fun.pk, MARCH, "EUR"): (D("-20"), D(0), 1),
    }
    # Splitting cleared the transaction's own category: without its lines it is uncategorised.
    transaction_update(transaction_obj=tx, splits=[])
    assert kept(household) == {(None, MARCH, "EUR"): (D("-30"), D(0), 1)}
    assert_no_drift(household)


def test_moving_a_split_line_between_categories(
    household: Household, checking: Account, food: Category, fun: Category
) -> None:
    tx = split_purchase(checking, food, food)
    line = tx.splits.get(amount=D("-20.00"))
    Split.objects.filter(pk=line.pk).update(category=fun)
    assert kept(household) == {
        (food.pk, MARCH, "EUR"): (D("-10"), D(0), 1),
        (fun.pk, MARCH, "EUR"): (D("-20"), D(0), 1),
    }
    # A statement that changes nothing that counts writes nothing.
    Split.objects.filter(pk=line.pk).update(memo="cinema")
    assert kept(household)[(fun.pk, MARCH, "EUR")] == (D("-20"), D(0), 1)
    assert_no_drift(household)


def plain_and_split(checking: Account, food: Category, fun: Category) -> tuple[Transaction, Transaction]:
    """A -5.00 food purchase and a -30.00 one split -10.00 food / -20.00 fun, both in March."""
    plain = transaction_create(account=checking, date=MARCH, amount="-5.00", category=food)
    return plain, split_purchase(checking, food, fun)


def test_changing_a_date_across_months_moves_the_entries(
    household: Household, checking: Account, food: Category, fun: Category
) -> None:
    plain, split = plain_and_split(checking, food, fun)
    transaction_update(transaction_obj=plain, date=APRIL)
    transaction_update(transaction_obj=split, date=APRIL)
    assert kept(household) == {
        (food.pk, APRIL, "EUR"): (D("-15"), D(0), 2),
        (fun.pk, APRIL, "EUR"): (D("-20"), D(0), 1),
    }
    assert_no_drift(household)


def test_amount_category_and_status_changes(
    household: Household, checking: Account, food: Category, fun: Category
) -> None:
    tx = transaction_create(account=checking, date=MARCH, amount="-5.00", category=food, status="pending")
    transaction_update(transaction_obj=tx, amount=D("7.00"), category=fun)
    transactions_mark_cleared(queryset=Transaction.objects.filter(pk=tx.pk))
    transactions_set_category(queryset=Transaction.objects.filter(household=household), category=food)
    assert kept(household) == {(food.pk, MARCH, "EUR"): (D("7"), D("7"), 1)}
    assert_no_drift(household)


def test_deleting_takes_the_entries_away(
    household: Household, checking: Account, food: Category, fun: Category
) -> None:
    plain, split = plain_and_split(checking, food, fun)
    transaction_delete(transaction_obj=split)
    assert kept(household) == {(food.pk, MARCH, "EUR"): (D("-5"), D(0), 1)}
    transaction_delete(transaction_obj=plain)
    assert kept(household) == {}
    assert_no_drift(household)


def test_transfers_never_count(household: Household, checking: Account) -> None:
    savings = account_services.account_create(household=household, name="Savings", currency="EUR", opening_date=MARCH)
    transfer_create(from_account=checking, to_account=savings, date=MARCH, amount="50.00")
    assert kept(household) == {}
    assert_no_drift(household)


def test_totals_are_kept_per_account_currency(household: Household, checking: Account, food: Category) -> None:
    dollars = account_services.account_create(household=household, name="Dollars", currency="USD", opening_date=MARCH)
    transaction_create(account=checking, date=MARCH, amount="-5.00", category=food)
    transaction_create(account=dollars, date=MARCH, amount="-7.00", category=food)
    assert kept(household) == {
        (food.pk, MARCH, "EUR"): (D("-5"), D(0), 1),
        (food.pk, MARCH, "USD"): (D("-7"), D(0), 1),
    }
    assert_no_drift(household)


def test_bulk_writes_pay_one_upsert_per_statement_and_keep_the_totals(
    household: Household, checking: Account, food: Category, fun: Category
) -> None:
    rows = [
        Transaction(
            household=household,
            account=checking,
            date=MARCH + datetime.timedelta(days=n % 40),
            amount=D(n % 7 - 3),
            category=(food, fun, None)[n % 3],
            payee=f"row {n}",
        )
        for n in range(600)
    ]
    Transaction.objects.bulk_create(rows, batch_size=250)
    split_rows = [tx for tx in rows if tx.pk % 10 == 0]
    Split.objects.bulk_create(
        [Split(household=household, transaction=tx, category=food, amount=tx.amount) for tx in split_rows]
    )
    Transaction.objects.filter(pk__in=[tx.pk for tx in split_rows]).update(category=None)
    Transaction.objects.filter(household=household, date__lt=APRIL).update(date=APRIL)
    assert sum(count for _t, _i, count in kept(household).values()) == 600
    assert_no_drift(household)
    Transaction.objects.filter(household=household, pk__in=[tx.pk for tx in rows[:100]]).delete()
    assert_no_drift(household)


def test_a_split_written_before_its_transaction_counts_when_the_transaction_arrives(
    household: Household, checking: Account, food: Category, fun: Category
) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) + 1000 FROM ledger_transaction")
            (tx_id,) = cursor.fetchone()
            # The keys to the transaction are deferred: checked at commit, here at check_deferred_constraints.
            cursor.execute(
                "INSERT INTO ledger_split (household_id, transaction_id, category_id, amount, memo) "
                "VALUES (%s, %s, %s, -4, ''), (%s, %s, %s, -6, '')",
                [household.pk, tx_id, food.pk, household.pk, tx_id, fun.pk],
            )
            assert kept(household) == {}
            cursor.execute(
                "INSERT INTO ledger_transaction (id, household_id, account_id, date, amount, payee, description,"
                " category_id, status, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, -10, '', '', NULL, 'cleared', now(), now())",
                [tx_id, household.pk, checking.pk, MARCH],
            )
        check_deferred_constraints()
        assert kept(household) == {
            (food.pk, MARCH, "EUR"): (D("-4"), D(0), 1),
            (fun.pk, MARCH, "EUR"): (D("-6"), D(0), 1),
        }
        assert_no_drift(household)


def test_an_amount_and_its_split_lines_changed_in_separate_statements_settle_at_commit(
    household: Household, checking: Account, food: Category, fun: Category
) -> None:
    tx = split_purchase(checking, food, fun)
    with transaction.atomic():
        # Between these statements the splits do not sum to the amount: the check waits for commit.
        Transaction.objects.filter(pk=tx.pk).update(amount=D("-40.00"))
        Split.objects.filter(transaction=tx, category=fun).update(amount=D("-30.00"))
        check_deferred_constraints()
    assert kept(household) == {
        (food.pk, MARCH, "EUR"): (D("-10"), D(0), 1),
        (fun.pk, MARCH, "EUR"): (D("-30"), D(0), 1),
    }
    assert_no_drift(household)


def test_a_restored_household_gets_the_same_totals(
    household: Household, checking: Account, food: Category, fun: Category
) -> None:
    transaction_create(account=checking, date=MARCH, amount="-5.00", category=food)
    split_purchase(checking, food, fun, APRIL)
    dump = io.StringIO()
    household_export(household=household, output=dump)
    dump.seek(0)
    with transaction.atomic():
        restored, id_maps = household_import(source=dump)
        check_deferred_constraints()
    categories = id_maps["ledger.Category"]
    assert kept(restored) == {
        (None if category is None else categories[category], day, currency): figures
        for (category, day, currency), figures in kept(household).items()
    }
    assert_no_drift(restored)


def test_deleting_a_household_takes_its_totals(household: Household, checking: Account, food: Category) -> None:
    transaction_create(account=checking, date=MARCH, amount="-5.00", category=food)
    household_pk = household.pk
    household_delete(household=household)
    assert not CategoryDayTotal.objects.filter(household_id=household_pk).exists()


def test_check_ledger_names_a_total_that_drifted(household: Household, checking: Account, food: Category) -> None:
    transaction_create(account=checking, date=MARCH, amount="-5.00", category=food)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_categorydaytotal SET total = total - 1 WHERE category_id = %s", [food.pk])
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_ledger", stdout=out, stderr=out)
    assert (
        f"household {household.pk} category {food.pk} {MARCH} EUR: entries sum to -5.0000 (0 in) in 1 but the "
        "category total says -6.0000 (0.0000 in) in 1"
    ) in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_categorydaytotal SET total = total + 1 WHERE category_id = %s", [food.pk])
