"""OFX/QFX statements, 1.x (SGML: leaf tags without closing tags) and 2.x (XML).

Two readers. The strict one is ofxtools, which validates the whole file against the specification. Banks
send files it rejects — no LEDGERBAL, an account id longer than allowed, empty elements, blank lines before
the header — so when it fails the tolerant reader takes over: it reads each <STMTTRN> aggregate on its own
(leaf values up to the next tag; CDATA and entities decoded; a decimal comma accepted) and ignores the rest
of the file. Either way, every <STMTTRN> in the raw file becomes a row, or the file is refused: the count of
aggregates in the bytes is checked against the rows read, so no transaction is lost without a word. A file
with transactions of several accounts is refused (as a QIF one is), never mixed into one account.

ofxtools reads the whole file (IMPORT_MAX_BYTES bounds it). Line numbers and the bank's own posting date
(before any time-zone shift) come from the scan of the raw text, in order.
"""

from __future__ import annotations

import html
import io
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO

from ofxtools.Parser import OFXTree

from uploads.importers.base import ImportFileError, ParsedRow, clip, parse_decimal

# ofxtools logs every element it converts at INFO: thousands of lines a statement.
logging.getLogger("ofxtools").setLevel(logging.WARNING)

# An aggregate ends at its closing tag; a file that forgets one ends it at the next transaction or list end.
_TRANSACTION = re.compile(
    rb"<STMTTRN>(.*?)(?=</STMTTRN>|<STMTTRN>|</BANKTRANLIST>|</INVBANKTRAN>|\Z)", re.DOTALL | re.IGNORECASE
)
_DTPOSTED = re.compile(rb"<DTPOSTED>\s*(\d{8})", re.IGNORECASE)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_LEAF = re.compile(r"<([A-Za-z0-9.]+)>([^<]*)")
_LEADING_JUNK = re.compile(rb"^(?:\xef\xbb\xbf)?\s+")
_STATEMENT_START = re.compile(rb"<(?:STMTRS|CCSTMTRS)>")
_ACCTID = re.compile(rb"<ACCTID>\s*([^<\s]+)", re.IGNORECASE)
# The bank's answer to the download request, when it is an error rather than a statement.
_ERROR_STATUS = re.compile(
    rb"<STATUS>\s*<CODE>\s*(\d+)\s*(?:</CODE>)?\s*<SEVERITY>\s*ERROR\s*(?:</SEVERITY>)?\s*(?:<MESSAGE>\s*([^<]*))?",
    re.IGNORECASE,
)


@dataclass(slots=True)
class _Block:
    line_number: int
    body: bytes


def parse_ofx(stream: IO[bytes]) -> Iterator[ParsedRow]:
    stream.seek(0)
    raw = stream.read()
    upper = raw.upper()
    if b"<!ENTITY" in upper or b"<!DOCTYPE" in upper:
        raise ImportFileError("OFX files may not declare a DOCTYPE or entities.")
    blocks = [_Block(raw.count(b"\n", 0, match.start()) + 1, match.group(1)) for match in _TRANSACTION.finditer(raw)]
    accounts = _accounts_with_transactions(raw, upper)
    if len(accounts) > 1:
        raise ImportFileError(
            f"The OFX file holds transactions of several accounts ({', '.join(name or '?' for name in accounts)}): "
            "export one account a file."
        )
    strict = _strict_rows(raw, blocks)
    if strict is not None:
        rows = strict
    else:
        if not blocks and b"<OFX>" not in upper:
            raise ImportFileError("Not a readable OFX file: no <OFX> element and no <STMTTRN> transaction.")
        rows = [_tolerant_row(block, _text_encoding(raw)) for block in blocks]
    if len(rows) != len(blocks):  # pragma: no cover - both readers make one row per aggregate; a guard for changes
        raise ImportFileError(f"The file holds {len(blocks)} transactions but {len(rows)} were read.")
    if not rows and not _has_statement(upper):
        status = _ERROR_STATUS.search(raw)
        if status is not None:
            said = status.group(2).decode("ascii", errors="replace").strip() if status.group(2) else ""
            raise ImportFileError(
                "The OFX file holds no bank or credit card statement: the bank answered with error "
                f"{status.group(1).decode('ascii')}{f' ({said})' if said else ''}."
            )
        raise ImportFileError("The OFX file holds no bank or credit card statement.")
    yield from rows


