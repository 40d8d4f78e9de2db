"""OFX, QIF and CAMT as banks and programs really write them (hand-written variants of the corpus' quirks)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from uploads.importers import ImportFileError, parse_statement


def rows(fmt: str, data: bytes, mapping: dict | None = None) -> list:
    return list(parse_statement(fmt, io.BytesIO(data), mapping=mapping or {}))


def ofx_transaction(fitid: str, amount: str, name: str = "Shop", posted: str = "20240301") -> str:
    return f"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>{posted}<TRNAMT>{amount}<FITID>{fitid}<NAME>{name}</STMTTRN>"


def ofx(*statements: str, header: str = "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n") -> bytes:
    body = "".join(
        f"<STMTTRNRS><STMTRS><CURDEF>EUR<BANKACCTFROM><BANKID>1<ACCTID>{'9' * 40}<ACCTTYPE>CHECKING</BANKACCTFROM>"
        f"<BANKTRANLIST><DTSTART>20240301<DTEND>20240331\n{statement}\n</BANKTRANLIST></STMTRS></STMTTRNRS>"
        for statement in statements
    )
    return f"{header}<OFX><BANKMSGSRSV1>{body}</BANKMSGSRSV1></OFX>".encode()


def test_ofx_with_two_statements_long_ids_no_ledger_balance_and_decimal_commas_reads_every_transaction():
    data = ofx(ofx_transaction("A", "-12,50") + ofx_transaction("B", "100.00"), ofx_transaction("C", "-1.234,56"))
    parsed = rows("ofx", b"\n\n\n" + data)
    assert [(row.bank_id, row.amount) for row in parsed] == [
        ("A", Decimal("-12.50")),
        ("B", Decimal("100.00")),
        ("C", Decimal("-1234.56")),
    ]


def test_ofx_cdata_and_entities_are_decoded():
    data = ofx(
        ofx_transaction("A", "-1.00", name="<![CDATA[Bread & Butter <Ltd>]]>")
        + ofx_transaction("B", "-2.00", name="M&amp;S")
    )
    assert [row.payee for row in rows("ofx", data)] == ["Bread & Butter <Ltd>", "M&S"]


def test_ofx_empty_elements_and_a_missing_date_are_row_errors_not_a_lost_file():
    data = ofx(ofx_transaction("A", "-1.00", posted="") + ofx_transaction("", "-2.00"))
    parsed = rows("ofx", data)
    assert len(parsed) == 2
    assert parsed[0].error and not parsed[1].error
    assert parsed[1].bank_id == ""


def test_ofx_without_any_statement_is_refused():
    with pytest.raises(ImportFileError):
        rows("ofx", b"OFXHEADER:100\n\n<OFX><SIGNONMSGSRSV1></SIGNONMSGSRSV1></OFX>")


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["10.18.23", "10.19.23"], [date(2023, 10, 18), date(2023, 10, 19)]),
        (["1/ 1'00", "1/15'00"], [date(2000, 1, 1), date(2000, 1, 15)]),
        (["2/10'2020", "2/14'2020"], [date(2020, 2, 10), date(2020, 2, 14)]),
        (["03/04/99", "25/04/99"], [date(1999, 4, 3), date(1999, 4, 25)]),
        (["3/4/2024", "3/25/2024"], [date(2024, 3, 4), date(2024, 3, 25)]),
        (["2024-03-04", "2024-03-25"], [date(2024, 3, 4), date(2024, 3, 25)]),
    ],
)
def test_qif_dates_in_every_form_decided_from_the_whole_file(dates, expected):
    data = "!Type:Bank\n" + "".join(f"D{day}\nT-1.00\nPShop\n^\n" for day in dates)
    assert [row.date for row in rows("qif", data.encode())] == expected


def test_qif_date_order_can_be_given_when_no_date_settles_it():
    data = b"!Type:Bank\nD03/04/2024\nT-1.00\n^\n"
    assert rows("qif", data)[0].date == date(2024, 3, 4)
    assert rows("qif", data, {"date_order": "dmy"})[0].date == date(2024, 4, 3)


def test_qif_skips_option_category_and_memorised_sections_and_reports_the_opening_balance():
    data = (
        b"!Option:AutoSwitch\n!Account\nNChecking\nTBank\n^\n!Clear:AutoSwitch\n"
        b"!Type:Cat\nNFood\nE\n^\n!Type:Memorized\nKC\nT-5.00\nPTemplate\n^\n"
        b"!Account\nNChecking\nTBank\n^\n!Type:Bank\n"
        b"D1/1/2024\nT100.00\nPOpening Balance\nL[Checking]\n^\n"
        b"D1/2/2024\nT-30.00\nPMarket\nSFood\n$-20.00\nSHome\n$-10.00\n^\n"
    )
    parsed = rows("qif", data)
    assert [(row.skip != "", row.amount) for row in parsed] == [(True, None), (False, Decimal("-30.00"))]
    assert "opening-balance" in parsed[0].skip


def test_qif_with_several_accounts_is_refused_rather_than_mixed_into_one():
    data = b"!Account\nNA\n^\n!Type:Bank\nD1/1/2024\nT-1.00\n^\n!Account\nNB\n^\n!Type:Bank\nD1/2/2024\nT-2.00\n^\n"
    with pytest.raises(ImportFileError, match="several accounts"):
        rows("qif", data)


def camt(entries: str) -> bytes:
    return (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<Stmt><Id>1</Id>{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def entry(amount: str, indicator: str, details: str = "", extra: str = "", booked: str = "<Dt>2024-05-03</Dt>") -> str:
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>{extra}<Sts>BOOK</Sts>'
        f"<BookgDt>{booked}</BookgDt><AcctSvcrRef>R{amount}</AcctSvcrRef><NtryDtls>{details}</NtryDtls></Ntry>"
    )


def detail(amount: str | None, name: str) -> str:
    money = f'<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>' if amount else ""
    return f"<TxDtls>{money}<RltdPties><Cdtr><Nm>{name}</Nm></Cdtr></RltdPties></TxDtls>"


def test_camt_batch_whose_details_do_not_add_up_is_one_row_with_the_entry_amount_and_details_in_the_memo():
    data = camt(entry("300.00", "DBIT", detail("100.00", "Landlord") + detail("150.00", "Insurer")))
    (row,) = rows("camt", data)
    assert row.amount == Decimal("-300.00")
    assert "Landlord" in row.description and "Insurer" in row.description


def test_camt_batch_without_detail_amounts_keeps_the_entry_amount():
    data = camt(entry("70", "DBIT", detail(None, "A") + detail(None, "B")))
    (row,) = rows("camt", data)
    assert row.amount == Decimal("-70")


def test_camt_reversal_pending_entry_and_booking_time_with_an_offset():
    data = camt(
        entry("5.00", "CRDT", detail(None, "Shop"), extra="<RvslInd>true</RvslInd>")
        + entry("9.00", "DBIT", detail(None, "X")).replace("<Sts>BOOK</Sts>", "<Sts>PDNG</Sts>")
        + entry("1.00", "DBIT", detail(None, "Y"), booked="<DtTm>2024-05-31T23:30:00+02:00</DtTm>")
    )
    parsed = rows("camt", data)
    assert parsed[0].amount == Decimal("5.00") and parsed[0].description.startswith("Reversal")
    assert parsed[1].skip and parsed[1].amount is None
    assert parsed[2].date == date(2024, 5, 31)


def test_every_import_format_is_declared_once_in_the_registry_and_the_import_model_offers_those():
    from uploads.importers import FORMATS
    from uploads.models import StatementImport

    assert StatementImport._meta.get_field("format").choices == FORMATS.choices()
    assert all(callable(spec.parser()) for spec in FORMATS.all())
