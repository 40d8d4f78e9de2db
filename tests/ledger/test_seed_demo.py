"""`manage.py seed_demo`: a realistic, invariant-respecting demo household, created once."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command

from ledger.admin import HOUSEHOLD_MEMBERS_GROUP
from ledger.models import (
    Account,
    Category,
    Household,
    Membership,
    Reconciliation,
    Role,
    Split,
    Transaction,
    TransactionStatus,
    TransactionTag,
    Transfer,
    User,
)
from ledger.services.households import household_delete

TODAY = datetime.date(2025, 6, 15)


def seed(today: datetime.date = TODAY) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--today", today.isoformat(), stdout=out)
    return out.getvalue()


# transactional_db: the deferred split-sum and transfer-pair triggers run at commit, as in production.
@pytest.mark.usefixtures("transactional_db")
def test_it_seeds_two_years_of_books_once_and_the_ledger_checks_out() -> None:
    # How fast it seeds is bench/'s business; a timed assertion here only measures the machine's load.
    output = seed()
    assert "demo / demo-password" in output

    demo = User.objects.get(username="demo")
    assert demo.is_staff
    assert not demo.is_superuser
    assert demo.check_password("demo-password")
    assert demo.groups.filter(name=HOUSEHOLD_MEMBERS_GROUP).exists()
    household = Household.objects.get(name="Demo household")
    assert (household.base_currency, household.budget_month_start_day) == ("EUR", 1)
    assert Membership.objects.get(household=household, user=demo).role == Role.OWNER
    assert Membership.objects.get(household=household, user__username="demo-viewer").role == Role.VIEWER

    accounts = Account.objects.filter(household=household)
    assert {(a.kind, a.currency) for a in accounts} >= {
        ("checking", "EUR"),
        ("savings", "EUR"),
        ("credit_card", "EUR"),
        ("checking", "USD"),
        ("cash", "EUR"),
    }
    categories = Category.objects.filter(household=household)
    assert categories.filter(parent__isnull=True, name="Housing").exists()
    assert categories.filter(parent__name="Food", name="Groceries").exists()
    assert categories.filter(parent__name="Income", name="Salary", kind="income").exists()

    rows = Transaction.objects.filter(household=household)
    assert rows.count() >= 2000
    assert rows.earliest("date").date <= datetime.date(2023, 7, 1)
    assert rows.latest("date").date == TODAY
    assert rows.filter(status=TransactionStatus.PENDING).exists()
    assert rows.filter(status=TransactionStatus.RECONCILED).exists()
    assert Split.objects.filter(household=household).count() >= 40
    assert TransactionTag.objects.filter(household=household).exists()
    transfers = Transfer.objects.filter(household=household)
    assert transfers.count() >= 48
    assert rows.filter(transfer__isnull=False, account__currency="USD", amount__gt=0).exists()
    reconciliation = Reconciliation.objects.get(household=household)
    assert reconciliation.account.name == "Checking"
    assert reconciliation.transaction_count > 0

    # Running it again changes nothing.
    before = rows.count()
    assert "already exists" in seed()
    assert rows.count() == before
    assert User.objects.filter(username="demo").count() == 1

    call_command("check_ledger", stdout=io.StringIO())


def test_it_is_deterministic_for_a_given_day_even_a_leap_day(db: None) -> None:
    leap_day = datetime.date(2024, 2, 29)
    seed(leap_day)
    first = list(Transaction.objects.order_by("date", "payee", "amount").values_list("date", "payee", "amount"))
    household_delete(household=Household.objects.get(name="Demo household"))
    User.objects.filter(username__startswith="demo").delete()
    seed(leap_day)
    second = list(Transaction.objects.order_by("date", "payee", "amount").values_list("date", "payee", "amount"))
    assert first == second


def test_seeding_leaves_fresh_planner_statistics(db: None) -> None:
    """The machines run PostgreSQL with autovacuum off: seed_demo ANALYZEs what it filled, so the first
    plans are made for the rows that are there (ANALYZE of a small table reads every row: exact counts)."""
    from django.db import connection

    seed()
    with connection.cursor() as cursor:
        for table in ("ledger_transaction", "ledger_split", "ledger_transactiontag", "budgets_budget"):
            cursor.execute(
                f"SELECT reltuples::bigint, (SELECT count(*) FROM {table}) FROM pg_class WHERE relname = %s",  # noqa: S608
                [table],
            )
            estimated, counted = cursor.fetchone()
            assert counted > 0 and estimated == counted, (table, estimated, counted)


def test_seeding_leaves_no_gin_pending_list_to_scan(db: None) -> None:
    """Nor does it leave the trigram indexes' pending lists for a vacuum that never comes: every search would
    scan them in full (financetracker/core/maintenance.py). 0 pages left to merge on every GIN index."""
    from django.db import connection

    seed()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, gin_clean_pending_list(c.oid) FROM pg_class c JOIN pg_am am ON am.oid = c.relam"
            " WHERE am.amname = 'gin' AND c.relkind = 'i' ORDER BY 1"
        )
        left = dict(cursor.fetchall())
    assert "tx_payee_upper_trgm_idx" in left and set(left.values()) == {0}, left
