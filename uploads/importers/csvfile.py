"""CSV statements: column mapping, date formats, decimal comma, signed or debit/credit amounts, any encoding.

A mapping (saved per account as a CsvProfile) has these keys, all optional:
    delimiter ("," ";" "\\t" "|"; default: detected from the first line), has_header (default true),
    skip_rows (lines before the header), encoding (default: detected),
    date, amount, debit, credit, payee, description, bank_id — a header name or a 0-based column index
    (description may be a list, joined with spaces); missing ones are guessed from the header,
    date_format (strptime, e.g. "%d.%m.%Y"; default: guessed from the first rows),
    decimal ("." or ","; default: guessed from the first rows; the other one is the thousands separator).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from itertools import chain, islice
from typing import Any, BinaryIO

from uploads.importers.base import (
    DateReader,
    ImportFileError,
    ParsedRow,
    clip,
    guess_date_format,
    open_text,
    parse_decimal,
)

_SAMPLE_ROWS = 200
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": (
        "date",
        "datum",
        "buchungstag",
        "booking date",
        "transaction date",
        "posted date",
        "posting date",
        "buchungsdatum",
        "date operation",
        "fecha",
    ),
    "amount": ("amount", "betrag", "value", "montant", "importe", "amount (eur)", "betrag (eur)", "umsatz"),
    "debit": ("debit", "debit amount", "withdrawal", "withdrawals", "soll", "money out", "paid out", "out"),
    "credit": ("credit", "credit amount", "deposit", "deposits", "haben", "money in", "paid in", "in"),
    "payee": (
        "payee",
        "name",
        "counterparty",
        "beneficiary",
        "merchant",
        "empfänger",
        "auftraggeber",
        "beguenstigter/zahlungspflichtiger",
        "zahlungsempfänger",
    ),
    "description": (
        "description",
        "memo",
        "details",
        "verwendungszweck",
        "narrative",
        "reference",
        "text",
        "buchungstext",
        "purpose",
    ),
    "bank_id": ("id", "transaction id", "fitid", "reference number", "transaktions-id"),
}
_DECIMAL_COMMA = re.compile(r"\d,\d{1,2}\)?-?$")
_DECIMAL_POINT = re.compile(r"\d\.\d{1,2}\)?-?$")


def _delimiter_of(first_line: str) -> str:
    counts = {candidate: first_line.count(candidate) for candidate in (";", ",", "\t", "|")}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _column_index(reference: Any, header: list[str] | None, field: str) -> int:
    if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit()):
        return int(reference)
    if header is None:
        raise ImportFileError(f"The mapping names column {reference!r} for {field}, but the file has no header row.")
    names = [name.strip().lower() for name in header]
    try:
        return names.index(str(reference).strip().lower())
    except ValueError:
        raise ImportFileError(
            f"Column {reference!r} (for {field}) is not in the header: {', '.join(header)}."
        ) from None


def _guess_column(field: str, header: list[str], taken: set[int]) -> int | None:
    names = [name.strip().lower().lstrip("\ufeff") for name in header]
    for synonym in _SYNONYMS[field]:
        for index, name in enumerate(names):
            if name == synonym and index not in taken:
                return index
    return None


def _guess_decimal(samples: list[str]) -> str:
    comma = sum(1 for sample in samples if _DECIMAL_COMMA.search(sample.strip()))
    point = sum(1 for sample in samples if _DECIMAL_POINT.search(sample.strip()))
    return "," if comma > point else "."


def resolve_mapping(mapping: dict[str, Any], header: list[str] | None, sample: list[list[str]]) -> dict[str, Any]:
    """Column indexes, date format and decimal separator for a file: the mapping's, else guessed."""
    columns: dict[str, Any] = {}
    taken: set[int] = set()
    for field in ("date", "amount", "debit", "credit", "payee", "bank_id"):
        reference = mapping.get(field)
        if reference not in (None, ""):
            columns[field] = _column_index(reference, header, field)
        elif header is not None and not mapping.get("explicit"):
            if field in ("debit", "credit") and "amount" in columns:
                continue
            guessed = _guess_column(field, header, taken)
            if guessed is not None:
                columns[field] = guessed
        if field in columns:
            taken.add(columns[field])
    description = mapping.get("description")
    if description not in (None, ""):
        references = description if isinstance(description, list) else [description]
        columns["description"] = [_column_index(reference, header, "description") for reference in references]
    elif header is not None:
        guessed = _guess_column("description", header, taken)
        columns["description"] = [guessed] if guessed is not None else []
    else:
        columns["description"] = []
    if "date" not in columns:
        raise ImportFileError("Map the date column (no column looks like a date).")
    if "amount" not in columns and not ("debit" in columns or "credit" in columns):
        raise ImportFileError("Map an amount column, or debit and credit columns.")
    date_format = mapping.get("date_format") or guess_date_format(
        [row[columns["date"]] for row in sample if len(row) > columns["date"]]
    )
    if not date_format:
        raise ImportFileError("The dates are in a format that could not be recognised: give date_format.")
    amount_samples = [
        row[index]
        for row in sample
        for field in ("amount", "debit", "credit")
        if (index := columns.get(field)) is not None and len(row) > index and row[index].strip()
    ]
    decimal = mapping.get("decimal") or _guess_decimal(amount_samples)
    if decimal not in (".", ","):
        raise ImportFileError('decimal must be "." or ",".')
    return {**columns, "date_format": date_format, "decimal": decimal}


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index]


