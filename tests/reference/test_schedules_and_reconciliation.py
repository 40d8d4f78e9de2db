"""Property tests: the forecast from RFC 5545 schedules, and reconciliation, against the reference model."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from budgets.services.schedules import scheduled_create, scheduled_post_due
from ledger.models import Account, Transaction, User
from ledger.services.accounts_categories_tags import account_create
from ledger.services.households import household_create
from tests.conftest import check_deferred_constraints
from tests.reference import model
from tests.reference.households import CURRENCIES, amounts, minor_units
from tests.reference.test_figures_match_reference import Rollback, get

D = Decimal
RULES = [
    "FREQ=MONTHLY;BYMONTHDAY={day}",
    "FREQ=MONTHLY;BYMONTHDAY=31",  # months without a 31st are skipped (RFC 5545)
    "FREQ=WEEKLY;INTERVAL={interval}",
    "FREQ=DAILY;INTERVAL={interval}0",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=YEARLY",
]


@st.composite
def schedule_plans(draw: st.DrawFn) -> tuple[list[str], list[dict]]:
    currencies = draw(st.lists(st.sampled_from(CURRENCIES), min_size=2, max_size=3))
    schedules = []
    for _ in range(draw(st.integers(1, 4))):
        account = draw(st.integers(0, len(currencies) - 1))
        rule = draw(st.sampled_from(RULES)).format(day=draw(st.integers(1, 28)), interval=draw(st.integers(1, 3)))
        start = draw(st.integers(-90, 40))
        others = [index for index in range(len(currencies)) if index != account]
        transfer_to = draw(st.none() | st.sampled_from(others))
        amount = draw(amounts(currencies[account], positive=transfer_to is not None))
        to_amount = None
        if transfer_to is not None and currencies[transfer_to] != currencies[account]:
            to_amount = draw(amounts(currencies[transfer_to], positive=True))
        schedules.append(
            {
                "account": account,
                "rule": rule,
                "start": start,
                "end": draw(st.none() | st.integers(0, 200)),
                "count": draw(st.none() | st.integers(1, 6)),
                "amount": amount,
                "to": transfer_to,
                "to_amount": to_amount,
            }
        )
    return currencies, schedules


@given(plan=schedule_plans(), months=st.integers(1, 6))
def test_forecast_from_schedules_equals_the_reference(
    owner: User, owner_client: APIClient, plan: tuple[list[str], list[dict]], months: int
) -> None:
    client = owner_client
    currencies, schedules = plan
    today = timezone.localdate()
    try:
        with transaction.atomic():
            household = household_create(owner=owner, name="Scheduled")
            books = model.Books(base="EUR", start_day=1)
            opened = today - timedelta(days=120)
            # The accounts in one statement; the schedules through their service (what the forecast reads).
            accounts = Account.objects.bulk_create(
                Account(household=household, name=f"A{index}", currency=currency, opening_date=opened)
                for index, currency in enumerate(currencies)
            )
            for account in accounts:
                books.accounts[account.pk] = model.Account(account.pk, account.currency, D(0), opened)
            references = []
            for item in schedules:
                start = today + timedelta(days=item["start"])
                end = None if item["end"] is None else start + timedelta(days=item["end"])
                to_account = None if item["to"] is None else accounts[item["to"]]
                scheduled_create(
                    household=household,
                    account=accounts[item["account"]],
                    amount=item["amount"],
                    recurrence=item["rule"],
                    start_date=start,
                    end_date=end,
                    occurrence_count=item["count"],
                    to_account=to_account,
                    to_amount=item["to_amount"],
                )
                references.append(
                    model.Schedule(
                        account_id=accounts[item["account"]].pk,
                        amount=item["amount"],
                        recurrence=item["rule"],
                        start_date=start,
                        end_date=end,
                        count=item["count"],
                        to_account_id=None if to_account is None else to_account.pk,
                        to_amount=item["to_amount"],
                    )
                )
            # Post what is due up to yesterday: the reference books record the same postings.
            posted_until = today - timedelta(days=1)
            scheduled_post_due(on_date=posted_until, households=[household.pk])
            for schedule in references:
                for day in model.occurrences(schedule, after=None, until=posted_until):
                    if schedule.to_account_id is None:
                        books.txns[len(books.txns)] = model.Txn(
                            len(books.txns), schedule.account_id, day, schedule.amount
                        )
                    else:
                        received = schedule.to_amount if schedule.to_amount is not None else schedule.amount
                        books.txns[len(books.txns)] = model.Txn(
                            len(books.txns), schedule.account_id, day, -schedule.amount
                        )
                        books.txns[len(books.txns)] = model.Txn(len(books.txns), schedule.to_account_id, day, received)
            check_deferred_constraints()
            expected = model.forecast(books, references, posted_until=posted_until, today=today, months=months)
            data = get(client, "/api/v1/reports/forecast/", household=household.pk, months=months)
            assert data["months"] == [f"{m:%Y-%m}" for m in expected["months"]]
            for row in data["accounts"]:
                want = expected["accounts"][row["account"]]
                assert D(row["balance"]) == want["balance"]
                assert [D(p["balance"]) for p in row["projection"]] == want["projection"]
            assert {row["account"] for row in data["accounts"]} == set(expected["accounts"])
            raise Rollback
    except Rollback:
        pass


@given(
    currency=st.sampled_from(CURRENCIES),
    rows=st.lists(st.tuples(st.integers(0, 60), st.sampled_from(["pending", "cleared"])), min_size=1, max_size=8),
    values=st.data(),
    statement_day=st.integers(0, 60),
)
def test_reconciliation_locks_exactly_the_cleared_rows_the_reference_names(
    owner: User, owner_client: APIClient, currency: str, rows, values, statement_day: int
) -> None:
    client = owner_client
    try:
        with transaction.atomic():
            household = household_create(owner=owner, name="Reconciled")
            opened = timezone.localdate().replace(day=1) - timedelta(days=90)
            opening = values.draw(amounts(currency))
            account = account_create(
                household=household, name="Checking", currency=currency, opening_date=opened, opening_balance=opening
            )
            books = model.Books(base=currency, start_day=1)
            books.accounts[account.pk] = model.Account(account.pk, currency, opening, opened)
            # The rows in one statement (what is under test is the reconciliation and the API's answers after it).
            drawn = [values.draw(amounts(currency)) for _row in rows]
            created = Transaction.objects.bulk_create(
                Transaction(
                    household_id=household.pk,
                    account=account,
                    date=opened + timedelta(days=offset),
                    amount=amount,
                    status=status,
                )
                for (offset, status), amount in zip(rows, drawn, strict=True)
            )
            for tx in created:
                books.txns[tx.pk] = model.Txn(tx.pk, account.pk, tx.date, tx.amount, status=tx.status)
            statement_date = opened + timedelta(days=statement_day)
            cleared = [t for t in books.txns.values() if t.status != "pending" and t.date <= statement_date]
            balance = (opening if opened <= statement_date else D(0)) + sum((t.amount for t in cleared), D(0))
            url = f"/api/v1/accounts/{account.pk}/reconcile/"

            wrong = client.post(
                url,
                {
                    "statement_date": statement_date.isoformat(),
                    "statement_balance": str(balance + minor_units(currency)),
                },
                format="json",
            )
            assert wrong.status_code == 409, wrong.content
            right = client.post(
                url, {"statement_date": statement_date.isoformat(), "statement_balance": str(balance)}, format="json"
            )
            assert right.status_code in (200, 201), right.content

            locked = {t.id for t in cleared}
            # Every row's status from one page of the account's list (at most 8 rows), not a request per row.
            listed = get(client, "/api/v1/transactions/", account=account.pk, page_size=50)["results"]
            assert {row["id"]: row["status"] for row in listed} == {
                pk: "reconciled" if pk in locked else txn.status for pk, txn in books.txns.items()
            }
            for pk, txn in books.txns.items():
                response = client.patch(
                    f"/api/v1/transactions/{pk}/", {"amount": str(txn.amount + minor_units(currency))}, format="json"
                )
                assert response.status_code == (409 if pk in locked else 200), response.content
            check_deferred_constraints()
            raise Rollback
    except Rollback:
        pass
