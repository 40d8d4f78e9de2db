"""CAMT.053 (ISO 20022 bank-to-customer statement; 052 reports and 054 notifications too) read with
defusedxml's iterparse; several statements in one file are read in turn.

A batch entry (<Ntry> with several <TxDtls>) becomes one row per detail when the details' amounts add up
to the entry's, else one row with the entry's amount and the details in its description. Pending entries
are skipped (and said so); a reversal (RvslInd) keeps the sign of its own CdtDbtInd and says "Reversal".
The bank id is the detail's AcctSvcrRef, else the entry's AcctSvcrRef (with the detail's position when
the entry is split). CdtDbtInd gives the sign (DBIT is money out). Entries of several accounts in one file
are refused, never mixed into one account. DTDs, entities and external references are refused (billion
laughs, XXE).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import IO
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, iterparse

from uploads.importers.base import ImportFileError, ParsedRow, clip, parse_decimal


class _LineReader:
    """Feeds the XML parser one line a read, so each event knows the line it came from."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.line_number = 0

    def read(self, _size: int = -1) -> bytes:
        line = self._stream.readline(1 << 20)
        if line:
            self.line_number += 1
        return line


# camt.053 statements, camt.052 intraday reports and camt.054 notifications share the <Ntry> structure.
_STATEMENTS = {"Stmt", "Rpt", "Ntfctn"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(element: Element | None, path: str) -> Element | None:
    """Namespace-agnostic path lookup: "NtryDtls/TxDtls/Refs"."""
    current = element
    for part in path.split("/"):
        if current is None:
            return None
        current = next((child for child in current if _local(child.tag) == part), None)
    return current


def _findall(element: Element | None, path: str) -> list[Element]:
    *parents, last = path.split("/")
    parent = _find(element, "/".join(parents)) if parents else element
    if parent is None:
        return []
    return [child for child in parent if _local(child.tag) == last]


def _text(element: Element | None, path: str) -> str:
    found = _find(element, path)
    return (found.text or "").strip() if found is not None else ""


def _date(entry: Element) -> date:
    for path in ("BookgDt/Dt", "BookgDt/DtTm", "ValDt/Dt", "ValDt/DtTm"):
        text = _text(entry, path)
        if text:
            return date.fromisoformat(text[:10])
    raise ValueError("the entry has no booking or value date")


def _signed(amount_text: str, indicator: str) -> Decimal:
    amount = parse_decimal(amount_text)
    if indicator == "DBIT":
        return -abs(amount)
    if indicator == "CRDT":
        return abs(amount)
    raise ValueError(f"CdtDbtInd {indicator!r} is neither CRDT nor DBIT")


def _party(details: Element, indicator: str) -> str:
    # Money out goes to the creditor; money in comes from the debtor.
    roles = ("Cdtr", "UltmtCdtr") if indicator == "DBIT" else ("Dbtr", "UltmtDbtr")
    for role in roles:
        name = _text(details, f"RltdPties/{role}/Nm") or _text(details, f"RltdPties/{role}/Pty/Nm")
        if name:
            return name
    return ""


def _remittance(detail: Element) -> str:
    # The structured creditor reference (RF, QR/ESR, OCR) is often a payment's only text: kept after the lines.
    parts = [(line.text or "").strip() for line in _findall(detail, "RmtInf/Ustrd")]
    parts += [_text(structured, "CdtrRefInf/Ref") for structured in _findall(detail, "RmtInf/Strd")]
    return " ".join(part for part in parts if part)


def _detail_amount(detail: Element, indicator: str) -> Decimal | None:
    text = _text(detail, "Amt") or _text(detail, "AmtDtls/TxAmt/Amt")
    if not text:
        return None
    return _signed(text, _text(detail, "CdtDbtInd") or indicator)


def _rows_of_entry(entry: Element, line_number: int) -> Iterator[ParsedRow]:
    """One row per entry; a batch splits into its details only when their amounts add up to the entry's.

    Otherwise (details without amounts, or amounts in another currency that do not add up) the entry's amount
    is the one that moved the account: one row, with the details in its description, so no money is lost.
    """
    indicator = _text(entry, "CdtDbtInd")
    entry_ref = _text(entry, "AcctSvcrRef")
    info = _text(entry, "AddtlNtryInf")
    status = _text(entry, "Sts") or _text(entry, "Sts/Cd")
    if status.upper() in ("PDNG", "INFO"):
        yield ParsedRow(
            line_number=line_number,
            skip=f"a {'pending' if status.upper() == 'PDNG' else 'for-information'} entry, not yet booked",
        )
        return
    reversal = _text(entry, "RvslInd").lower() in ("true", "1")
    try:
        booked = _date(entry)
        amount = _signed(_text(entry, "Amt"), indicator)
    except ValueError as error:
        yield ParsedRow(line_number=line_number, error=str(error))
        return
    details = _findall(entry, "NtryDtls/TxDtls")
    detail_amounts: list[Decimal | None] = []
    if len(details) > 1:
        try:
            detail_amounts = [_detail_amount(detail, indicator) for detail in details]
        except ValueError:
            detail_amounts = []
    known = [detail_amount for detail_amount in detail_amounts if detail_amount is not None]
    if len(details) > 1 and known and len(known) == len(details) and sum(known) == amount:
        for position, (detail, split_amount) in enumerate(zip(details, known, strict=True), start=1):
            detail_indicator = _text(detail, "CdtDbtInd") or indicator
            row = ParsedRow(line_number=line_number, date=booked, amount=split_amount)
            row.payee = clip(_party(detail, detail_indicator), 200)
            row.description = clip(_reversed(_remittance(detail) or info, reversal), 500)
            own_ref = _text(detail, "Refs/AcctSvcrRef")
            row.bank_id = (own_ref or (f"{entry_ref}/{position}" if entry_ref else ""))[:255]
            yield row
        return
    row = ParsedRow(line_number=line_number, date=booked, amount=amount, bank_id=entry_ref[:255])
    if len(details) == 1:
        detail = details[0]
        row.payee = clip(_party(detail, indicator), 200)
        row.description = clip(_reversed(_remittance(detail) or info, reversal), 500)
        row.bank_id = (_text(detail, "Refs/AcctSvcrRef") or entry_ref)[:255]
    elif details:
        parts = []
        for detail, detail_amount in zip(details, detail_amounts or [None] * len(details), strict=True):
            text = " ".join(part for part in (_party(detail, indicator), _remittance(detail)) if part)
            parts.append(f"{text} {detail_amount}".strip() if detail_amount is not None else text)
        summary = f"batch of {len(details)}: " + "; ".join(part for part in parts if part)
        row.description = clip(_reversed(" — ".join(part for part in (info, summary) if part), reversal), 500)
    else:
        row.description = clip(_reversed(info, reversal), 500)
    yield row


def _reversed(text: str, reversal: bool) -> str:
    return f"Reversal: {text}" if reversal else text


def parse_camt(stream: IO[bytes]) -> Iterator[ParsedRow]:
    stream.seek(0)
    reader = _LineReader(stream)
    entry_line = 0
    depth_in_entry = 0
    seen_statement = False
    account = ""
    booked_accounts: list[str] = []
    parser = DefusedXMLParser(target=TreeBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    expat = getattr(parser, "parser", None)
    disable_deferral = getattr(expat, "SetReparseDeferralEnabled", None)
    if disable_deferral is not None:
        # Expat ≥ 2.6 may hold small chunks back; line-at-a-time feeding needs every event at once.
        disable_deferral(False)
    try:
        for event, element in iterparse(reader, events=("start", "end"), parser=parser):
            name = _local(element.tag)
            if event == "start":
                if name in _STATEMENTS:
                    seen_statement = True
                elif name == "Ntry":
                    entry_line = reader.line_number
                    depth_in_entry += 1
                continue
            if name == "Acct" and not depth_in_entry:
                account = _text(element, "Id/IBAN") or _text(element, "Id/Othr/Id")
            elif name == "Ntry":
                depth_in_entry -= 1
                if account not in booked_accounts:
                    booked_accounts.append(account)
                if len(booked_accounts) > 1:
                    raise ImportFileError(
                        f"The file holds entries of several accounts ({', '.join(a or '?' for a in booked_accounts)}): "
                        "export one account a file."
                    )
                yield from _rows_of_entry(element, entry_line)
                element.clear()
            elif name in _STATEMENTS:
                element.clear()
    except DefusedXmlException as error:
        raise ImportFileError(f"Refused: the XML declares a DTD or entities ({type(error).__name__}).") from None
    except ParseError as error:
        raise ImportFileError(f"Not well-formed XML: {error}", reader.line_number) from None
    if not seen_statement:
        raise ImportFileError("No <Stmt>, <Rpt> or <Ntfctn> element: this is not a CAMT.053/052/054 file.")
