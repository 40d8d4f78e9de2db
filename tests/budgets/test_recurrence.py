"""Schedules in words: the admin's recurrence form → RFC 5545 text → words → next dates, and back.

A rule the form cannot express is shown in words and kept exactly as stored.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from dateutil.rrule import rrulestr

from budgets.models import ScheduledTransaction
from budgets.recurrence import describe, parse_simple
from budgets.services.schedules import scheduled_create
from ledger.models import User
from tests.factories import Books, staff_client

pytestmark = pytest.mark.django_db

START = datetime.date(2031, 1, 10)  # in the future: next dates start at the start date

# (form choices, the stored rule, its words)
CASES: list[tuple[dict[str, str | list[str]], str, str]] = [
    (
        {"frequency": "MONTHLY", "monthly_on": "day", "month_day": "1"},
        "FREQ=MONTHLY;BYMONTHDAY=1",
        "Monthly on the 1st",
    ),
    (
        {"frequency": "WEEKLY", "interval": "2", "weekdays": "0"},
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        "Every 2 weeks on Monday",
    ),
    (
        {"frequency": "YEARLY", "month": "3", "month_day": "15"},
        "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=15",
        "Yearly on 15 March",
    ),
    ({"frequency": "MONTHLY", "monthly_on": "last"}, "FREQ=MONTHLY;BYMONTHDAY=-1", "Monthly on the last day"),
    (
        {"frequency": "MONTHLY", "monthly_on": "weekday", "nth": "-1", "nth_weekday": "4"},
        "FREQ=MONTHLY;BYDAY=-1FR",
        "Monthly on the last Friday",
    ),
    ({"frequency": "DAILY", "interval": "3"}, "FREQ=DAILY;INTERVAL=3", "Every 3 days"),
    (
        {"frequency": "WEEKLY", "weekdays": ["0", "4"]},
        "FREQ=WEEKLY;BYDAY=MO,FR",
        "Weekly on Monday and Friday",
    ),
]


def form_data(books: Books, **choices: Any) -> dict[str, Any]:
    return {
        "household": books.household.pk,
        "account": books.checking.pk,
        "amount": "-10.00",
        "payee": "Gym",
        "start_date": START.isoformat(),
        "active": "on",
        "interval": "1",
        "occurrences-TOTAL_FORMS": "0",
        "occurrences-INITIAL_FORMS": "0",
        **choices,
    }


def next_three(rule: str) -> list[str]:
    dates = rrulestr(rule, dtstart=datetime.datetime(START.year, START.month, START.day))
    return [f"{moment:%a %-d %b %Y}" for moment in list(dates.xafter(datetime.datetime(2000, 1, 1), count=3))]


@pytest.mark.parametrize(("choices", "rule", "words"), CASES, ids=[case[1] for case in CASES])
def test_form_choices_round_trip_through_the_rule_words_and_next_dates(
    books: Books, owner: User, choices: dict[str, str], rule: str, words: str
) -> None:
    client = staff_client(owner)
    response = client.post("/admin/budgets/scheduledtransaction/add/", form_data(books, **choices))
    assert response.status_code == 302, response.content.decode()[-3000:]
    scheduled = ScheduledTransaction.objects.get(payee="Gym")
    assert scheduled.recurrence == rule
    assert describe(scheduled.recurrence, scheduled.start_date) == words
    dates = next_three(rule)

    listing = client.get("/admin/budgets/scheduledtransaction/").content.decode()
    assert words in listing
    assert ", ".join(dates) in listing
    page = client.get(f"/admin/budgets/scheduledtransaction/{scheduled.pk}/change/").content.decode()
    assert words in page
    assert "FREQ=" not in page.replace(f'value="{rule}"', "")  # the rule only in its hidden field

    # The form reads the rule back into the same choices: saving without a change keeps it as it was.
    reread = parse_simple(rule)
    assert reread is not None and reread.to_rrule() == rule
    response = client.post(
        f"/admin/budgets/scheduledtransaction/{scheduled.pk}/change/",
        {**form_data(books, **choices), "recurrence": rule, "payee": "Gym club"},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    scheduled.refresh_from_db()
    assert (scheduled.recurrence, scheduled.payee) == (rule, "Gym club")


def test_changing_the_frequency_rewrites_the_rule(books: Books, owner: User) -> None:
    scheduled = scheduled_create(
        household=books.household,
        account=books.checking,
        amount=Decimal("-10"),
        payee="Gym",
        recurrence="FREQ=MONTHLY;BYMONTHDAY=1",
        start_date=START,
    )
    response = staff_client(owner).post(
        f"/admin/budgets/scheduledtransaction/{scheduled.pk}/change/",
        {**form_data(books, frequency="WEEKLY", weekdays="2"), "recurrence": scheduled.recurrence},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    scheduled.refresh_from_db()
    assert scheduled.recurrence == "FREQ=WEEKLY;BYDAY=WE"


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=MONTHLY;BYMONTHDAY=1,15", "Monthly on the 1st and the 15th"),
        ("FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1", "Monthly on Monday and Tuesday (also: BYSETPOS=1)"),
        ("RRULE:FREQ=WEEKLY;BYDAY=FR\nEXDATE:20310117T000000", "Weekly on Friday (also: EXDATE:20310117T000000)"),
    ],
)
def test_a_rule_the_form_cannot_express_is_shown_in_words_and_kept_untouched(
    books: Books, owner: User, rule: str, words: str
) -> None:
    assert parse_simple(rule) is None
    scheduled = scheduled_create(
        household=books.household,
        account=books.checking,
        amount=Decimal("-10"),
        payee="Gym",
        recurrence=rule,
        start_date=START,
    )
    client = staff_client(owner)
    page = client.get(f"/admin/budgets/scheduledtransaction/{scheduled.pk}/change/").content.decode()
    assert words in page
    assert "Keep: " + words in page
    # Saving another change with "keep" (the form's initial choice) leaves the rule exactly as stored.
    response = client.post(
        f"/admin/budgets/scheduledtransaction/{scheduled.pk}/change/",
        {**form_data(books, frequency="keep"), "recurrence": rule, "payee": "Gym club"},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    scheduled.refresh_from_db()
    assert (scheduled.recurrence, scheduled.payee) == (rule, "Gym club")
