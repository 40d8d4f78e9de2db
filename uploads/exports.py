"""Transactions to CSV, safe to open in a spreadsheet: the one export, behind the API
(`GET exports/transactions.csv`), `manage.py export_transactions` and the transaction admin's action.

Columns follow the transaction's field declaration (`TRANSACTION_EDITABLE_FIELDS`): each declared field is a
column, shown as `_SHOWN` says or, for a field declared later, as its plain value, after the columns
spreadsheets already read by position. So a new transaction field reaches the export with nothing changed here.

Formula injection: any text cell starting with =, +, -, @, a tab or a carriage return gets a leading
apostrophe, so spreadsheets show it as text instead of running it (=HYPERLINK(...) stays inert).
Amounts are exported as plain numbers ("-12.30") in their own `amount` column and are NOT prefixed: that
column is written from a Decimal by this code, never from text a person or a bank typed, so it cannot hold
a formula, and a leading apostrophe would turn every debit into text that no longer sums.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header

from financetracker.core.money import format_amount
from ledger.models import Transaction
from ledger.services.transactions import TRANSACTION_EDITABLE_FIELDS

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


Cell = Callable[[Transaction], Any]

# The declared fields whose columns are not their plain value, in the order the export has always had.
_SHOWN: dict[str, tuple[tuple[str, Cell], ...]] = {
    "date": (("date", lambda tx: tx.date.isoformat()),),
    "account": (("account", lambda tx: neutralise(tx.account.name)), ("currency", lambda tx: tx.account.currency)),
    "amount": (("amount", lambda tx: format_amount(tx.amount, tx.account.currency)),),
    "payee": (("payee", lambda tx: neutralise(tx.payee)),),
    "description": (("description", lambda tx: neutralise(tx.description)),),
    "category": (("category", lambda tx: neutralise(str(tx.category)) if tx.category_id else ""),),
    "status": (("status", lambda tx: tx.status),),
    "tags": (("tags", lambda tx: neutralise(", ".join(sorted(tag.name for tag in tx.tags.all())))),),
    "splits": (),  # each split line is a row of its own, not a cell: the category column says "Split" lines apart
}


def _plain(name: str) -> Cell:
    """A newly declared field's cell: numbers and yes/no as they are, dates ISO, anything else neutralised text."""

    def cell(tx: Transaction) -> Any:
        value = getattr(tx, name)
        if value is None:
            return ""
        if isinstance(value, bool | int | Decimal):
            return value
        if isinstance(value, datetime.date):
            return value.isoformat()
        return neutralise(str(value))

    return cell


def export_columns() -> list[tuple[str, Cell]]:
    """(header, cell) for every column: the id, each declared field, then the transfer it is a side of."""
    declared = TRANSACTION_EDITABLE_FIELDS
    ordered = [name for name in _SHOWN if name in declared] + [name for name in declared if name not in _SHOWN]
    columns: list[tuple[str, Cell]] = [("id", lambda tx: tx.pk)]
    for name in ordered:
        columns += _SHOWN[name] if name in _SHOWN else ((name, _plain(name)),)
    columns.append(("transfer", lambda tx: tx.transfer_id or ""))
    return columns


class _Echo:
    def write(self, value: str) -> str:
        return value


def transactions_csv_rows(queryset: Iterable[Transaction] | Any, *, chunk_size: int = 2000) -> Iterator[str]:
    """CSV text line by line (header first), for StreamingHttpResponse or a file."""
    columns = export_columns()
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in columns])
    rows = queryset.iterator(chunk_size=chunk_size) if hasattr(queryset, "iterator") else queryset
    for tx in rows:
        yield writer.writerow([cell(tx) for _, cell in columns])


def transactions_csv_response(rows: Iterable[Transaction] | Any) -> StreamingHttpResponse:
    """The export streamed as a download named transactions.csv."""
    response = StreamingHttpResponse(transactions_csv_rows(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename="transactions.csv")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@admin.action(description="Export selected transactions to CSV", permissions=["view"])
def export_csv(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: Any) -> StreamingHttpResponse:
    """The transaction admin's action (registered in uploads/apps.py): the same export as the API's."""
    from uploads.selectors import export_queryset

    return transactions_csv_response(export_queryset(queryset))
