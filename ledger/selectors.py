"""Reads: balances, registers and the querysets behind lists. Aggregates run in PostgreSQL."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from django.db import connection
from django.db.models import (
    DecimalField,
    Exists,
    F,
    Field,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Now

from financetracker.core.tenancy import household_ids_for, household_roles
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


# The columns a list row shows (ledger.api.serializers.transaction_list_data): the list builds no model instances.
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


# --- The transaction list as SQL compiled once -------------------------------------------------------------

# The list page is the hottest read and its SQL is small (bench/README.md: 2 statements of ~6 ms against
# ~20 ms served): building it through the ORM on every request (names_to_path, setup_joins, a JSONObject and
# two ArraySubquery per page) cost more than running it. The statement below is the restricted queryset with
# TransactionFilter applied, ordered and sliced as the cursor says, with each row's account currency, split
# lines (amounts as text, so they stay exact) and tag ids read by correlated subqueries that PostgreSQL runs
# above the Sort/Limit, once per row shown. It is written out once per shape (which filters, ordering, cursor,
# number of households) and cached; each request only binds its values. tests/ledger/test_api_lean_list.py
# holds the answers equal to DRF's generic list over the same declarations, for every filter.

# The two timestamps travel as fixed-format UTC text and are parsed by datetime.fromisoformat: the driver's
# time-zone-aware timestamptz loader (Django's, in Python) was a third of the page's fetch.
_TIMESTAMPS = ("created_at", "updated_at")
_ROW_COLUMNS = ", ".join(
    f"""to_char(t."{name}" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""
    if name in _TIMESTAMPS
    else f't."{name}"'
    for name in TRANSACTION_ROW_FIELDS
)
_ORDER_COLUMNS = {"date": 't."date"', "amount": 't."amount"', "id": 't."id"'}
_FILTER_SQL = {
    "account": 't."account_id" = %s',
    "household": 't."household_id" = %s',
    # transactions_in_category: the row's category or its parent, or a split line's
    "category": (
        '(t."category_id" = %s OR c."parent_id" = %s OR EXISTS(SELECT 1 FROM "ledger_split" s'
        ' INNER JOIN "ledger_category" sc ON s."category_id" = sc."id"'
        ' WHERE s."transaction_id" = t."id" AND (s."category_id" = %s OR sc."parent_id" = %s)))'
    ),
    "date_after": 't."date" >= %s',
    "date_before": 't."date" <= %s',
    "min_amount": 't."amount" >= %s',
    "max_amount": 't."amount" <= %s',
    "status": 't."status" = %s',
    # a transaction carries a tag once (transactiontag_household_tx_tag_unique): EXISTS is the ORM's join
    "tag": 'EXISTS(SELECT 1 FROM "ledger_transactiontag" tt WHERE tt."transaction_id" = t."id" AND tt."tag_id" = %s)',
    # icontains on either column, as Django writes it: the trigram indexes on UPPER(payee), UPPER(description)
    "search": '(UPPER(t."payee"::text) LIKE UPPER(%s) OR UPPER(t."description"::text) LIKE UPPER(%s))',
}
_UNCATEGORIZED_SQL = (
    't."category_id" IS NULL AND NOT EXISTS(SELECT 1 FROM "ledger_split" s WHERE s."transaction_id" = t."id")'
    ' AND t."transfer_id" IS NULL'
)


def _in_households(column: str, count: int | None) -> str:
    # Ids as literals, one placeholder each, as restrict() has them (see household_roles); None: every household.
    return "TRUE" if count is None else f"{column} IN ({', '.join(['%s'] * count)})"


