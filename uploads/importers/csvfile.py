"""CSV statements: column mapping, date formats, decimal comma, signed, debit/credit or direction amounts.

A mapping (saved per account as a CsvProfile) has these keys, all optional — what is missing is detected
(uploads.importers.csvdetect):
    delimiter ("," ";" "\\t" "|"), has_header (default: detected; a first line with a date and an amount is
    data), skip_rows (lines before the header; default: metadata lines before the header are detected and
    reported as skipped), encoding,
    date, amount, debit, credit, direction, payee, description, bank_id — a header name or a 0-based column
    index (description may be a list, joined with spaces),
    direction_out / direction_in (the direction column's values meaning money out / in; defaults cover
    Af/Bij, D/C, DR/CR, Debit/Credit, Soll/Haben, S/H),
    date_format (strptime, e.g. "%d.%m.%Y") or date_order ("dmy", "mdy"; default: settled by the dates of the
    whole column), decimal ("." or ","; default: from the amounts).

Rows after the data that are not transactions (a totals line, the header repeated, a closing balance) are
reported as skipped, not errors; a row without a readable date between data rows is an error. A row dated
"Pending" is not booked yet: skipped, and said so. A line with only text (no date, no amount) after a
transaction continues its description.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from itertools import chain, islice
from typing import IO, Any

from uploads.importers.base import DateReader, ImportFileError, ParsedRow, clip, open_text, parse_decimal
from uploads.importers.csvdetect import (
    DIRECTION_IN,
    DIRECTION_OUT,
    Detected,
    delimiter_of,
    detect_columns,
    header_index,
    looks_like_data,
)
from uploads.importers.dates import ORDERS, DateEvidence, FlexibleDateReader

_SAMPLE_ROWS = 200
_HEAD_LINES = 40
_DECIMAL_FIELDS = ("amount", "debit", "credit")
# What a card statement writes in the date column of a transaction not yet booked.
_PENDING = {"pending", "vorgemerkt", "in behandeling", "en cours"}


def _column_index(reference: Any, header: list[str] | None, field: str) -> int:
    if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit()):
        return int(reference)
    if header is None:
        raise ImportFileError(f"The mapping names column {reference!r} for {field}, but the file has no header row.")
    names = [name.strip().lower().lstrip("\ufeff") for name in header]
    try:
        return names.index(str(reference).strip().lower())
    except ValueError:
        raise ImportFileError(
            f"Column {reference!r} (for {field}) is not in the header: {', '.join(header)}."
        ) from None


def _guess_decimal(samples: list[str]) -> str:
    comma = point = 0
    for sample in samples:
        text = sample.strip().rstrip("-)")
        last_comma, last_point = text.rfind(","), text.rfind(".")
        if last_comma > last_point and 0 < len(text) - last_comma - 1 <= 2:
            comma += 1
        elif last_point > last_comma and 0 < len(text) - last_point - 1 <= 2:
            point += 1
    return "," if comma > point else "."


def resolve_mapping(mapping: dict[str, Any], header: list[str] | None, sample: list[list[str]]) -> Detected:
    """Column indexes for a file: the mapping's where it names them, the rest detected from header and values."""
    raw_decimal = [cell for row in sample for cell in row if cell.strip() and any(ch.isdigit() for ch in cell)]
    decimal = mapping.get("decimal") or _guess_decimal(raw_decimal)
    if decimal not in (".", ","):
        raise ImportFileError('decimal must be "." or ",".')
    detected = Detected() if mapping.get("explicit") else detect_columns(header, sample, decimal)
    columns = detected.columns
    given = False
    for field in ("date", "amount", "debit", "credit", "direction", "payee", "bank_id"):
        reference = mapping.get(field)
        if reference not in (None, ""):
            if not given and field in ("amount", "debit", "credit"):
                given = True
                for other in ("amount", "debit", "credit", "direction"):
                    columns.pop(other, None)
            columns[field] = _column_index(reference, header, field)
            detected.confidence[field if field in ("date",) else "amount"] = 1.0
    description = mapping.get("description")
    if description not in (None, ""):
        references = description if isinstance(description, list) else [description]
        columns["description"] = [_column_index(reference, header, "description") for reference in references]
    columns.setdefault("description", [])
    if "date" not in columns:
        names = ", ".join(header) if header else "no header"
        raise ImportFileError(f"No column holds dates: map the date column (columns: {names}).")
    if "amount" not in columns and not ("debit" in columns or "credit" in columns):
        raise ImportFileError("Map an amount column, or debit and credit columns.")
    if header is None and not given and "amount" in columns and "direction" not in columns:
        # No header names the column and no value carries a sign: money out and money in cannot be told apart
        # (a headerless card statement lists charges unsigned), so the person says which column is what.
        signs = [_cell(row, columns["amount"]).strip() for row in sample]
        if not any(value.startswith(("-", "+", "(")) or value.endswith("-") for value in signs):
            raise ImportFileError(
                "The file has no header row and its amounts carry no sign: map the amount column "
                "(or the debit and credit columns, or a direction column)."
            )
    amount_samples = [
        row[index]
        for row in sample
        for field in _DECIMAL_FIELDS
        if (index := columns.get(field)) is not None and len(row) > index and row[index].strip()
    ]
    columns["decimal"] = mapping.get("decimal") or _guess_decimal(amount_samples)
    return detected


