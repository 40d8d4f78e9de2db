"""Statement parsers, one module per format, and the registry that declares each format once: its name and
label, how it is recognised from its bytes, its parser and the mapping options the parser reads (with the
values each takes). Upload, detection, the API's, admin's and command's format choices and the README's
formats table derive from FORMATS (machinery in uploads.importers.registry): adding a format is one
StatementFormat below, a parser module and a fixture under tests/uploads/corpus/.

Each parser is a generator of ParsedRow with its line number: streaming, so memory stays bounded whatever the
file size (OFX excepted: ofxtools reads the whole file, which IMPORT_MAX_BYTES bounds).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from uploads import sniffing
from uploads.importers.base import ImportFileError, ParsedRow
from uploads.importers.dates import ORDERS
from uploads.importers.registry import (
    FormatError,
    Option,
    Registry,
    StatementFormat,
    is_bool,
    is_column,
    is_columns,
    is_count,
    is_encoding,
    is_words,
    one_of,
)

_TEXT_OPTIONS = (
    Option("encoding", "the file's text encoding (default: detected)", "a Python codec name", is_encoding),
    Option("decimal", "the decimal separator (default: from the amounts)", '"." or ","', one_of(".", ",")),
    Option(
        "date_format",
        "the dates' strptime format, e.g. `%d.%m.%Y`",
        "a strptime format",
        lambda value: isinstance(value, str) and "%" in value,
    ),
    Option(
        "date_order",
        "day/month order (default: settled by all the file's dates)",
        " or ".join(f'"{order}"' for order in ORDERS),
        one_of(*ORDERS),
    ),
)


def _column(name: str, means: str) -> Option:
    return Option(name, means, "a header name or a 0-based column index", is_column)


_CSV_OPTIONS = (
    *_TEXT_OPTIONS,
    Option(
        "delimiter",
        "the field delimiter (default: detected)",
        "a single character",
        lambda value: isinstance(value, str) and len(value) == 1,
    ),
    Option("has_header", "whether a header row names the columns (default: detected)", "true or false", is_bool),
    Option("skip_rows", "lines before the header (default: detected and reported)", "a whole number", is_count),
    _column("date", "the date column"),
    _column("amount", "the signed amount column"),
    _column("debit", "the money-out column"),
    _column("credit", "the money-in column"),
    _column("direction", "the column saying money out or in"),
    Option(
        "direction_out",
        "the direction column's values meaning money out (default: Af, D, DR, Debit, Soll, S…)",
        "a list of words",
        is_words,
    ),
    Option("direction_in", "the direction column's values meaning money in", "a list of words", is_words),
    _column("payee", "the payee column"),
    Option(
        "description",
        "the description column(s), joined with spaces",
        "a column or a list of columns",
        is_columns,
    ),
    _column("bank_id", "the column of the bank's own transaction id"),
    Option("explicit", "only the columns given are used (nothing detected)", "true or false", is_bool),
)


def _is_camt(text: str) -> bool:
    return any(marker in text for marker in ("camt.053", "camt.052", "camt.054", "BkToCstmr"))


# SWIFT MT940/MT942: a ":20:" reference line, then the account, balance or statement-line tags.
_MT940 = re.compile(r"^:20:.*?^:(?:25|28C|60[FM]|61):", re.MULTILINE | re.DOTALL)


def _is_mt940(text: str) -> bool:
    return _MT940.search(text) is not None


FORMATS = Registry(
    (
        StatementFormat(
            "csv",
            "CSV",
            "any delimiter; the column mapping detected or given",
            "uploads.importers.csvfile:parse_csv",
            content_types=frozenset({sniffing.CSV, sniffing.TEXT}),
            options=_CSV_OPTIONS,
            maps_columns=True,
        ),
        StatementFormat(
            "ofx",
            "OFX",
            "OFX 1.x (SGML) and 2.x (XML)",
            "uploads.importers.ofx:parse_ofx",
            content_types=frozenset({sniffing.OFX}),
        ),
        StatementFormat("qfx", "QFX", "Quicken's OFX", "uploads.importers.ofx:parse_ofx", variant_of="ofx"),
        StatementFormat(
            "qif",
            "QIF",
            "Quicken Interchange Format",
            "uploads.importers.qif:parse_qif",
            content_types=frozenset({sniffing.QIF}),
            options=_TEXT_OPTIONS,
        ),
        StatementFormat(
            "camt",
            "CAMT.053",
            "ISO 20022 bank-to-customer statement (and 052 reports, 054 notifications)",
            "uploads.importers.camt:parse_camt",
            content_types=frozenset({sniffing.XML}),
            detects=_is_camt,
        ),
    ),
    unsupported=(("a SWIFT MT940 statement", _is_mt940),),
)


def parse_statement(fmt: str, stream: IO[bytes], *, mapping: dict[str, Any] | None = None) -> Iterator[ParsedRow]:
    """Rows of a statement file of the given format (a name in FORMATS)."""
    return FORMATS.parse(fmt, stream, mapping)


__all__ = ["FORMATS", "FormatError", "ImportFileError", "Option", "ParsedRow", "StatementFormat", "parse_statement"]