@functools.lru_cache(maxsize=256)
def _transaction_page_sql(
    households: tuple[int | None, int | None, int | None],
    filters: tuple[str, ...],
    uncategorized: bool | None,
    ordering: tuple[str, ...],
    position: str | None,
    offset: bool,
    limit: bool,
) -> str:
    rows, splits, tags = households
    where = [_in_households('t."household_id"', rows), *(_FILTER_SQL[name] for name in filters)]
    if uncategorized is not None:
        where.append(_UNCATEGORIZED_SQL if uncategorized else f"NOT ({_UNCATEGORIZED_SQL})")
    if position is not None:
        where.append(f"{_ORDER_COLUMNS[ordering[0].lstrip('-')]} {position} %s")
    order = ", ".join(
        f"{_ORDER_COLUMNS[field.lstrip('-')]} {'DESC' if field.startswith('-') else 'ASC'}" for field in ordering
    )
    category_join = ' LEFT OUTER JOIN "ledger_category" c ON t."category_id" = c."id"' if "category" in filters else ""
    split_households = _in_households('s."household_id"', splits)
    tag_households = _in_households('tt."household_id"', tags)
    # Assembled from this module's constants and placeholders only: every value is a parameter.
    return (
        f'SELECT {_ROW_COLUMNS}, a."currency",'  # noqa: S608
        """ (SELECT json_agg(json_build_object('category', s."category_id", 'amount', s."amount"::text,"""
        """ 'memo', s."memo") ORDER BY s."id") FROM "ledger_split" s"""
        f' WHERE {split_households} AND s."transaction_id" = t."id"),'
        ' ARRAY(SELECT tt."tag_id" FROM "ledger_transactiontag" tt INNER JOIN "ledger_tag" g ON tt."tag_id" = g."id"'
        f' WHERE {tag_households} AND tt."transaction_id" = t."id"'
        ' ORDER BY g."name" ASC, tt."tag_id" ASC)'  # Tag's own ordering, as `transaction.tags.all()` has it
        f' FROM "ledger_transaction" t INNER JOIN "ledger_account" a ON t."account_id" = a."id"{category_join}'
        f" WHERE {' AND '.join(where)} ORDER BY {order}"
        + (" LIMIT %s" if limit else "")
        + (" OFFSET %s" if offset else "")
    )


def _count(ids: list[int] | None) -> int | None:
    return None if ids is None else len(ids)


def _filter_params(name: str, value: Any) -> list[Any]:
    if name in ("account", "household", "tag"):
        return [int(value)]  # as the ORM's id lookups coerce the form's Decimal
    if name == "category":
        return [int(value)] * 4
    if name == "search":
        pattern = f"%{connection.ops.prep_for_like_query(value)}%"  # what icontains binds
        return [pattern] * 2
    return [value]


def transaction_page(
    user: Any,
    filters: dict[str, Any],
    ordering: tuple[str, ...],
    *,
    position: tuple[str, Any] | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The rows of TransactionFilter(filters).qs.order_by(*ordering) that `user` may see, as dicts of
    TRANSACTION_ROW_FIELDS plus `currency`, `split_lines` (each line's category, amount as text and memo, by id)
    and `tag_ids` (by tag name, id). `filters` are the filter's cleaned values
    (ledger.api.filters.transaction_filter_values), `position` is the cursor's ("<" or ">", value) on
    ordering[0], then OFFSET `offset` LIMIT `limit`.

    Scoped by the households restrict() would allow for each of the three tables; none: no rows, no query."""
    allowed = tuple(household_ids_for(user, "view", model) for model in (Transaction, Split, TransactionTag))
    if any(ids == [] for ids in allowed):
        return []
    present = tuple(name for name in _FILTER_SQL if filters.get(name) not in (None, ""))
    if "search" in present and not filters["search"].strip():
        present = tuple(name for name in present if name != "search")
    uncategorized = filters.get("uncategorized")
    sql = _transaction_page_sql(
        (_count(allowed[0]), _count(allowed[1]), _count(allowed[2])),
        present,
        uncategorized,
        tuple(ordering),
        None if position is None else position[0],
        bool(offset),
        limit is not None,
    )
    params: list[Any] = [*(allowed[1] or ()), *(allowed[2] or ()), *(allowed[0] or ())]
    for name in present:
        params.extend(_filter_params(name, filters[name].strip() if name == "search" else filters[name]))
    if position is not None:
        # The model field's own conversion, as the ORM's `date__lt=position` does (same errors for a forged cursor)
        field = Transaction._meta.get_field(ordering[0].lstrip("-"))
        assert isinstance(field, Field)
        params.append(field.get_prep_value(position[1]))
    if limit is not None:
        params.append(limit)
    if offset:
        params.append(offset)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    names = (*TRANSACTION_ROW_FIELDS, "currency", "split_lines", "tag_ids")
    rows = [dict(zip(names, row, strict=True)) for row in fetched]
    for row in rows:
        row["split_lines"] = row["split_lines"] or []
        for name in _TIMESTAMPS:
            row[name] = datetime.fromisoformat(row[name]).replace(tzinfo=UTC)
    return rows


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
