"""CSV statements as banks write them: sign columns, odd amounts, lines around the data, and automatic mapping."""

from __future__ import annotations

import io
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from uploads.importers import ImportFileError, parse_statement
from uploads.importers.base import parse_decimal
from uploads.importers.csvfile import read_head

CORPUS = Path(__file__).parent / "corpus"


def rows(data: bytes, mapping: dict | None = None) -> list:
    return list(parse_statement("csv", io.BytesIO(data), mapping=mapping or {}))


def transactions(data: bytes, mapping: dict | None = None) -> list:
    return [row for row in rows(data, mapping) if not row.skip]


@pytest.mark.parametrize(
    ("out", "into"),
    [("Af", "Bij"), ("D", "C"), ("DR", "CR"), ("Soll", "Haben"), ("debit", "credit")],
)
def test_a_direction_column_gives_the_sign(out, into):
    data = f"Datum;Naam;Bedrag;Af Bij\n20240301;Shop;12,50;{out}\n20240302;Salary;1000,00;{into}\n".encode()
    parsed = transactions(data)
    assert [row.amount for row in parsed] == [Decimal("-12.50"), Decimal("1000.00")]
    assert [row.error for row in parsed] == ["", ""]


def test_direction_values_can_be_named_in_the_mapping():
    data = b"Date,Amount,Way\n2024-03-01,5.00,minus\n2024-03-02,7.00,plus\n"
    mapping = {"direction": "Way", "direction_out": ["minus"], "direction_in": ["plus"]}
    assert [row.amount for row in transactions(data, mapping)] == [Decimal("-5.00"), Decimal("7.00")]


def test_an_unknown_direction_value_is_an_error_not_a_guess():
    data = b"Date,Amount,Type\n2024-03-01,5.00,D\n2024-03-02,7.00,X\n"
    parsed = transactions(data, {"direction": "Type"})
    assert parsed[0].amount == Decimal("-5.00")
    assert "neither money out nor money in" in parsed[1].error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(85.00)", "-85.00"),
        ("+ $73.01", "73.01"),
        ("- $73.01", "-73.01"),
        (".23", "0.23"),
        ("11'373.94", "11373.94"),
        ("85.00-", "-85.00"),
        ("−4.20", "-4.20"),
        ("USD 1,250.00", "1250.00"),
        ("-3.77000", "-3.77"),
    ],
)
def test_amounts_in_the_forms_banks_write_them(text, expected):
    assert parse_decimal(text) == Decimal(expected)


def test_amounts_with_a_decimal_comma_and_apostrophes_or_spaces():
    assert parse_decimal("1 234,56", decimal_separator=",") == Decimal("1234.56")
    assert parse_decimal("(1.234,56)", decimal_separator=",") == Decimal("-1234.56")


def test_metadata_lines_before_the_header_and_a_totals_line_after_are_skipped_not_errors():
    data = (
        b"Account statement\n"
        b"Account:;NL00BANK0123456789\n"
        b"Period:;01.03.2024 - 31.03.2024\n"
        b"\n"
        b"Datum;Omschrijving;Bedrag\n"
        b"01.03.2024;Bakker;-3,40\n"
        b"13.03.2024;Salaris;2.450,00\n"
        b"Totaal;;2.446,60\n"
    )
    parsed = rows(data)
    assert [(row.line_number, row.skip != "") for row in parsed] == [
        (1, True),
        (2, True),
        (3, True),
        (6, False),
        (7, False),
        (8, True),
    ]
    data_rows = [row for row in parsed if not row.skip]
    assert [row.date for row in data_rows] == [date(2024, 3, 1), date(2024, 3, 13)]
    assert [row.amount for row in data_rows] == [Decimal("-3.40"), Decimal("2450.00")]
    assert all(not row.error for row in parsed)
    assert "totals" in parsed[-1].skip


def test_a_bad_date_between_data_rows_is_still_an_error():
    data = b"Date,Payee,Amount\n2024-03-01,A,-1.00\nnot a date,B,-2.00\n2024-03-03,C,-3.00\n"
    parsed = rows(data)
    assert [bool(row.error) for row in parsed] == [False, True, False]


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["2024.03.01", "2024.03.15"], [date(2024, 3, 1), date(2024, 3, 15)]),
        (["03/04/2024", "03/15/2024"], [date(2024, 3, 4), date(2024, 3, 15)]),
        (["03/04/2024", "15/04/2024"], [date(2024, 4, 3), date(2024, 4, 15)]),
        (["20240301", "20240315"], [date(2024, 3, 1), date(2024, 3, 15)]),
        (["01-Mar-24", "15-Mar-24"], [date(2024, 3, 1), date(2024, 3, 15)]),
    ],
)
def test_the_date_format_is_decided_from_the_column(dates, expected):
    data = ("Date,Payee,Amount\n" + "".join(f"{day},Shop,-1.00\n" for day in dates)).encode()
    assert [row.date for row in transactions(data)] == expected


