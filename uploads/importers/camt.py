"""CAMT.053 (ISO 20022 bank-to-customer statement) read with defusedxml's iterparse.

One row per transaction detail: a batch entry (<Ntry> with several <TxDtls>) becomes several rows with
their own amounts. The bank id is the detail's AcctSvcrRef, else the entry's AcctSvcrRef (with the
detail's position when the entry is a batch). CdtDbtInd gives the sign (DBIT is money out). DTDs,
entities and external references are refused (billion laughs, XXE).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, iterparse

from uploads.importers.base import ImportFileError, ParsedRow, clip, parse_decimal


class _LineReader:
    """Feeds the XML parser one line a read, so each event knows the line it came from."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.line_number = 0

    def read(self, _size: int = -1) -> bytes:
        line = self._stream.readline(1 << 20)
        if line:
            self.line_number += 1
        return line


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


def _signed(amount_text: str, indicator: str) -> Any:
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


def _rows_of_entry(entry: Element, line_number: int) -> Iterator[ParsedRow]:
    indicator = _text(entry, "CdtDbtInd")
    entry_ref = _text(entry, "AcctSvcrRef")
    info = _text(entry, "AddtlNtryInf")
    try:
        booked = _date(entry)
    except ValueError as error:
        yield ParsedRow(line_number=line_number, error=str(error))
        return
    details = _findall(entry, "NtryDtls/TxDtls")
    if len(details) <= 1:
        detail = details[0] if details else None
        row = ParsedRow(line_number=line_number, date=booked, bank_id=entry_ref[:255])
        try:
            row.amount = _signed(_text(entry, "Amt"), indicator)
        except ValueError as error:
            row.error = str(error)
        if detail is not None:
            row.payee = clip(_party(detail, indicator), 200)
            row.description = clip(
                " ".join((n.text or "").strip() for n in _findall(detail, "RmtInf/Ustrd")) or info, 500
            )
            row.bank_id = (_text(detail, "Refs/AcctSvcrRef") or entry_ref)[:255]
        else:
            row.description = clip(info, 500)
        yield row
        return
    for position, detail in enumerate(details, start=1):
        detail_indicator = _text(detail, "CdtDbtInd") or indicator
        row = ParsedRow(line_number=line_number, date=booked)
        amount_text = _text(detail, "Amt") or _text(detail, "AmtDtls/TxAmt/Amt")
        try:
            if not amount_text:
                raise ValueError(f"transaction detail {position} of the batch has no amount")
            row.amount = _signed(amount_text, detail_indicator)
        except ValueError as error:
            row.error = str(error)
        row.payee = clip(_party(detail, detail_indicator), 200)
        row.description = clip(" ".join((n.text or "").strip() for n in _findall(detail, "RmtInf/Ustrd")) or info, 500)
        own_ref = _text(detail, "Refs/AcctSvcrRef")
        row.bank_id = (own_ref or (f"{entry_ref}/{position}" if entry_ref else ""))[:255]
        yield row


def parse_camt(stream: BinaryIO) -> Iterator[ParsedRow]:
    stream.seek(0)
    reader = _LineReader(stream)
    entry_line = 0
    depth_in_entry = 0
    seen_statement = False
    parser = DefusedXMLParser(target=TreeBuilder(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    expat = getattr(parser, "parser", None)
    if hasattr(expat, "SetReparseDeferralEnabled"):
        # Expat ≥ 2.6 may hold small chunks back; line-at-a-time feeding needs every event at once.
        expat.SetReparseDeferralEnabled(False)  # type: ignore[union-attr]
    try:
        for event, element in iterparse(reader, events=("start", "end"), parser=parser):
            name = _local(element.tag)
            if event == "start":
                if name == "Stmt":
                    seen_statement = True
                elif name == "Ntry":
                    entry_line = reader.line_number
                    depth_in_entry += 1
                continue
            if name == "Ntry":
                depth_in_entry -= 1
                yield from _rows_of_entry(element, entry_line)
                element.clear()
            elif name == "Stmt":
                element.clear()
    except DefusedXmlException as error:
        raise ImportFileError(f"Refused: the XML declares a DTD or entities ({type(error).__name__}).") from None
    except ParseError as error:
        raise ImportFileError(f"Not well-formed XML: {error}", reader.line_number) from None
    if not seen_statement:
        raise ImportFileError("No <Stmt> element: this is not a CAMT.053 statement.")
