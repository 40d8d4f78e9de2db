"""OFX/QFX statements, 1.x (SGML: leaf tags without closing tags) and 2.x (XML), read by ofxtools.

ofxtools reads the whole file (IMPORT_MAX_BYTES bounds it). Line numbers and the bank's own posting date
(before any time-zone shift) come from a scan of the raw text for each <STMTTRN> aggregate, in order.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Iterator
from datetime import date
from typing import BinaryIO

from ofxtools.Parser import OFXTree

from uploads.importers.base import ImportFileError, ParsedRow, clip

# ofxtools logs every element it converts at INFO: thousands of lines a statement.
logging.getLogger("ofxtools").setLevel(logging.WARNING)

_TRANSACTION = re.compile(rb"<STMTTRN>(.*?)</STMTTRN>", re.DOTALL | re.IGNORECASE)
_DTPOSTED = re.compile(rb"<DTPOSTED>\s*(\d{8})", re.IGNORECASE)


def parse_ofx(stream: BinaryIO) -> Iterator[ParsedRow]:
    stream.seek(0)
    raw = stream.read()
    if b"<!ENTITY" in raw.upper() or b"<!DOCTYPE" in raw.upper():
        raise ImportFileError("OFX files may not declare a DOCTYPE or entities.")
    tree = OFXTree()
    try:
        with warnings.catch_warnings():
            # Quicken's <INTU.BID> and other private tags are skipped by design, not worth a warning.
            warnings.simplefilter("ignore")
            tree.parse(io.BytesIO(raw))
            ofx = tree.convert()
            statements = list(ofx.statements)
    except Exception as error:  # noqa: BLE001 - ofxtools raises many unrelated types for a malformed file
        raise ImportFileError(f"Not a readable OFX file: {error}") from None
    if not statements:
        raise ImportFileError("The OFX file holds no bank or credit card statement.")
    blocks = [
        (raw.count(b"\n", 0, match.start()) + 1, _DTPOSTED.search(match.group(1)))
        for match in _TRANSACTION.finditer(raw)
    ]
    index = 0
    for statement in statements:
        for transaction in statement.banktranlist or []:
            line_number, posted = blocks[index] if index < len(blocks) else (0, None)
            index += 1
            row = ParsedRow(line_number=line_number)
            if posted is not None:
                text = posted.group(1).decode("ascii")
                try:
                    row.date = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
                except ValueError:
                    row.error = f"{text!r} is not a date"
            elif transaction.dtposted is not None:
                row.date = transaction.dtposted.date()
            row.amount = transaction.trnamt
            payee = transaction.name or (transaction.payee.name if transaction.payee is not None else "") or ""
            row.payee = clip(payee, 200)
            row.description = clip(transaction.memo or "", 500)
            row.bank_id = (transaction.fitid or "").strip()[:255]
            if row.amount is None and not row.error:
                row.error = "no TRNAMT"
            yield row