def read_head(stream: IO[bytes], mapping: dict[str, Any], rows: int = 10) -> dict[str, Any]:
    """The first rows of a CSV file and what was detected (for the admin's mapping step to pre-select)."""
    text, encoding = open_text(stream, mapping.get("encoding"))
    for _ in range(int(mapping.get("skip_rows") or 0)):
        text.readline()
    lines = list(islice(text, _HEAD_LINES + _SAMPLE_ROWS))
    delimiter = mapping.get("delimiter") or delimiter_of(lines[:_HEAD_LINES])[0]
    parsed = list(csv.reader(lines, delimiter=delimiter))
    start = _header_position(mapping, parsed)
    header = parsed[start] if start is not None else None
    body = parsed[(start + 1) if start is not None else 0 :]
    try:
        detected = resolve_mapping({**mapping, "explicit": False}, header, _data_rows(header, body))
    except ImportFileError as error:
        detected = Detected(notes=[str(error)])
    names = header or [str(index) for index in range(max((len(row) for row in body[:rows]), default=0))]
    selected = {
        field: (names[value] if isinstance(value, int) and value < len(names) else value)
        for field, value in detected.columns.items()
        if field != "decimal"
    }
    selected["description"] = [names[index] for index in detected.columns.get("description", []) if index < len(names)]
    return {
        "encoding": encoding,
        "delimiter": delimiter,
        "header_row": start,
        "rows": ([header] if header else []) + body[:rows],
        "detected": selected,
        "decimal": detected.columns.get("decimal", "."),
        "confidence": detected.confidence,
        "overall": detected.overall,
        "notes": detected.notes,
    }


def _header_position(mapping: dict[str, Any], rows: list[list[str]]) -> int | None:
    if mapping.get("has_header") is False:
        return None
    if mapping.get("skip_rows") not in (None, "") or mapping.get("has_header") is True:
        # The person said where the header is: the first non-empty line after the skipped ones.
        return next((index for index, row in enumerate(rows) if any(cell.strip() for cell in row)), None)
    found = header_index(rows)
    if found is not None:
        return found
    first = next((index for index, row in enumerate(rows) if any(cell.strip() for cell in row)), None)
    # A first row with a date and an amount is a transaction, not a header: the file has none.
    return None if first is None or looks_like_data(rows[first]) else first


def _data_rows(header: list[str] | None, rows: list[list[str]]) -> list[list[str]]:
    """Rows to detect the mapping from: not blank, not the header repeated."""
    normal = [cell.strip().lower() for cell in header] if header else None
    return [row for row in rows if any(cell.strip() for cell in row) and [c.strip().lower() for c in row] != normal]


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index]