def read_head(stream: BinaryIO, mapping: dict[str, Any], rows: int = 10) -> dict[str, Any]:
    """The first rows of a CSV file and the mapping that would be used (for the admin's mapping step)."""
    text, encoding = open_text(stream, mapping.get("encoding"))
    for _ in range(int(mapping.get("skip_rows") or 0)):
        text.readline()
    first_line = text.readline()
    delimiter = mapping.get("delimiter") or _delimiter_of(first_line)
    reader = csv.reader(chain([first_line], text), delimiter=delimiter)
    head = list(islice(reader, rows + 1))
    return {"encoding": encoding, "delimiter": delimiter, "rows": head}


def parse_csv(stream: BinaryIO, mapping: dict[str, Any]) -> Iterator[ParsedRow]:
    text, _encoding = open_text(stream, mapping.get("encoding"))
    line_offset = 0
    for _ in range(int(mapping.get("skip_rows") or 0)):
        text.readline()
        line_offset += 1
    first_line = text.readline()
    if not first_line:
        raise ImportFileError("The file has no rows.")
    delimiter = mapping.get("delimiter") or _delimiter_of(first_line)
    reader = csv.reader(chain([first_line], text), delimiter=delimiter, strict=False)
    header: list[str] | None = None
    try:
        if mapping.get("has_header", True):
            header = next(reader)
        sample = list(islice(reader, _SAMPLE_ROWS))
    except csv.Error as error:
        raise ImportFileError(str(error), reader.line_num + line_offset) from None
    columns = resolve_mapping(mapping, header, sample)
    read_date = DateReader(columns["date_format"])
    decimal = columns["decimal"]
    date_index, amount_index = columns["date"], columns.get("amount")
    debit_index, credit_index = columns.get("debit"), columns.get("credit")
    payee_index, bank_index, description_indexes = columns.get("payee"), columns.get("bank_id"), columns["description"]

    # Line numbers are physical lines of the file (a header is line 1), so people can find the row.
    previous_end = (1 if header is not None else 0) + line_offset
    # The sample was read before the columns were known: replay it, then carry on with the reader.
    records = chain(sample, reader)
    replayed = len(sample)
    while True:
        try:
            row = next(records)
        except StopIteration:
            return
        except csv.Error as error:
            yield ParsedRow(line_number=reader.line_num + line_offset, error=f"unreadable CSV: {error}")
            previous_end = reader.line_num + line_offset
            continue
        if replayed:
            replayed -= 1
            line_number, previous_end = _advance(row, previous_end)
        else:
            # Straight from the reader, which counts the physical lines it has consumed.
            line_number, previous_end = previous_end + 1, reader.line_num + line_offset
        if not any(cell.strip() for cell in row):
            continue
        parsed = ParsedRow(line_number=line_number)
        try:
            parsed.date = read_date(_cell(row, date_index))
            if amount_index is not None:
                parsed.amount = parse_decimal(_cell(row, amount_index), decimal_separator=decimal)
            else:
                debit_text, credit_text = _cell(row, debit_index).strip(), _cell(row, credit_index).strip()
                if not debit_text and not credit_text:
                    raise ValueError("neither a debit nor a credit amount")
                debit = abs(parse_decimal(debit_text, decimal_separator=decimal)) if debit_text else 0
                credit = abs(parse_decimal(credit_text, decimal_separator=decimal)) if credit_text else 0
                parsed.amount = credit - debit  # type: ignore[assignment]
        except ValueError as error:
            parsed.error = str(error)
        parsed.payee = clip(_cell(row, payee_index), 200)
        parsed.description = clip(" ".join(_cell(row, index) for index in description_indexes), 500)
        parsed.bank_id = _cell(row, bank_index).strip()[:255]
        yield parsed


def _advance(row: list[str], previous_end: int) -> tuple[int, int]:
    # A record usually spans one line; quoted fields with newlines span more.
    extra = sum(cell.count("\n") for cell in row)
    line_number = previous_end + 1
    return line_number, line_number + extra
