"""Reads: balances, registers and the querysets behind lists. Aggregates run in PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import DecimalField, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, TextField, Value
from django.db.models.functions import Cast, Coalesce, JSONObject, Now

from financetracker.core.tenancy import household_roles
from ledger.models import (
    Account,
    AccountMonthTotal,
    Invitation,
    InvitationStatus,
    Split,
    Transaction,
    TransactionTag,
)

__all__ = ["household_roles"]  # re-exported: the API and admin read roles from here
from financetracker.core.money import AMOUNT_DECIMAL_PLACES


class BalanceAnnotation(TypedDict):
    balance: Decimal


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # An account read through `accounts_with_balance` (import it under TYPE_CHECKING too).
    AccountWithBalance: TypeAlias = WithAnnotations[Account, BalanceAnnotation]

_MONEY = DecimalField(max_digits=30, decimal_places=AMOUNT_DECIMAL_PLACES)


def month_start(day: date) -> date:
    return day.replace(day=1)


def accounts_with_balance(queryset: QuerySet[Account]) -> QuerySet[AccountWithBalance]:
    """Annotate `balance`: opening balance plus the account's monthly totals (≤ 12 rows a year)."""
    totals = (
        AccountMonthTotal.objects.filter(household_id=OuterRef("household_id"), account_id=OuterRef("pk"))
        .order_by()
        .values("account_id")
        .annotate(total=Sum("total"))
        .values("total")
    )
    return queryset.annotate(
        balance=F("opening_balance")
        + Coalesce(Subquery(totals, output_field=_MONEY), Value(Decimal(0)), output_field=_MONEY)
    )


def account_balance(account: Account) -> Decimal:
    annotated: Any = accounts_with_balance(Account.objects.filter(pk=account.pk))
    return Decimal(annotated.values_list("balance", flat=True).get())