def _accounts_with_transactions(raw: bytes, upper: bytes) -> list[str]:
    """The ACCTID of each statement that has transactions (a bank's download may hold checking and savings)."""
    starts = [match.start() for match in _STATEMENT_START.finditer(upper)]
    accounts: list[str] = []
    for start, end in zip(starts, [*starts[1:], len(raw)][: len(starts)], strict=True):
        if b"<STMTTRN>" not in upper[start:end]:
            continue
        found = _ACCTID.search(raw, start, end)
        account = found.group(1).decode("ascii", errors="replace") if found else ""
        if account not in accounts:
            accounts.append(account)
    return accounts


def _has_statement(upper: bytes) -> bool:
    return b"<STMTRS>" in upper or b"<CCSTMTRS>" in upper or b"<BANKTRANLIST>" in upper


def _strict_rows(raw: bytes, blocks: list[_Block]) -> list[ParsedRow] | None:
    """ofxtools' reading, or None when it cannot read the file or reads a different number of transactions."""
    tree = OFXTree()
    try:
        with warnings.catch_warnings():
            # Quicken's <INTU.BID> and other private tags are skipped by design, not worth a warning.
            warnings.simplefilter("ignore")
            tree.parse(io.BytesIO(_LEADING_JUNK.sub(b"", raw)))
            ofx = tree.convert()
            transactions = [
                transaction
                for statement in ofx.statements
                for transaction in (getattr(statement, "banktranlist", None) or [])
            ]
    except Exception:  # noqa: BLE001 - ofxtools raises many unrelated types for a malformed file
        return None
    if len(transactions) != len(blocks):
        return None
    rows = []
    for block, transaction in zip(blocks, transactions, strict=True):
        row = ParsedRow(line_number=block.line_number)
        posted = _DTPOSTED.search(block.body)
        if posted is not None:
            _set_date(row, posted.group(1).decode("ascii"))
        elif transaction.dtposted is not None:
            row.date = transaction.dtposted.date()
        row.amount = transaction.trnamt
        payee = transaction.name or (transaction.payee.name if transaction.payee is not None else "") or ""
        row.payee = clip(_unescaped(payee), 200)
        row.description = clip(_unescaped(transaction.memo or ""), 500)
        row.bank_id = (transaction.fitid or "").strip()[:255]
        if row.amount is None and not row.error:
            row.error = "no TRNAMT"
        rows.append(row)
    return rows


def _unescaped(text: str) -> str:
    # Some banks escape twice ("&amp;lt;"): one more pass gives the text people saw on the bank's site.
    return html.unescape(text) if "&" in text else text


def _text_encoding(raw: bytes) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _leaves(body: bytes, encoding: str) -> dict[str, str]:
    """The first value of each leaf element of one aggregate (nested PAYEE/NAME counts when NAME is absent)."""
    text = body.decode(encoding, errors="replace")
    if "]]>" in text:  # an unclosed CDATA would make the search quadratic; without a close there is none
        text = _CDATA.sub(lambda match: html.escape(match.group(1), quote=False), text)
    values: dict[str, str] = {}
    for tag, value in _LEAF.findall(text):
        values.setdefault(tag.upper(), " ".join(html.unescape(value).split()))
    return values


def _set_date(row: ParsedRow, text: str) -> None:
    digits = text.strip()[:8]
    try:
        if len(digits) < 8 or not digits.isdigit():
            raise ValueError
        row.date = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        row.error = f"{text.strip()!r} is not a date"


def _amount(text: str) -> Decimal:
    text = text.strip()
    # OFX says "." but some banks write "12,50"; with both, the last one is the decimal separator.
    separator = "," if text.rfind(",") > text.rfind(".") else "."
    return parse_decimal(text, decimal_separator=separator)


def _tolerant_row(block: _Block, encoding: str) -> ParsedRow:
    values = _leaves(block.body, encoding)
    row = ParsedRow(line_number=block.line_number)
    posted = values.get("DTPOSTED") or values.get("DTUSER") or ""
    if posted:
        _set_date(row, posted)
    else:
        row.error = "no DTPOSTED (posting date)"
    amount = values.get("TRNAMT", "")
    try:
        if not amount:
            raise ValueError("no TRNAMT (amount)")
        row.amount = _amount(amount)
    except ValueError as error:
        row.error = row.error or str(error)
    row.payee = clip(_unescaped(values.get("NAME", "")), 200)
    row.description = clip(_unescaped(values.get("MEMO", "")), 500)
    row.bank_id = values.get("FITID", "").strip()[:255]
    return row