def test_day_and_month_are_settled_by_a_late_row_of_a_long_file():
    lines = ["Date,Payee,Amount"] + [f"0{1 + index % 9}/0{1 + index % 9}/2024,Shop,-1.00" for index in range(400)]
    lines.append("13/01/2024,Late,-1.00")
    parsed = transactions("\n".join(lines).encode())
    assert parsed[-1].date == date(2024, 1, 13)
    assert all(not row.error for row in parsed)


def test_a_file_without_a_date_column_says_which_columns_it_has_and_not_give_date_format():
    with pytest.raises(ImportFileError) as raised:
        rows(b"Payee,Amount\nShop,-1.00\n")
    assert "Payee, Amount" in str(raised.value)
    assert "date_format" not in str(raised.value)


def test_a_footer_line_does_not_break_date_detection_even_with_plain_iso_dates():
    data = b"Date,Payee,Amount\n2024-03-01,A,-1.00\n2024-03-02,B,-2.00\nTotal,,-3.00\n"
    parsed = rows(data)
    assert [row.skip != "" for row in parsed] == [False, False, True]


def test_cr_only_line_ends_a_bom_and_multi_line_quoted_fields():
    data = b'\xef\xbb\xbfDate,Payee,Amount\r2024-03-01,"Two\rlines",-1.00\r2024-03-02,B,-2.00\r'
    parsed = transactions(data)
    assert [row.amount for row in parsed] == [Decimal("-1.00"), Decimal("-2.00")]
    assert parsed[0].payee == "Two lines"


def test_the_wizard_head_reports_what_was_detected_and_how_sure():
    data = (CORPUS / "csv" / "csv2ofx-schwab-checking.csv").read_bytes()
    head = read_head(io.BytesIO(data), {})
    assert head["detected"]["date"] == "Date"
    assert head["detected"]["debit"] == "Withdrawal"
    assert head["detected"]["credit"] == "Deposit"
    assert head["overall"] == 1.0
    vague = read_head(io.BytesIO(b"a,b,c\n2024-01-01,x,1.00\n"), {})
    assert vague["detected"]["amount"] == "c"
    assert vague["overall"] < 1.0


def test_automatic_mapping_reads_at_least_nine_in_ten_corpus_csvs_right_with_no_hints():
    entries = [
        entry
        for entry in tomllib.loads((CORPUS / "expected.toml").read_text())["file"]
        if entry["path"].startswith("csv/")
    ]
    right = []
    for entry in entries:
        try:
            parsed = transactions((CORPUS / entry["path"]).read_bytes())
        except ImportFileError:
            continue
        good = [row for row in parsed if not row.error]
        if len(parsed) == entry["rows"] and sum(row.amount for row in good) == Decimal(entry["sum"]):
            right.append(entry["path"])
    assert len(entries) >= 12
    assert len(right) >= 0.9 * len(entries), sorted({entry["path"] for entry in entries} - set(right))


def test_a_metadata_line_naming_a_date_and_an_amount_above_a_wider_table_is_not_its_header():
    data = b"Statement date,Amount due\nCard statement\nDate,Description,Amount,Balance\n2024-03-01,Shop,-1.00,99.00\n"
    parsed = rows(data)
    assert [(row.skip != "", row.error) for row in parsed] == [(True, ""), (True, ""), (False, "")]
    assert (parsed[-1].payee, parsed[-1].amount) == ("Shop", Decimal("-1.00"))


def test_a_blank_beside_a_lone_one_letter_mark_stays_an_error_not_a_guessed_sign():
    # "C" alone may be a cleared flag: only CR/DR (or credit/debit) mark one side so that blank means the other.
    data = b"Date,Payee,Amount,Flag\n2024-03-01,A,5.00,C\n2024-03-02,B,6.00,\n"
    assert [row.error != "" for row in rows(data)] == [False, True]
    data = b"Date,Payee,Amount,Flag\n2024-03-01,A,5.00,CR\n2024-03-02,B,6.00,\n"
    assert [row.amount for row in rows(data)] == [Decimal("5.00"), Decimal("-6.00")]