def account_balance_as_of(account: Account, as_of: date) -> Decimal:
    """Balance at the end of `as_of`: whole months from the totals, the last partial month from rows."""
    # Before the opening date the account did not exist in the books.
    opening = Decimal(0) if as_of < account.opening_date else account.opening_balance
    first_of_month = month_start(as_of)
    whole_months = AccountMonthTotal.objects.filter(
        household_id=account.household_id, account_id=account.pk, month__lt=first_of_month
    ).aggregate(total=Sum("total"))["total"] or Decimal(0)
    this_month = Transaction.objects.filter(
        household_id=account.household_id, account_id=account.pk, date__gte=first_of_month, date__lte=as_of
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return opening + whole_months + this_month


def transactions_for_list(queryset: QuerySet[Transaction]) -> QuerySet[Transaction]:
    """Everything a page of transactions shows, in a fixed number of queries whatever the page size."""
    # Rows show only ids of their account, category and tags, plus the account's currency: annotate it
    # rather than build an Account and a Category object per row. Prefetched splits get their parent
    # transaction set by Django, so split.transaction.currency costs nothing.
    return queryset.annotate(account_currency=F("account__currency")).prefetch_related(
        Prefetch("splits", queryset=Split.objects.order_by("id")),
        "tags",
    )


# The columns a list row shows, read with .values(): the hot list pages build no model instances.
TRANSACTION_ROW_FIELDS = (
    "id",
    "household_id",
    "account_id",
    "date",
    "amount",
    "payee",
    "description",
    "category_id",
    "status",
    "transfer_id",
    "created_at",
    "updated_at",
)


def transaction_rows(queryset: QuerySet[Transaction], user: Any) -> QuerySet[Any]:
    """`queryset` (already restricted and filtered) as dicts of TRANSACTION_ROW_FIELDS plus `currency`,
    `split_lines` (each line's category, amount as text and memo, by id) and `tag_ids` (by tag name, id).

    Splits and tags come in the same statement, as correlated arrays restricted like the rows: one round
    trip for the page instead of three (on a loaded machine each round trip waits for PostgreSQL to be
    scheduled; bench/README.md). With ORDER BY … LIMIT PostgreSQL evaluates the arrays for the page's rows
    only, after the sort. Amounts travel as text, so they stay exact."""
    splits = (
        Split.objects.restrict(user, "view")
        .filter(transaction_id=OuterRef("id"))
        .order_by("id")
        .values(line=JSONObject(category="category_id", amount=Cast("amount", TextField()), memo="memo"))
    )
    tags = (
        TransactionTag.objects.restrict(user, "view")
        .filter(transaction_id=OuterRef("id"))
        .order_by("tag__name", "tag_id")  # Tag's own ordering, as `transaction.tags.all()` has it
        .values("tag_id")
    )
    return queryset.values(
        *TRANSACTION_ROW_FIELDS,
        currency=F("account__currency"),
        split_lines=ArraySubquery(splits),
        tag_ids=ArraySubquery(tags),
    )


def transactions_in_category(queryset: QuerySet[Transaction], category_id: int) -> QuerySet[Transaction]:
    """Rows in a category or its subcategories, directly or through a split line."""
    in_split = Split.objects.filter(transaction_id=OuterRef("pk")).filter(
        Q(category_id=category_id) | Q(category__parent_id=category_id)
    )
    return queryset.filter(Q(category_id=category_id) | Q(category__parent_id=category_id) | Exists(in_split))


def invitations_received(user: Any) -> QuerySet[Invitation]:
    """A person's pending, unexpired invitations, newest first, with the household and inviter joined."""
    return (
        Invitation.objects.filter(invitee_id=user.pk, status=InvitationStatus.PENDING, expires_at__gt=Now())
        .select_related("household", "invited_by")
        .order_by("-created_at", "-id")
    )


def invitations_sent(household_id: int) -> QuerySet[Invitation]:
    """A household's invitations for its owners, newest first (any state: they see what became of each)."""
    return (
        Invitation.objects.filter(household_id=household_id).select_related("invited_by").order_by("-created_at", "-id")
    )


# --- The register ---------------------------------------------------------------------------------------

# A row's running balance is the account's true balance just after it, in (date, id) order, whatever the list
# hides: the opening balance (from the opening date on), plus the kept monthly totals of the months before the
# row's month, plus a window over the account's rows of that month up to the row. Only the months the page
# shows are scanned, so the cost grows with the page, not with the account's history.
_RUNNING_BALANCES_SQL = """
WITH page AS (
    SELECT id, date FROM ledger_transaction
     WHERE household_id = %(household)s AND account_id = %(account)s AND id = ANY(%(ids)s)
),
months AS (SELECT DISTINCT date_trunc('month', date)::date AS month FROM page),
within AS (
    SELECT t.id, t.date, m.month,
           sum(t.amount) OVER (PARTITION BY m.month ORDER BY t.date, t.id) AS running
      FROM months m
      JOIN ledger_transaction t ON t.household_id = %(household)s AND t.account_id = %(account)s
                               AND t.date >= m.month AND t.date < (m.month + interval '1 month')::date
)
SELECT w.id,
       CASE WHEN w.date >= a.opening_date THEN a.opening_balance ELSE 0 END
       + coalesce((SELECT sum(mt.total) FROM ledger_accountmonthtotal mt
                    WHERE mt.household_id = %(household)s AND mt.account_id = %(account)s AND mt.month < w.month), 0)
       + w.running
  FROM within w
  JOIN page p ON p.id = w.id
  JOIN ledger_account a ON a.household_id = %(household)s AND a.id = %(account)s
"""


def running_balances(account: Account, transaction_ids: list[int]) -> dict[int, Decimal]:
    """The account's balance just after each of these of its rows (see above). One query."""
    if not transaction_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            _RUNNING_BALANCES_SQL,
            {"household": account.household_id, "account": account.pk, "ids": list(transaction_ids)},
        )
        return {int(row_id): Decimal(balance) for row_id, balance in cursor.fetchall()}


def payee_suggestions(queryset: QuerySet[Transaction], term: str, limit: int = 10) -> list[dict[str, Any]]:
    """Payees starting with `term` (case-insensitive) among `queryset`'s rows, most recent first, each with the
    category and amount of its latest row, so quick entry can propose them. One query."""
    latest = (
        queryset.filter(payee__istartswith=term.strip())
        .exclude(payee="")
        .order_by("payee", "-date", "-id")
        .distinct("payee")
        .values("payee", "category_id", "amount", "date", currency=F("account__currency"))
    )
    rows: list[dict[str, Any]] = [dict(row) for row in latest[:200]]
    return sorted(rows, key=lambda row: row["date"], reverse=True)[:limit]
