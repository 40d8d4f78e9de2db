#!/usr/bin/env python
"""Ledger benchmark: one household with a million transactions over ten years.

Measures, in server time through Django's full request stack (in-process client, no network):
- the transaction list page (50 rows with splits and tags), first page and a deep cursor page;
- all account balances (GET /api/v1/accounts/);
- one account's balance as of a date (GET /api/v1/accounts/{id}/balance/?as_of=...);
and, in the same run on the same data, the naive baselines they replace: balances by SUM over every
transaction, and a list page without select_related/prefetch_related (one query per row).

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/financetracker_bench .venv/bin/python bench/ledger_reads.py [--rows 1000000]
The data is generated once with COPY and reused by later runs. Prints medians and ratios; the
machine is shared and noisy, so compare ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import ensure_database, start_django

start_django("financetracker_bench", SECURE_SSL_REDIRECT="0")  # the in-process client speaks plain HTTP

from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from financetracker.core.maintenance import merge_gin_pending_lists  # noqa: E402
from ledger.models import Account, Category, Household, Tag, Transaction, User  # noqa: E402
from ledger.services.accounts_categories_tags import account_create, category_create, tag_create  # noqa: E402
from ledger.services.tokens import api_token_create  # noqa: E402

BENCH_USER = "bench"
ACCOUNTS = 8
SPLIT_EVERY = 20  # one transaction in 20 has three split lines
TAG_EVERY = 10


def seed(rows: int) -> tuple[User, Household]:
    user = User.objects.filter(username=BENCH_USER).first()
    if user is not None:
        household = Household.objects.get(memberships__user=user)
        existing = Transaction.objects.filter(household=household).count()
        if existing >= rows:
            print(f"reusing {existing:,} transactions")
            merge_gin_pending_lists()  # a no-op, unless it was seeded before seed() merged them as below
            return user, household
        print(f"found {existing:,} transactions, wanted {rows:,}: re-seeding")
        from ledger.services.households import household_delete

        household_delete(household=household)
        user.delete()
    from ledger.services.households import user_sign_up

    user = user_sign_up(username=BENCH_USER, password="bench-password-not-secret")  # noqa: S106
    household = Household.objects.get(memberships__user=user)
    start = date.today() - timedelta(days=3650)
    accounts = [
        account_create(
            household=household, name=f"Account {n}", currency="EUR", opening_date=start, opening_balance="1000.00"
        )
        for n in range(ACCOUNTS)
    ]
    parents = [category_create(household=household, name=f"Group {n}") for n in range(10)]
    categories = [
        category_create(household=household, name=f"Leaf {p.pk}-{n}", parent=p) for p in parents for n in range(4)
    ]
    tags = [tag_create(household=household, name=f"tag-{n}") for n in range(20)]
    rng = random.Random(42)
    t0 = time.perf_counter()
    payees = ["Grocer", "Bakery", "Railway", "Cinema", "Pharmacy", "Hardware", "Cafe", "Bookshop", "Fuel", "Market"]
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg cursor, for COPY
        buffer = io.StringIO()
        for n in range(rows):
            day = start + timedelta(days=n * 3650 // rows)
            amount = Decimal(rng.randint(-20000, 5000)) / 100 or Decimal("-1.00")
            buffer.write(
                f"{household.pk}\t{accounts[n % ACCOUNTS].pk}\t{day.isoformat()}\t{amount}\t"
                f"{payees[n % len(payees)]} {n % 997}\tbench row {n}\t{categories[n % len(categories)].pk}\tcleared\t"
                "now\tnow\n"
            )
        buffer.seek(0)
        with raw.copy(
            "COPY ledger_transaction (household_id, account_id, date, amount, payee, description, category_id, "
            "status, created_at, updated_at) FROM STDIN"
        ) as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
        # Splits: three lines on every SPLIT_EVERY-th transaction, summing exactly to its amount.
        cursor.execute(
            """
            INSERT INTO ledger_split (household_id, transaction_id, category_id, amount, memo)
            SELECT t.household_id, t.id, c.category_id,
                   CASE WHEN c.part = 3 THEN t.amount - 2 * round(t.amount / 3, 2) ELSE round(t.amount / 3, 2) END,
                   'part ' || c.part
              FROM ledger_transaction t
              CROSS JOIN LATERAL (VALUES (1, %s::bigint), (2, %s::bigint), (3, %s::bigint)) AS c(part, category_id)
             WHERE t.household_id = %s AND t.id %% %s = 0
            """,
            [categories[0].pk, categories[1].pk, categories[2].pk, household.pk, SPLIT_EVERY],
        )
        cursor.execute(
            "UPDATE ledger_transaction SET category_id = NULL WHERE household_id = %s AND id %% %s = 0",
            [household.pk, SPLIT_EVERY],
        )
        cursor.execute(
            """
            INSERT INTO ledger_transactiontag (household_id, transaction_id, tag_id)
            SELECT household_id, id, %s FROM ledger_transaction WHERE household_id = %s AND id %% %s = 0
            """,
            [tags[0].pk, household.pk, TAG_EVERY],
        )
        cursor.execute("ANALYZE")
    merge_gin_pending_lists()  # as the app does after its own bulk writes (financetracker/core/maintenance.py)
    print(f"seeded {rows:,} transactions in {time.perf_counter() - t0:.1f} s")
    return user, household


def timed(label: str, action: Callable[[], object], repeat: int) -> float:
    action()  # warm caches and connections
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        action()
        samples.append((time.perf_counter() - t0) * 1000)
    median = statistics.median(samples)
    print(f"  {label:<58} median {median:8.2f} ms   (min {min(samples):.2f}, n={repeat})")
    return median


def count_queries(action: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


def seeded_client(rows: int, *, client_name: str) -> tuple[APIClient, Household, Account]:
    """The migrated, seeded database; an API client of its owner; the household and its first account."""
    ensure_database()
    user, household = seed(rows)
    import gc

    gc.collect()
    gc.freeze()  # as gunicorn.conf.py's post_worker_init does in every worker
    client = APIClient()
    _token, secret = api_token_create(user=user, name=client_name)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    account = Account.objects.filter(household=household).order_by("id").first()
    assert account is not None
    return client, household, account


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()

    client, household, account = seeded_client(args.rows, client_name="bench")
    as_of = (date.today() - timedelta(days=400)).isoformat()

    def list_page() -> None:
        response = client.get("/api/v1/transactions/?page_size=50")
        assert response.status_code == 200 and len(response.json()["results"]) == 50

    deep_cursor = client.get("/api/v1/transactions/?page_size=50").json()["next"]
    for _ in range(200):  # walk 200 pages (10,000 rows) deep
        deep_cursor = client.get(deep_cursor).json()["next"]

    def deep_page() -> None:
        assert client.get(deep_cursor).status_code == 200

    def balances() -> None:
        response = client.get("/api/v1/accounts/")
        assert response.status_code == 200 and len(response.json()["results"]) == ACCOUNTS

    def balance_as_of() -> None:
        assert client.get(f"/api/v1/accounts/{account.pk}/balance/?as_of={as_of}").status_code == 200

    report_month = (date.today() - timedelta(days=400)).strftime("%Y-%m")

    def budget_report() -> None:
        response = client.get(f"/api/v1/reports/budget/?household={household.pk}&month={report_month}")
        assert response.status_code == 200, response.content[:200]

    def search() -> None:
        assert client.get("/api/v1/transactions/?search=bakery%20123&page_size=50").status_code == 200

    def naive_balances() -> None:
        dict(Transaction.objects.filter(household=household).values_list("account_id").annotate(total=Sum("amount")))

    def naive_list_page() -> None:
        for row in Transaction.objects.filter(household=household).order_by("-date", "-id")[:50]:
            _ = (row.account.currency, row.category and row.category.name, list(row.splits.all()), list(row.tags.all()))

    print(
        f"\nhousehold {household.pk}: {Transaction.objects.filter(household=household).count():,} transactions, "
        f"{Category.objects.filter(household=household).count()} categories, {Tag.objects.filter(household=household).count()} tags\n"
    )
    print("financetracker (through the API, full request stack):")
    results = {
        "list": timed("transaction list page, 50 rows with splits and tags", list_page, args.repeat),
        "deep": timed("transaction list page 200 pages deep (cursor)", deep_page, args.repeat),
        "balances": timed("all account balances", balances, args.repeat),
        "as_of": timed("one account's balance as of a date", balance_as_of, args.repeat),
        "search": timed("text search (trigram index), 50 rows", search, args.repeat),
        "budget": timed("budget report for a month (50 categories)", budget_report, args.repeat),
    }
    print("\nnaive baselines on the same data (ORM only, no HTTP):")
    baseline_balances = timed("balances by SUM over every transaction", naive_balances, max(5, args.repeat // 5))
    baseline_list = timed("list page without select/prefetch (N+1 queries)", naive_list_page, args.repeat)
    print("\nqueries per request (must not grow with page size or data size):")
    print(
        f"  list page: {count_queries(list_page)}   balances: {count_queries(balances)}   "
        f"as-of: {count_queries(balance_as_of)}   budget report: {count_queries(budget_report)}"
    )
    # The floor of the list page in this run: its SQL alone (the captured statements re-run on the same
    # connection) plus a bare Django view (a JsonResponse of 2 KB, bench/bare_app.py's body, no stack).
    with CaptureQueriesContext(connection) as captured:
        list_page()
    statements = [query["sql"] for query in captured.captured_queries]

    def list_sql() -> None:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()

    from django.http import JsonResponse

    body = {"results": [{"id": n, "payee": f"Payee {n:04d}", "amount": "-12.30", "tags": [n]} for n in range(34)]}
    print("\nthe list page's floor, same run:")
    sql_ms = timed(f"its {len(statements)} SQL statements alone", list_sql, args.repeat)
    bare_ms = timed("a bare Django view (2 KB JsonResponse)", lambda: JsonResponse(body).content, args.repeat)
    floor = sql_ms + bare_ms
    print("\ntargets (issue #17, PRODUCT.md) and ratios, same run:")

    def target(label: str, value: float, limit: float, note: str = "") -> None:
        print(f"  {label:<16}{value:7.2f} ms  target ≤ {limit:g} ms{note}  -> {'OK' if value <= limit else 'MISSED'}")

    target("list page", results["list"], 10)
    ratio = results["list"] / floor
    print(
        f"  list page / (bare view + its SQL = {floor:.2f} ms): {ratio:5.2f}x  target ≤ 3x  -> {'OK' if ratio <= 3 else 'MISSED'}"
    )
    target("all balances", results["balances"], 5)
    target("as-of balance", results["as_of"], 5)
    target("search", results["search"], 15)
    target("budget report", results["budget"], 25)
    print(f"  balances vs naive SUM:       {baseline_balances / results['balances']:6.1f}x faster")
    print(f"  list page vs naive N+1:      {baseline_list / results['list']:6.1f}x faster")


if __name__ == "__main__":
    main()
