"""A statement's rows are held to the bounds of every other way into the books: a date outside 1900-2999 or an
amount of 10^12 or more is that row's error in the preview (as the API refuses it), never committed.

Generated over every import format that states its own dates and amounts (CSV, QIF, OFX), through the services the
API, the admin wizard and `manage.py import_statement` share."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from ledger.models import Transaction
from uploads.models import ImportStatus
from uploads.services.statement_imports import statement_import_commit

pytestmark = pytest.mark.django_db

GOOD = (datetime.date(2024, 3, 15), Decimal("-2.80"))
OTHER = (datetime.date(2024, 3, 15), Decimal("-3.10"))
HOSTILE_DATES = [
    datetime.date(9999, 12, 31),
    datetime.date(1, 1, 1),
    datetime.date(1899, 12, 31),
    datetime.date(3000, 1, 1),
]
HOSTILE_AMOUNTS = [Decimal("1000000000000.00"), Decimal("-999999999999999.99")]


def csv_statement(rows: list[tuple[datetime.date, Decimal]]) -> tuple[str, bytes]:
    lines = [f"{day.isoformat()},Row {index},{amount:f}" for index, (day, amount) in enumerate(rows)]
    return "s.csv", ("Date,Payee,Amount\n" + "\n".join(lines) + "\n").encode()


def qif_statement(rows: list[tuple[datetime.date, Decimal]]) -> tuple[str, bytes]:
    entries = [f"D{d.month:02}/{d.day:02}/{d.year:04}\nT{amount:f}\nPRow {i}\n^" for i, (d, amount) in enumerate(rows)]
    return "s.qif", ("!Type:Bank\n" + "\n".join(entries) + "\n").encode()


def ofx_statement(rows: list[tuple[datetime.date, Decimal]]) -> tuple[str, bytes]:
    entries = "".join(
        f"<STMTTRN><TRNTYPE>OTHER</TRNTYPE><DTPOSTED>{day.year:04}{day.month:02}{day.day:02}</DTPOSTED>"
        f"<TRNAMT>{amount:f}</TRNAMT><FITID>F{i}</FITID><NAME>Row {i}</NAME></STMTTRN>"
        for i, (day, amount) in enumerate(rows)
    )
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" '
        'OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID>'
        "<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS><STMTRS><CURDEF>EUR</CURDEF>"
        "<BANKACCTFROM><BANKID>1</BANKID><ACCTID>2</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>"
        f"<BANKTRANLIST><DTSTART>20240101</DTSTART><DTEND>20240420</DTEND>{entries}</BANKTRANLIST>"
        "<LEDGERBAL><BALAMT>0</BALAMT><DTASOF>20240420</DTASOF></LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )
    return "s.ofx", text.encode()


FORMATS = {"csv": csv_statement, "qif": qif_statement, "ofx": ofx_statement}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("hostile", [*HOSTILE_DATES, *HOSTILE_AMOUNTS], ids=str)
def test_a_row_past_the_books_bounds_is_its_error_and_is_not_committed(account, owner, import_bytes, fmt, hostile):
    row = (hostile, GOOD[1]) if isinstance(hostile, datetime.date) else (GOOD[0], hostile)
    name, data = FORMATS[fmt]([GOOD, row, OTHER])
    statement = import_bytes(account, data, name=name)
    assert statement.status == ImportStatus.PREVIEWED, statement.error
    refused = [r for r in statement.rows.order_by("line_number") if r.status == "error"]
    expected = "Give a date from 1900-01-01" if isinstance(hostile, datetime.date) else "at most 12 digits"
    assert len(refused) == 1 and expected in refused[0].error, [r.error for r in refused]
    # All or nothing: the commit goes through once the person chooses to skip the refused row.
    statement = statement_import_commit(statement_import=statement, user=owner, ignore=[refused[0].pk])
    assert statement.status == ImportStatus.COMMITTED, statement.error
    stored = sorted(Transaction.objects.filter(account=account).values_list("date", "amount"))
    assert stored == sorted([GOOD, OTHER])
