"""QIF (Quicken Interchange Format): one field a line (D date, T/U amount, P payee, M memo, N number, L category,
S/E/$ split category, memo and amount), ^ ends a record, !Type:… starts a section.

Only transaction sections (Bank, Cash, CCard, Oth A, Oth L) become rows. Category, class, memorised,
security and price lists, account lists and !Option/!Clear lines are skipped; investment records are
reported as skipped rows (their cash side needs an investment account). An opening-balance record (payee
"Opening Balance", category the account itself in brackets) is a starting balance, not a transaction:
skipped, and reported.

Dates are read in two passes: the first collects every date so the day/month order is decided by the whole
file (the mapping's date_order "mdy"/"dmy", or a strptime date_format, overrides it); the second yields rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import IO, Any

from uploads.importers.base import DateReader, ImportFileError, ParsedRow, clip, open_text, parse_decimal
from uploads.importers.dates import ORDERS, DateEvidence, FlexibleDateReader

_TRANSACTION_TYPES = {"bank", "cash", "ccard", "oth a", "oth l", "invoice"}
_INVESTMENT_TYPES = {"invst", "port"}
_DECIMAL_COMMA = re.compile(r"\d,\d{1,2}$")
_DECIMAL_POINT = re.compile(r"\d\.\d{1,2}$")

Record = tuple[int, dict[str, str], str, str]  # start line, fields (first value of each code), section, account


def _records(stream: IO[bytes], encoding: str | None) -> Iterator[Record]:
    text, _encoding = open_text(stream, encoding)
    fields: dict[str, str] = {}
    splits: list[str] = []
    start = 0
    section = ""
    account = ""
    in_account_list = False
    for line_number, line in enumerate(text, start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        code, value = line[0], line[1:]
        if code == "!":
            header = value.strip().lower()
            fields, splits, start = {}, [], 0
            if header.startswith("type:"):
                section = header[5:].strip()
                in_account_list = False
            elif header == "account":
                section, in_account_list = "account", True
            else:  # !Option:AutoSwitch, !Clear:AutoSwitch and the like change nothing we read
                section = section if section != "account" else ""
            continue
        if code == "^":
            if in_account_list and fields:
                account = fields.get("N", "").strip()
            elif fields:
                if "$" in fields and "T" not in fields and "U" not in fields:
                    fields["$sum"] = "|".join(splits)
                yield start, fields, section, account
            fields, splits, start = {}, [], 0
            continue
        if not section and code not in "#":
            raise ImportFileError("A QIF file starts with a !Type: line.", line_number)
        if code == "#" or not section:
            continue
        if not start:
            start = line_number
        if code == "$":
            splits.append(value)
        if code not in fields:  # split lines (S, E, $) repeat; the first value of a code wins
            fields[code] = value
    if fields:
        yield start, {**fields, "^missing": "1"}, section, account


def _decimal_of(amounts: list[str]) -> str:
    comma = sum(1 for amount in amounts if _DECIMAL_COMMA.search(amount.strip()))
    point = sum(1 for amount in amounts if _DECIMAL_POINT.search(amount.strip()))
    return "," if comma > point else "."


def _date_reader(mapping: dict[str, Any], evidence: DateEvidence) -> Callable[[str], date]:
    if mapping.get("date_format"):
        return DateReader(str(mapping["date_format"]))
    order = mapping.get("date_order")
    if order not in (None, "", *ORDERS):
        raise ImportFileError(f"date_order must be one of {', '.join(ORDERS)}.")
    if evidence.conflicting and not order:
        raise ImportFileError(
            "The QIF dates mix day-first and month-first forms: give date_order (mdy or dmy) or date_format."
        )
    return FlexibleDateReader(order or evidence.order())


def _is_opening_balance(fields: dict[str, str]) -> bool:
    category = fields.get("L", "").strip()
    return fields.get("P", "").strip().lower() == "opening balance" and category.startswith("[")


def parse_qif(stream: IO[bytes], mapping: dict[str, Any]) -> Iterator[ParsedRow]:
    encoding = mapping.get("encoding")
    evidence = DateEvidence()
    amounts: list[str] = []
    accounts: list[str] = []
    for _start, fields, section, account in _records(stream, encoding):
        if section in _TRANSACTION_TYPES:
            evidence.add(fields.get("D", ""))
            if len(amounts) < 500:
                amounts.append(fields.get("T") or fields.get("U") or "")
            if account not in accounts:
                accounts.append(account)
    if len(accounts) > 1:
        raise ImportFileError(
            f"The QIF file holds transactions of several accounts ({', '.join(name or '?' for name in accounts)}): "
            "export one account a file."
        )
    read_date = _date_reader(mapping, evidence)
    decimal = mapping.get("decimal") or _decimal_of(amounts)
    stream.seek(0)
    for start, fields, section, _account in _records(stream, encoding):
        if section in _INVESTMENT_TYPES:
            yield ParsedRow(line_number=start, skip="an investment transaction (import it into an investment account)")
            continue
        if section not in _TRANSACTION_TYPES:
            continue
        row = ParsedRow(line_number=start)
        row.payee = clip(fields.get("P", ""), 200)
        row.description = clip(fields.get("M", ""), 500)
        if _is_opening_balance(fields):
            row.skip = "an opening-balance record (set the account's opening balance instead)"
            yield row
            continue
        try:
            if "^missing" in fields:
                raise ValueError("the record does not end with ^")
            row.date = read_date(fields.get("D", ""))
            amount = fields.get("T") or fields.get("U")
            if amount is not None:
                row.amount = parse_decimal(amount, decimal_separator=decimal)
            elif "$sum" in fields:
                parts = [parse_decimal(part, decimal_separator=decimal) for part in fields["$sum"].split("|")]
                row.amount = sum(parts[1:], parts[0])
            else:
                raise ValueError("no T (amount) line")
        except ValueError as error:
            row.error = str(error) or "no date"
        yield row
