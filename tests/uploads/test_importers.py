"""Each format's parser, from sample files written by hand from the format's specification."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.uploads.conftest import sample
from uploads.importers import ImportFileError, parse_statement


def rows(fmt: str, name: str, mapping: dict | None = None) -> list:
    return list(parse_statement(fmt, io.BytesIO(sample(name)), mapping=mapping))


def test_it_reads_decimal_comma_dotted_dates_bom_and_crlf():
    parsed = rows("csv", "de_decimal_comma_bom_crlf.csv")
    assert [row.error for row in parsed] == ["", "", "", ""]
    assert [row.date for row in parsed] == [date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 5), date(2024, 3, 6)]
    # In a decimal-comma file "-30.000" is thirty thousand.
    assert [row.amount for row in parsed] == [
        Decimal("-3.40"),
        Decimal("2450.00"),
        Decimal("-30000"),
        Decimal("-1234.56"),
    ]
    assert parsed[0].payee == "Bäckerei Müller"
    assert parsed[3].payee == "Stadtwerke; Strom"
    assert parsed[3].description == "Abschlag März"
    # The quoted field spans two physical lines; line numbers are physical lines (header = line 1).
    assert [row.line_number for row in parsed] == [2, 3, 4, 5]


def test_it_reads_us_dates_debit_credit_columns_and_cp1252_bytes():
    parsed = rows("csv", "us_debit_credit_cp1252.csv", {"payee": "Description", "description": ""})
    assert [row.date for row in parsed] == [date(2024, 3, 14), date(2024, 3, 15), date(2024, 3, 16)]
    assert [row.amount for row in parsed] == [Decimal("-12.50"), Decimal("1250.00"), Decimal("-1100.00")]
    assert parsed[0].payee == "Café Olé"
    assert parsed[2].payee == "Rent – March’s €"


def test_it_reads_utf16_with_a_bom_and_tabs():
    parsed = rows("csv", "utf16_tab.csv")
    assert [(row.payee, row.amount) for row in parsed] == [
        ("Zoë’s Café", Decimal("-4.20")),
        ("東京ストア", Decimal("-15.00")),
    ]


def test_it_falls_back_to_a_single_byte_encoding():
    (row,) = rows("csv", "latin1.csv")
    assert row.payee == "Crème brûlée"


def test_it_reports_bad_rows_by_line_number():
    parsed = rows("csv", "malformed.csv", {"date_format": "%Y-%m-%d"})
    assert [(row.line_number, bool(row.error)) for row in parsed] == [(2, False), (3, True), (4, True)]
    assert "2024-13-45" in parsed[1].error
    assert "twelve" in parsed[2].error


def test_line_numbers_stay_physical_past_the_sampled_rows_and_across_quoted_newlines():
    # The first 200 records are sampled to guess the mapping, then replayed; later ones come straight from the
    # reader. Multi-line cells in both parts must not shift the numbers people use to find a row.
    lines = ["Date,Payee,Amount"]
    for index in range(300):
        if index in (50, 250):
            lines.append(f'2024-01-01,"Two\nlines {index}",-1.00')
        elif index == 299:
            lines.append("2024-01-01,Broken,twelve")
        else:
            lines.append(f"2024-01-01,Payee {index},-1.00")
    parsed = list(parse_statement("csv", io.BytesIO("\r\n".join(lines).encode()), mapping={}))
    numbers = [row.line_number for row in parsed]
    # The header is line 1; record 50 starts on line 52 and spans two lines, so record 51 starts on line 54.
    assert numbers[50:52] == [52, 54]
    expected = []
    line = 2
    for index in range(300):
        expected.append(line)
        line += 2 if index in (50, 250) else 1
    assert numbers == expected
    assert parsed[-1].error and parsed[-1].line_number == 303


def test_it_uses_an_explicit_mapping_by_column_index_without_header():
    data = b"20240102|Shop|x|1.234,00-\n"
    parsed = list(
        parse_statement(
            "csv",
            io.BytesIO(data),
            mapping={
                "has_header": False,
                "delimiter": "|",
                "date": 0,
                "payee": 1,
                "amount": 3,
                "decimal": ",",
                "date_format": "%Y%m%d",
            },
        )
    )
    assert (parsed[0].date, parsed[0].amount, parsed[0].payee) == (date(2024, 1, 2), Decimal("-1234.00"), "Shop")


def test_it_reads_ofx_1_sgml_without_closing_tags():
    parsed = rows("ofx", "ofx1_sgml.ofx")
    assert [(row.bank_id, row.amount) for row in parsed] == [
        ("FIT-0001", Decimal("-42.50")),
        ("FIT-0002", Decimal("2500.00")),
        ("FIT-0003", Decimal("-30.000")),
    ]
    # "-30.000" in OFX (decimal point) is thirty.
    assert parsed[2].amount == Decimal("-30")
    assert parsed[1].date == date(2024, 3, 15)
    assert parsed[2].payee == "Café Central"
    assert parsed[0].description == "Card 1234"
    assert parsed[0].line_number == 39


def test_it_reads_ofx_2_xml():
    parsed = rows("ofx", "ofx2_xml.ofx")
    assert [(row.date, row.amount, row.bank_id, row.payee) for row in parsed] == [
        (date(2024, 4, 2), Decimal("-19.99"), "X2-0001", "STREAMING SERVICE"),
        (date(2024, 4, 10), Decimal("100.00"), "X2-0002", "Mobile deposit"),
    ]


def test_it_reads_a_qfx_credit_card_statement_keeping_the_banks_posting_date():
    parsed = rows("qfx", "quicken.qfx")
    assert [(row.date, row.amount, row.bank_id) for row in parsed] == [
        (date(2024, 4, 20), Decimal("-64.10"), "QFX-777"),
        (date(2024, 4, 25), Decimal("64.10"), "QFX-778"),
    ]


def test_it_reads_qif():
    parsed = rows("qif", "bank.qif")
    assert [(row.line_number, row.date, row.amount, row.payee) for row in parsed] == [
        (2, date(2024, 3, 1), Decimal("-25.00"), "Gas Station"),
        (7, date(2024, 3, 2), Decimal("1500.00"), "Employer Inc"),
        (11, date(2024, 3, 3), Decimal("-8.75"), "Coffee Corner"),
    ]
    assert parsed[0].description == "Fuel"


def test_it_splits_a_camt_batch_entry_into_its_transaction_details():
    parsed = rows("camt", "camt053_batch.xml")
    assert [(row.amount, row.bank_id, row.payee) for row in parsed] == [
        (Decimal("-49.90"), "REF-A-001", "Telekom"),
        (Decimal("-100.00"), "BATCH-777-1", "Landlord Ltd"),
        (Decimal("-150.00"), "BATCH-777-2", "Insurance AG"),
        (Decimal("-50.00"), "BATCH-777-3", "Sports Club"),
        (Decimal("1200.00"), "REF-C-003", "Employer SE"),
    ]
    assert parsed[1].date == date(2024, 5, 3)
    assert parsed[0].description == "Mobile May"
    assert [row.line_number for row in parsed] == [12, 27, 27, 27, 56]


@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
def test_it_refuses_xml_with_entities(name):
    with pytest.raises(ImportFileError, match="DTD or entities"):
        rows("camt", name)


def test_a_camt_file_with_entries_of_several_accounts_is_refused_not_mixed_into_one():
    # genkgo's two-statement file is of one account (both read); with the second statement's IBAN changed, two.
    data = (Path(__file__).parent / "corpus" / "camt" / "genkgo-camt053.v2.multi.statement.xml").read_bytes()
    assert len(list(parse_statement("camt", io.BytesIO(data)))) == 2
    first, second = data.split(b"</Stmt>", 1)
    other = first + b"</Stmt>" + second.replace(b"<IBAN>NL26VAYB8060476890<", b"<IBAN>NL69INGB0123456789<", 1)
    with pytest.raises(ImportFileError, match=r"several accounts \(NL26VAYB8060476890, NL69INGB0123456789\)"):
        list(parse_statement("camt", io.BytesIO(other)))


def test_it_refuses_a_broken_ofx_file():
    with pytest.raises(ImportFileError):
        rows("ofx", "bank.qif")


def _with_transactions(accounts: int) -> bytes:
    """ofxparse's multiple_accounts.ofx (checking 9100 and savings 9200, no transactions) with one transaction
    added to the first `accounts` statements, as a bank's download of several accounts has."""
    data = (Path(__file__).parent / "corpus" / "ofx" / "ofxparse-multiple_accounts.ofx").read_bytes()
    first, *statements = data.split(b"</BANKACCTFROM>")
    for index, rest in enumerate(statements):
        transaction = (
            b"<BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20120602</DTPOSTED>"
            b"<TRNAMT>-1.00</TRNAMT><FITID>F%d</FITID><NAME>Shop</NAME></STMTTRN></BANKTRANLIST>" % index
        )
        first += b"</BANKACCTFROM>" + (transaction if index < accounts else b"") + rest
    return first


def test_an_ofx_file_with_transactions_of_several_accounts_is_refused_not_mixed_into_one():
    with pytest.raises(ImportFileError, match=r"several accounts \(9100, 9200\)"):
        list(parse_statement("ofx", io.BytesIO(_with_transactions(2))))
    # Several statements of which one has transactions: that one account's rows.
    assert [row.bank_id for row in parse_statement("ofx", io.BytesIO(_with_transactions(1)))] == ["F0"]
