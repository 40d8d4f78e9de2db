"""Exchange-rate CSV readers: the ECB historical layout and a simple date,base,quote,rate file."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation

from budgets.services.rates import RateRow

SIMPLE_HEADER = ["date", "base", "quote", "rate"]
MISSING = {"", "N/A", "NA", "-"}


class RateFileError(ValueError):
    """The file is not a rate file this reader knows, or a line is malformed (message names the line)."""


def _date(text: str, line: int) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise RateFileError(f"line {line}: {text!r} is not a date such as 2024-03-01.") from None


def _rate(text: str, line: int) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise RateFileError(f"line {line}: {text!r} is not a rate.") from None
    if not value.is_finite() or value <= 0:
        raise RateFileError(f"line {line}: a rate must be a positive number, got {text!r}.")
    return value


def _code(text: str, line: int) -> str:
    code = text.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise RateFileError(f"line {line}: {text!r} is not a currency code.")
    return code


def read_rates(lines: Iterable[str]) -> Iterator[RateRow]:
    """Rows of either format, detected from the header. Streams: memory stays flat for any file size."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise RateFileError("the file is empty.")
    names = [name.strip() for name in header]
    if [name.lower() for name in names] == SIMPLE_HEADER:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            if len(row) != 4:
                raise RateFileError(f"line {line}: expected date,base,quote,rate.")
            yield RateRow(
                date=_date(row[0], line), base=_code(row[1], line), quote=_code(row[2], line), rate=_rate(row[3], line)
            )
        return
    if names and names[0].lower() == "date":
        # ECB: Date,USD,JPY,...,(trailing empty column) — each cell is the rate for 1 EUR.
        currencies = [(index, _code(name, 1)) for index, name in enumerate(names) if index > 0 and name]
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            day = _date(row[0], line)
            for index, currency in currencies:
                cell = row[index].strip() if index < len(row) else ""
                if cell.upper() in MISSING:
                    continue
                yield RateRow(date=day, base="EUR", quote=currency, rate=_rate(cell, line))
        return
    raise RateFileError("unknown header: expected the ECB layout (Date,USD,...) or date,base,quote,rate.")
