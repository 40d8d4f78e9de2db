"""Scheduled transactions: recurrence, posting, and posting every occurrence exactly once."""

from __future__ import annotations

import datetime
import io
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from budgets.models import ScheduledOccurrence, ScheduledTransaction
from budgets.selectors import scheduled_upcoming
from budgets.services.schedules import scheduled_create, scheduled_post_due, scheduled_update
from financetracker.core import metrics
from ledger.models import Transaction
from ledger.services.transactions import transaction_delete
from tests.budgets.factories import ScheduledTransactionFactory, schedule
from tests.factories import AccountFactory, Books, CategoryFactory, UserFactory

D = datetime.date


def posted_dates(scheduled: ScheduledTransaction) -> list[datetime.date]:
    return sorted(scheduled.occurrences.values_list("occurrence_date", flat=True))


@pytest.mark.parametrize(
    ("amount", "recurrence", "field", "explained"),
    [
        ("-10.00", "FREQ=FORTNIGHTLY", "recurrence", "RFC 5545"),  # an invalid recurrence, with a clear error
        ("-10.001", "FREQ=MONTHLY", "amount", ""),  # an amount finer than the currency
    ],
)
def test_it_rejects_an_invalid_schedule(books: Books, amount: str, recurrence: str, field: str, explained: str) -> None:
    with pytest.raises(ValidationError) as error:
        schedule(books, amount=amount, recurrence=recurrence, start_date=D(2024, 1, 1))

    assert field in error.value.message_dict
    assert explained in error.value.message_dict[field][0]


def test_post_scheduled_posts_each_due_occurrence_once_and_moves_next_due(books: Books) -> None:
    rent = schedule(
        books,
        amount="-1000.00",
        payee="Landlord",
        category=books.rent,
        recurrence="FREQ=MONTHLY;BYMONTHDAY=1",
        start_date=D(2024, 1, 1),
    )
    before = metrics.scheduled_postings.labels(outcome="posted")._value.get()

    out = io.StringIO()
    call_command("post_scheduled", "--date", "2024-03-15", stdout=out)
    call_command("post_scheduled", "--date", "2024-03-15", stdout=out)

    rent.refresh_from_db()
    assert posted_dates(rent) == [D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1)]
    assert rent.next_due == D(2024, 4, 1)
    rows = Transaction.objects.filter(account=books.checking).order_by("date")
    assert [(tx.date, tx.amount, tx.payee, tx.category_id) for tx in rows] == [
        (D(2024, month, 1), Decimal("-1000.00"), "Landlord", books.rent.pk) for month in (1, 2, 3)
    ]
    assert "Posted 3 occurrence(s)" in out.getvalue()
    assert "Posted 0 occurrence(s)" in out.getvalue()
    assert metrics.scheduled_postings.labels(outcome="posted")._value.get() - before == 3


def test_a_scheduled_transfer_posts_a_linked_pair(books: Books) -> None:
    savings = schedule(
        books,
        to_account=books.savings,
        amount="200.00",
        recurrence="FREQ=MONTHLY;BYMONTHDAY=28",
        start_date=D(2024, 1, 1),
    )

    result = scheduled_post_due(on_date=D(2024, 1, 31))

    assert result.posted == 1
    occurrence = savings.occurrences.get()
    assert occurrence.transfer is not None
    amounts = sorted(occurrence.transfer.transactions.values_list("account_id", "amount"))
    assert amounts == sorted([(books.checking.pk, Decimal("-200.00")), (books.savings.pk, Decimal("200.00"))])


def test_it_stops_after_the_count_and_at_the_end_date(books: Books) -> None:
    counted = schedule(books, amount="-5.00", recurrence="FREQ=WEEKLY", start_date=D(2024, 1, 1), occurrence_count=2)
    ended = schedule(
        books, amount="-7.00", recurrence="FREQ=MONTHLY", start_date=D(2024, 1, 10), end_date=D(2024, 2, 10)
    )

    scheduled_post_due(on_date=D(2024, 6, 30))

    counted.refresh_from_db()
    ended.refresh_from_db()
    assert posted_dates(counted) == [D(2024, 1, 1), D(2024, 1, 8)]
    assert posted_dates(ended) == [D(2024, 1, 10), D(2024, 2, 10)]
    assert (counted.next_due, ended.next_due) == (None, None)


def test_a_deleted_posting_is_not_posted_again(books: Books) -> None:
    bill = schedule(books, amount="-5.00", recurrence="FREQ=MONTHLY", start_date=D(2024, 1, 5))
    scheduled_post_due(on_date=D(2024, 1, 31))
    transaction_delete(transaction_obj=Transaction.objects.get(account=books.checking))
    bill.refresh_from_db()
    bill.next_due = D(2024, 1, 5)  # as if someone rewound the schedule
    bill.save()

    result = scheduled_post_due(on_date=D(2024, 1, 31))

    assert (result.posted, result.already_posted) == (0, 1)
    assert not Transaction.objects.filter(account=books.checking).exists()
    assert bill.occurrences.get().transaction is None


