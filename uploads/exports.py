"""Transactions to CSV, safe to open in a spreadsheet.

Formula injection: any text cell starting with =, +, -, @, a tab or a carriage return gets a leading
apostrophe, so spreadsheets show it as text instead of running it (=HYPERLINK(...) stays inert).
Amounts are exported as plain numbers ("-12.30") in their own `amount` column and are NOT prefixed: that
column is written from a Decimal by this code, never from text a person or a bank typed, so it cannot hold
a formula, and a leading apostrophe would turn every debit into text that no longer sums.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from ledger.models import Transaction
from ledger.money import format_amount

HEADER = [
    "id",
    "date",
    "account",
    "currency",
    "amount",
    "payee",
    "description",
    "category",
    "status",
    "tags",
    "transfer",
]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


class _Echo:
    def write(self, value: str) -> str:
        return value


def _category_name(tx: Transaction) -> str:
    if tx.category is None:
        return ""
    return str(tx.category)


def transaction_csv_line(tx: Transaction) -> list[Any]:
    return [
        tx.pk,
        tx.date.isoformat(),
        neutralise(tx.account.name),
        tx.account.currency,
        format_amount(tx.amount, tx.account.currency),
        neutralise(tx.payee),
        neutralise(tx.description),
        neutralise(_category_name(tx)),
        tx.status,
        neutralise(", ".join(sorted(tag.name for tag in tx.tags.all()))),
        tx.transfer_id or "",
    ]


def transactions_csv_rows(queryset: Iterable[Transaction] | Any, *, chunk_size: int = 2000) -> Iterator[str]:
    """CSV text line by line (header first), for StreamingHttpResponse or a file."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    rows = queryset.iterator(chunk_size=chunk_size) if hasattr(queryset, "iterator") else queryset
    for tx in rows:
        yield writer.writerow(transaction_csv_line(tx))