def _date_reader(
    mapping: dict[str, Any], values: list[str], more: Callable[[], DateEvidence] | None
) -> Callable[[str], date]:
    if mapping.get("date_format"):
        return DateReader(str(mapping["date_format"]))
    order = mapping.get("date_order")
    if order not in (None, "", *ORDERS):
        raise ImportFileError(f"date_order must be one of {', '.join(ORDERS)}.")
    if order:
        return FlexibleDateReader(order)
    evidence = DateEvidence().add_all(values)
    if not evidence.settled and more is not None:
        # Nothing in the first rows settles day/month (all days ≤ 12): read the rest of the column.
        evidence = more()
    if evidence.conflicting:
        raise ImportFileError(
            "The dates mix day-first and month-first forms (both 13/01 and 01/13 appear): give date_order or date_format."
        )
    return FlexibleDateReader(evidence.order())


def parse_csv(stream: IO[bytes], mapping: dict[str, Any]) -> Iterator[ParsedRow]:
    text, encoding = open_text(stream, mapping.get("encoding"))
    line_offset = 0
    for _ in range(int(mapping.get("skip_rows") or 0)):
        text.readline()
        line_offset += 1
    head_lines = list(islice(text, _HEAD_LINES))
    if not any(line.strip() for line in head_lines):
        raise ImportFileError("The file has no rows.")
    delimiter = mapping.get("delimiter") or delimiter_of(head_lines)[0]
    reader = csv.reader(chain(head_lines, text), delimiter=delimiter, strict=False)
    # Each record with the physical line it starts on (a header is line 1 unless lines precede it).
    sample: list[tuple[int, list[str]]] = []
    previous_end = line_offset
    try:
        for row in reader:
            sample.append((previous_end + 1, row))
            previous_end = reader.line_num + line_offset
            if len(sample) >= _SAMPLE_ROWS + _HEAD_LINES:
                break
    except csv.Error as error:
        raise ImportFileError(str(error), reader.line_num + line_offset) from None
    start = _header_position(mapping, [row for _line, row in sample])
    header = sample[start][1] if start is not None else None
    for line_number, row in sample[: start or 0]:
        if any(cell.strip() for cell in row):
            yield ParsedRow(line_number=line_number, skip="a line before the header")
    body = sample[(start + 1) if start is not None else 0 :]
    detected = resolve_mapping(mapping, header, _data_rows(header, [row for _line, row in body]))
    columns = detected.columns
    date_index = columns["date"]

    def whole_column() -> DateEvidence:
        # A second reading of the file; the first one's reader continues from the saved position afterwards.
        evidence = DateEvidence().add_all(_cell(row, date_index) for _line, row in body)
        try:
            position = stream.tell()
        except (OSError, AttributeError, ValueError):
            return evidence
        try:
            stream.seek(0)
            again = csv.reader(open_text(stream, encoding)[0], delimiter=delimiter, strict=False)
            evidence = DateEvidence().add_all(_cell(row, date_index) for row in islice(again, line_offset, None))
        except csv.Error:
            pass
        finally:
            stream.seek(position)
        return evidence

    read_date = _date_reader(
        mapping,
        [_cell(row, date_index) for _line, row in body],
        whole_column if len(sample) >= _SAMPLE_ROWS + _HEAD_LINES else None,
    )
    decimal = columns["decimal"]
    amount_index, direction_index = columns.get("amount"), columns.get("direction")
    debit_index, credit_index = columns.get("debit"), columns.get("credit")
    payee_index, bank_index, description_indexes = columns.get("payee"), columns.get("bank_id"), columns["description"]
    out_values = {value.strip().lower() for value in mapping.get("direction_out") or DIRECTION_OUT}
    in_values = {value.strip().lower() for value in mapping.get("direction_in") or DIRECTION_IN}
    normal_header = [cell.strip().lower() for cell in header] if header else None
    # A direction column that only ever says CR (a card's payments) or DR means the other side when blank; a
    # lone one-letter mark ("C") may be a cleared flag, so that stays an error.
    marked = {_cell(row, direction_index).strip().lower() for _line, row in body} - {""}
    blank_is_out = bool(marked) and marked <= {"cr", "credit"} and marked <= in_values
    blank_is_in = bool(marked) and marked <= {"dr", "debit"} and marked <= out_values

    def build(line_number: int, row: list[str]) -> ParsedRow:
        parsed = ParsedRow(line_number=line_number)
        try:
            parsed.date = read_date(_cell(row, date_index))
            if amount_index is not None:
                amount = parse_decimal(_cell(row, amount_index), decimal_separator=decimal)
                if direction_index is not None:
                    sign = _cell(row, direction_index).strip().lower()
                    if sign in out_values or (not sign and blank_is_out):
                        amount = -abs(amount)
                    elif sign in in_values or (not sign and blank_is_in):
                        amount = abs(amount)
                    else:
                        raise ValueError(f"direction {sign!r} is neither money out nor money in")
                parsed.amount = amount
            else:
                debit_text, credit_text = _cell(row, debit_index).strip(), _cell(row, credit_index).strip()
                if not debit_text and not credit_text:
                    raise ValueError("neither a debit nor a credit amount")
                debit = abs(parse_decimal(debit_text, decimal_separator=decimal)) if debit_text else Decimal(0)
                credit = abs(parse_decimal(credit_text, decimal_separator=decimal)) if credit_text else Decimal(0)
                parsed.amount = credit - debit
        except ValueError as error:
            parsed.error = str(error)
        parsed.payee = clip(_cell(row, payee_index), 200)
        parsed.description = clip(" ".join(_cell(row, index) for index in description_indexes), 500)
        parsed.bank_id = _cell(row, bank_index).strip()[:255]
        return parsed

    # Rows whose date cell holds no date at all are held back: followed by more data they are errors, at the
    # end of the file they are a footer (totals, closing balance) and reported as skipped.
    held: list[ParsedRow] = []
    # The last data row waits for the next line: one with only text (no date, no amount) continues its
    # description (OCBC writes the merchant on the line below), rather than being an error row of its own.
    kept: list[ParsedRow] = []
    amount_indexes = [index for index in (amount_index, debit_index, credit_index) if index is not None]

    def continues(row: list[str]) -> bool:
        return not _cell(row, date_index).strip() and not any(_cell(row, index).strip() for index in amount_indexes)

    replay = iter(body)
    while True:
        record = next(replay, None)
        if record is not None:
            line_number, row = record
        else:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                yield from kept
                kept = []
                yield ParsedRow(line_number=reader.line_num + line_offset, error=f"unreadable CSV: {error}")
                previous_end = reader.line_num + line_offset
                continue
            # Straight from the reader, which counts the physical lines it has consumed.
            line_number, previous_end = previous_end + 1, reader.line_num + line_offset
        if not any(cell.strip() for cell in row):
            continue
        if kept and not held and continues(row):
            more = " ".join(cell for cell in row if cell.strip())
            kept[0].description = clip(f"{kept[0].description} {more}", 500)
            continue
        if (
            normal_header is not None
            and row[0].strip().lower() == normal_header[0]
            and [cell.strip().lower() for cell in row] == normal_header
        ):
            yield from kept
            kept = []
            yield ParsedRow(line_number=line_number, skip="the header repeated")
            continue
        if _cell(row, date_index).strip().lower() in _PENDING:
            yield from kept
            kept = []
            yield ParsedRow(line_number=line_number, skip="a pending transaction, not yet booked")
            continue
        parsed = build(line_number, row)
        if parsed.error and not DateEvidence().add_all([_cell(row, date_index)]).dates:
            held.append(parsed)
            continue
        yield from kept
        yield from held
        held, kept = [], [parsed]
    yield from kept
    for trailing in held:
        trailing.error, trailing.skip = "", "after the data: not a transaction (a totals or footer line)"
        trailing.date = trailing.amount = None
        yield trailing
