"""Automatic CSV mapping: delimiter, header row, and which column is what, from the header and the values.

Each decision carries a confidence (1.0: the header names it and the values agree; lower: the values alone
decide, or a default had to be taken) and a note a person can read, so the wizard can pre-select what was
detected and say how sure it is.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from typing import Any

from uploads.importers.base import parse_decimal
from uploads.importers.dates import DateEvidence

DELIMITERS = (",", ";", "\t", "|")

DIRECTION_OUT = ("debit", "dr", "d", "af", "soll", "s", "out", "withdrawal", "-", "belastung", "lastschrift", "débit")
DIRECTION_IN = ("credit", "cr", "c", "bij", "haben", "h", "in", "deposit", "+", "gutschrift", "crédit")

_DATE_NAMES = (
    "date",
    "datum",
    "buchungstag",
    "booking date",
    "transaction date",
    "posted date",
    "posting date",
    "buchungsdatum",
    "date operation",
    "date opération",
    "fecha",
    "trans. date",
    "transaction_date",
    "booked",
)
_AMOUNT_NAMES = (
    "amount",
    "betrag",
    "value",
    "montant",
    "importe",
    "bedrag",
    "umsatz",
    "transaction amount",
    "amount (eur)",
    "betrag (eur)",
    "bedrag (eur)",
    "amt",
)
_DEBIT_NAMES = (
    "debit",
    "debit amount",
    "withdrawal",
    "withdrawals",
    "withdrawal amount",
    "soll",
    "money out",
    "paid out",
    "out",
    "débit",
    "ausgang",
    "ausgabe",
    "charge",
)
_CREDIT_NAMES = (
    "credit",
    "credit amount",
    "deposit",
    "deposits",
    "deposit amount",
    "haben",
    "money in",
    "paid in",
    "in",
    "crédit",
    "eingang",
    "einnahme",
)
_DIRECTION_NAMES = (
    "af bij",
    "af/bij",
    "debit/credit",
    "credit/debit",
    "d/c",
    "dr/cr",
    "cr/dr",
    "soll/haben",
    "transaction type",
    "direction",
    "sign",
    "type",
)
_PAYEE_NAMES = (
    "payee",
    "name",
    "merchant",
    "merchant name",
    "partner name",
    "counterparty",
    "counterparty name",
    "beneficiary",
    "empfänger",
    "auftraggeber",
    "auftraggeber/empfänger",
    "beguenstigter/zahlungspflichtiger",
    "zahlungsempfänger",
    "empfänger/zahlungspflichtiger",
    "naam / omschrijving",
    "name / description",
    "payee name",
    "to",
    "naam tegenpartij",
    "handelaar",
)
_DESCRIPTION_NAMES = (
    "description",
    "memo",
    "notes",
    "note",
    "details",
    "verwendungszweck",
    "narrative",
    "reference",
    "payment reference",
    "text",
    "buchungstext",
    "purpose",
    "desc",
    "reason",
    "mededelingen",
    "omschrijving",
    "libellé",
    "concepto",
    "original description",
    "description 1",
    "description 2",
    "description 3",
    "transaktionsbeschreibung",
    "toelichting",
)
_BANK_ID_NAMES = (
    "transaction id",
    "fitid",
    "reference number",
    "transaktions-id",
    "n° de transaction",
    "transaction reference",
    "id",
)
# Numbers that are not the transaction's amount.
_NOT_AMOUNT = re.compile(
    r"balance|saldo|kontostand|solde|bilanz|running|rate|kurs|original|converted|fee|tax|refund|"
    r"shipping|gift|number|^#$|^no\.?$|^nr\.?$|\bid\b|iban|account|konto|card|check|cheque|time|zeit",
)
# Numbered description columns, all kept: "VWZ 1", "Verwendungszweck 2", Rabobank's "Omschrijving-1".
_VWZ = re.compile(r"^(?:vwz|verwendungszweck|omschrijving)[\s-]*\d+$")


def _name(header: str) -> str:
    return " ".join(header.strip().lstrip("\ufeff").strip('"').lower().split())


def is_amount(text: str, decimal: str = ".") -> bool:
    try:
        parse_decimal(text, decimal_separator=decimal)
    except ValueError:
        return False
    return True


def delimiter_of(lines: list[str]) -> tuple[str, float]:
    """The delimiter that splits most lines into the same number (> 1) of fields."""
    best, best_score = ",", 0.0
    for candidate in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=candidate) if any(cell.strip() for cell in row)]
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        if modal < 2:
            continue
        score = counts.count(modal) / len(counts) + modal / 1000
        if score > best_score:
            best, best_score = candidate, score
    return best, min(best_score, 1.0)


def looks_like_data(row: list[str]) -> bool:
    evidence = DateEvidence().add_all(row)
    return evidence.dates >= 1 and any(is_amount(cell) or is_amount(cell, ",") for cell in row if cell.strip())


def _names_date_and_amount(row: list[str]) -> bool:
    names = [_name(cell) for cell in row]
    return any(name in _DATE_NAMES or "date" in name or "datum" in name for name in names) and any(
        name in _AMOUNT_NAMES or "amount" in name or "betrag" in name for name in names
    )


def header_index(rows: list[list[str]]) -> int | None:
    """The header: the first row of text cells that data rows (a date and an amount) follow; or, before it, a
    row naming a date and an amount column with data further on (a card statement lists its pending rows,
    dated "Pending", between the header and the booked ones)."""
    for index, row in enumerate(rows[:40]):
        cells = [cell for cell in row if cell.strip()]
        if len(cells) < 2 or DateEvidence().add_all(cells).dates:
            continue
        # As wide as the data it names: "Statement date,Amount due" above a wider table is not its header.
        data = next((other for other in rows[index + 1 : 40] if looks_like_data(other)), None)
        if _names_date_and_amount(cells) and data is not None and len(data) <= len(row):
            return index
        following = next((other for other in rows[index + 1 :] if any(cell.strip() for cell in other)), None)
        if following is not None and looks_like_data(following) and len(following) >= len(cells):
            return index
    return None


@dataclass
class Detected:
    """Columns (0-based) and settings for a file, with how each was decided."""

    columns: dict[str, Any] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def overall(self) -> float:
        return min(self.confidence.values()) if self.confidence else 0.0


def _pick(names: list[str], vocabulary: tuple[str, ...], candidates: set[int]) -> int | None:
    for synonym in vocabulary:
        for index, name in enumerate(names):
            if index in candidates and name == synonym:
                return index
    return None


def _column_values(rows: list[list[str]], index: int) -> list[str]:
    return [row[index].strip() for row in rows if len(row) > index and row[index].strip()]


def detect_columns(header: list[str] | None, rows: list[list[str]], decimal: str) -> Detected:
    """Which column is the date, the amount (or debit and credit, or amount and direction), payee, description."""
    found = Detected()
    width = max([len(header or [])] + [len(row) for row in rows[:200]])
    names = [_name(header[index]) if header and index < len(header) else "" for index in range(width)]
    values = {index: _column_values(rows, index) for index in range(width)}
    evidence = {index: DateEvidence().add_all(values[index]) for index in range(width)}
    date_columns = {index for index in range(width) if values[index] and evidence[index].share >= 0.6}
    date = _pick(names, _DATE_NAMES, date_columns)
    if date is None:
        partial = [i for i in sorted(date_columns) if "date" in names[i] or "datum" in names[i]]
        date = partial[0] if partial else (min(date_columns) if date_columns else None)
        confidence = 0.8 if partial else 0.6
    else:
        confidence = 1.0
    if date is not None:
        found.columns["date"] = date
        found.confidence["date"] = confidence
        found.notes.append(f"date: column {header[date] if header else date}")
    # Mostly amounts; a column the header names as the amount may have more bad cells (errors, not a reason
    # to look elsewhere).
    numeric = {
        index
        for index in range(width)
        if index not in date_columns
        and values[index]
        and sum(is_amount(value, decimal) for value in values[index])
        >= (0.5 if names[index] in _AMOUNT_NAMES else 0.8) * len(values[index])
        and not _NOT_AMOUNT.search(names[index])
        and not all(value.isdigit() and len(value) >= 8 for value in values[index])
    }
    # Debit/credit columns are often empty on half the rows: a header match is enough with amounts in the rest.
    mostly_numeric = {
        index
        for index in range(width)
        if index not in date_columns
        and all(is_amount(value, decimal) for value in values[index])
        and not _NOT_AMOUNT.search(names[index])
    }
    debit, credit = _pick(names, _DEBIT_NAMES, mostly_numeric), _pick(names, _CREDIT_NAMES, mostly_numeric)
    if debit is None or credit is None:
        debit = next((i for i in sorted(mostly_numeric) if "debit" in names[i] or "withdraw" in names[i]), debit)
        credit = next((i for i in sorted(mostly_numeric) if "credit" in names[i] or "deposit" in names[i]), credit)
    amount = _pick(names, _AMOUNT_NAMES, numeric)
    if amount is None:
        amount = next(
            (i for i in sorted(numeric) if any(word in names[i] for word in ("amount", "betrag", "montant"))), None
        )
    taken: set[int] = {date} if date is not None else set()
    if debit is not None and credit is not None and debit != credit and (values[debit] or values[credit]):
        found.columns.update(debit=debit, credit=credit)
        found.confidence["amount"] = 1.0
        found.notes.append("amount: debit and credit columns")
        taken |= {debit, credit}
    elif amount is not None or numeric:
        confidence = 1.0 if amount is not None else 0.6
        if amount is None:
            amount = min(numeric)
        found.columns["amount"] = amount
        taken.add(amount)
        direction = _direction_column(names, values, width, taken)
        signed = any(value.lstrip().startswith("-") or value.rstrip().endswith("-") for value in values[amount])
        if direction is not None and not signed:
            found.columns["direction"] = direction
            taken.add(direction)
            found.notes.append(f"amount: column {_label(header, amount)}, sign from column {_label(header, direction)}")
        else:
            found.notes.append(f"amount: column {_label(header, amount)}")
        found.confidence["amount"] = confidence
    payee = _pick(names, _PAYEE_NAMES, set(range(width)) - taken)
    if payee is None:
        payee = next(
            (
                i
                for i in range(width)
                if i not in taken
                and "account" not in names[i]
                and any(word in names[i] for word in ("payee", "merchant", "empfänger", "partner", "beneficiary"))
            ),
            None,
        )
    if payee is not None:
        found.columns["payee"] = payee
        taken.add(payee)
    descriptions = [i for i in range(width) if i not in taken and _VWZ.match(names[i])]
    if not descriptions:
        first = _pick(names, _DESCRIPTION_NAMES, set(range(width)) - taken)
        descriptions = [first] if first is not None else []
    if payee is None and descriptions and not _VWZ.match(names[descriptions[0]]):
        # No payee column: the description is what identifies the other party.
        found.columns["payee"] = descriptions.pop(0)
    if "payee" not in found.columns and not descriptions and (header is None or found.confidence.get("date", 0) < 0.8):
        # Nothing names the text columns (no header, or a first line that names not even the date, like an
        # account line): the first is the payee, the rest the description, so no text is lost.
        texts = [
            index
            for index in range(width)
            if index not in taken
            and index not in date_columns
            and values[index]
            and not all(is_amount(value, decimal) for value in values[index])
        ]
        if texts:
            found.columns["payee"], descriptions = texts[0], texts[1:]
    found.columns["description"] = descriptions
    bank_id = _pick(names, _BANK_ID_NAMES, set(range(width)) - taken - set(descriptions))
    if bank_id is not None and len(set(values[bank_id])) == len(values[bank_id]):
        found.columns["bank_id"] = bank_id
    return found


def _label(header: list[str] | None, index: int) -> str:
    return repr(header[index]) if header and index < len(header) else str(index)


def _direction_column(names: list[str], values: dict[int, list[str]], width: int, taken: set[int]) -> int | None:
    vocabulary = {*DIRECTION_OUT, *DIRECTION_IN}
    for index in range(width):
        column = values[index]
        if index in taken or not column:
            continue
        known = sum(value.lower() in vocabulary for value in column)
        if known == len(column) and (names[index] in _DIRECTION_NAMES or len(set(column)) <= 2):
            return index
    return None
