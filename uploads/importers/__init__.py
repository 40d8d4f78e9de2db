"""Statement parsers, one module per format, declared once in FORMATS (parser and the mapping options it
reads). Each parser is a generator of ParsedRow with its line number: streaming, so memory stays bounded
whatever the file size (OFX excepted: ofxtools reads the whole file, which IMPORT_MAX_BYTES bounds).
Which format a file is, is decided from its bytes by uploads.sniffing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module
from typing import IO, Any

from uploads.importers.base import ImportFileError, ParsedRow

_TEXT_OPTIONS = ("encoding", "decimal", "date_format", "date_order")


@dataclass(frozen=True)
class StatementFormat:
    name: str
    description: str
    module: str
    function: str
    options: tuple[str, ...] = ()
    takes_mapping: bool = True

    def parser(self) -> Callable[..., Iterator[ParsedRow]]:
        # Imported on first use: a CSV import never loads ofxtools.
        parse: Callable[..., Iterator[ParsedRow]] = getattr(import_module(self.module), self.function)
        return parse


FORMATS: dict[str, StatementFormat] = {
    spec.name: spec
    for spec in (
        StatementFormat(
            "csv",
            "CSV with any delimiter; mapping detected or given",
            "uploads.importers.csvfile",
            "parse_csv",
            options=(
                *_TEXT_OPTIONS,
                "delimiter",
                "has_header",
                "skip_rows",
                "date",
                "amount",
                "debit",
                "credit",
                "direction",
                "direction_out",
                "direction_in",
                "payee",
                "description",
                "bank_id",
                "explicit",
            ),
        ),
        StatementFormat(
            "ofx", "OFX 1.x (SGML) and 2.x (XML)", "uploads.importers.ofx", "parse_ofx", takes_mapping=False
        ),
        StatementFormat("qfx", "Quicken's OFX", "uploads.importers.ofx", "parse_ofx", takes_mapping=False),
        StatementFormat(
            "qif", "Quicken Interchange Format", "uploads.importers.qif", "parse_qif", options=_TEXT_OPTIONS
        ),
        StatementFormat(
            "camt", "ISO 20022 CAMT.053 (and 052/054)", "uploads.importers.camt", "parse_camt", takes_mapping=False
        ),
    )
}


def parse_statement(fmt: str, stream: IO[bytes], *, mapping: dict[str, Any] | None = None) -> Iterator[ParsedRow]:
    """Rows of a statement file of the given format (csv, ofx, qfx, qif, camt)."""
    spec = FORMATS.get(fmt)
    if spec is None:
        raise ImportFileError(f"Unknown format {fmt!r}.")
    parse = spec.parser()
    return parse(stream, mapping or {}) if spec.takes_mapping else parse(stream)


__all__ = ["FORMATS", "ImportFileError", "ParsedRow", "StatementFormat", "parse_statement"]
