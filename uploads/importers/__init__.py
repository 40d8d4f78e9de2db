"""Statement parsers, one module per format. Each is a generator of ParsedRow with its line number:
streaming, so memory stays bounded whatever the file size (OFX excepted: ofxtools reads the whole file,
which IMPORT_MAX_BYTES bounds)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from uploads.importers.base import ImportFileError, ParsedRow


def parse_statement(fmt: str, stream: BinaryIO, *, mapping: dict[str, object] | None = None) -> Iterator[ParsedRow]:
    """Rows of a statement file of the given format (csv, ofx, qfx, qif, camt)."""
    if fmt == "csv":
        from uploads.importers.csvfile import parse_csv

        return parse_csv(stream, mapping or {})
    if fmt in ("ofx", "qfx"):
        from uploads.importers.ofx import parse_ofx

        return parse_ofx(stream)
    if fmt == "qif":
        from uploads.importers.qif import parse_qif

        return parse_qif(stream, mapping or {})
    if fmt == "camt":
        from uploads.importers.camt import parse_camt

        return parse_camt(stream)
    raise ImportFileError(f"Unknown format {fmt!r}.")


__all__ = ["ImportFileError", "ParsedRow", "parse_statement"]
