"""QIF (Quicken Interchange Format): one field a line (D date, T/U amount, P payee, M memo, N number), ^ ends a record."""

from __future__ import annotations

from collections.abc import Iterator
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

_SAMPLE = 200


def _normalise_date(text: str) -> str:
    # Quicken writes 3/15/2024, 3/15/99 and, from 2000 on, 3/15'24; it pads with spaces: " 3/ 5'24".
    text = text.strip().replace(" ", "0")
    if "'" in text:
        head, _, year = text.partition("'")
        text = f"{head}/{2000 + int(year)}" if year.isdigit() and len(year) <= 2 else text.replace("'", "/")
    return text


def parse_qif(stream: BinaryIO, mapping: dict[str, Any]) -> Iterator[ParsedRow]:
    text, _encoding = open_text(stream, mapping.get("encoding"))
    records: list[tuple[int, dict[str, str]]] = []
    read_date: DateReader | None = None
    decimal = mapping.get("decimal") or "."

    def build(line_number: int, fields: dict[str, str]) -> ParsedRow:
        assert read_date is not None
        row = ParsedRow(line_number=line_number)
        try:
            row.date = read_date(_normalise_date(fields.get("D", "")))
            amount = fields.get("T") or fields.get("U")
            if amount is None:
                raise ValueError("no T (amount) line")
            row.amount = parse_decimal(amount, decimal_separator=decimal)
        except ValueError as error:
            row.error = str(error)
        row.payee = clip(fields.get("P", ""), 200)
        row.description = clip(fields.get("M", ""), 500)
        row.bank_id = ""
        return row

    fields: dict[str, str] = {}
    start = 0
    seen_type = False
    for line_number, line in enumerate(text, start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        code, value = line[0], line[1:]
        if code == "!":
            seen_type = True
            fields, start = {}, 0
            continue
        if not seen_type:
            raise ImportFileError("A QIF file starts with a !Type: line.", line_number)
        if code == "^":
            if fields:
                if read_date is None:
                    records.append((start, fields))
                    if len(records) >= _SAMPLE:
                        read_date = _reader(mapping, records)
                        yield from (build(number, record) for number, record in records)
                        records = []
                else:
                    yield build(start, fields)
            fields, start = {}, 0
            continue
        if not start:
            start = line_number
        if code not in fields:  # split lines (S, E, $) repeat; the first value of a code wins
            fields[code] = value
    if read_date is None:
        if not records:
            if fields:
                raise ImportFileError("The last record does not end with ^.", start)
            return
        read_date = _reader(mapping, records)
        yield from (build(number, record) for number, record in records)
    if fields:
        yield ParsedRow(line_number=start, error="the record does not end with ^")


def _reader(mapping: dict[str, Any], records: list[tuple[int, dict[str, str]]]) -> DateReader:
    fmt = mapping.get("date_format") or guess_date_format(
        [_normalise_date(fields.get("D", "")) for _n, fields in records]
    )
    if not fmt:
        raise ImportFileError("The QIF dates are in a format that could not be recognised: give date_format.")
    return DateReader(fmt)