def test_changing_the_rule_never_reposts_the_past(books: Books) -> None:
    bill = schedule(books, amount="-5.00", recurrence="FREQ=MONTHLY;BYMONTHDAY=5", start_date=D(2024, 1, 1))
    scheduled_post_due(on_date=D(2024, 2, 10))

    bill = scheduled_update(scheduled=bill, recurrence="FREQ=MONTHLY;BYMONTHDAY=20")

    assert bill.next_due == D(2024, 2, 20)


def test_the_database_refuses_a_second_posting_of_one_occurrence(books: Books) -> None:
    scheduled = ScheduledTransactionFactory(account=books.checking)
    ScheduledOccurrence.objects.create(household=books.household, scheduled=scheduled, occurrence_date=D(2024, 1, 1))

    with pytest.raises(IntegrityError), transaction.atomic():
        ScheduledOccurrence.objects.create(
            household=books.household, scheduled=scheduled, occurrence_date=D(2024, 1, 1)
        )


def test_an_occurrence_cannot_point_at_another_households_schedule(books: Books, outsider_household) -> None:
    theirs = ScheduledTransactionFactory(account=AccountFactory(household=outsider_household))

    with pytest.raises(IntegrityError), transaction.atomic():
        ScheduledOccurrence.objects.create(household=books.household, scheduled=theirs, occurrence_date=D(2024, 1, 1))
        connection.check_constraints()  # runs the deferred composite foreign keys now


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_post_each_occurrence_exactly_once() -> None:
    owner = UserFactory(username="concurrent")
    household = owner.memberships.get().household
    account = AccountFactory(household=household, name="Checking")
    category = CategoryFactory(household=household, name="Bills")
    schedules = [
        scheduled_create(
            household=household,
            account=account,
            amount=f"-{index + 1}.00",
            category=category,
            recurrence="FREQ=DAILY",
            start_date=D(2024, 1, 1),
        )
        for index in range(5)
    ]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            scheduled_post_due(on_date=D(2024, 1, 20))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for scheduled in schedules:
        assert posted_dates(scheduled) == [D(2024, 1, day) for day in range(1, 21)]
    assert Transaction.objects.filter(account=account).count() == 5 * 20
    assert ScheduledOccurrence.objects.filter(transaction__isnull=True).count() == 0


def test_upcoming_lists_occurrences_in_date_order_with_overdue_ones(books: Books, django_assert_num_queries) -> None:
    schedule(books, amount="-9.99", payee="Streaming", recurrence="FREQ=MONTHLY;BYMONTHDAY=3", start_date=D(2024, 2, 1))
    schedule(books, amount="-30.00", payee="Gym", recurrence="FREQ=WEEKLY;BYDAY=MO", start_date=D(2024, 3, 1))

    with django_assert_num_queries(1):  # the due schedules with their accounts and categories
        upcoming = scheduled_upcoming(books.household, today=D(2024, 3, 5), days=10)

    assert [(item.date, item.scheduled.payee, item.overdue) for item in upcoming] == [
        (D(2024, 2, 3), "Streaming", True),
        (D(2024, 3, 3), "Streaming", True),
        (D(2024, 3, 4), "Gym", True),
        (D(2024, 3, 11), "Gym", False),
    ]


def test_one_broken_schedule_does_not_stop_the_others_and_fails_the_command(books: Books) -> None:
    good = schedule(books, amount="-5.00", recurrence="FREQ=MONTHLY", start_date=D(2024, 1, 5))
    # Written around the service: an amount the account's currency refuses.
    broken = ScheduledTransactionFactory(account=books.checking, amount=Decimal("-1.001"), start_date=D(2024, 1, 1))

    with pytest.raises(CommandError, match="1 scheduled transaction"):
        call_command("post_scheduled", "--date", "2024-01-31", stdout=io.StringIO(), stderr=io.StringIO())

    assert posted_dates(good) == [D(2024, 1, 5)]
    assert posted_dates(broken) == []
    broken.refresh_from_db()
    assert broken.next_due == D(2024, 1, 1)


def test_post_scheduled_rejects_a_bad_date() -> None:
    with pytest.raises(CommandError, match="--date"):
        call_command("post_scheduled", "--date", "31/01/2024", stdout=io.StringIO())


def test_deleting_a_household_takes_its_plans_with_it(books: Books) -> None:
    from ledger.services.households import household_delete
    from tests.budgets.factories import BudgetFactory

    BudgetFactory(household=books.household, category=books.rent)
    schedule(
        books,
        to_account=books.savings,
        amount="5.00",
        category=books.rent,
        recurrence="FREQ=MONTHLY",
        start_date=D(2024, 1, 5),
    )
    scheduled_post_due(on_date=D(2024, 2, 28))

    household_delete(household=books.household)

    assert not ScheduledTransaction.objects.exists()
    assert not ScheduledOccurrence.objects.exists()
