"""Generated from the import-format registry (uploads.importers.FORMATS): every declared format has real
fixture files under tests/uploads/corpus/ that detection recognises as that format and as no other, and
that parse to the row counts worked out by hand (corpus/expected.toml); a file in no declared format gets a
clear error; mapping options are checked against the format's declaration; the README's formats table is
the registry's."""

from __future__ import annotations

import io
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from uploads import sniffing
from uploads.importers import FORMATS, FormatError, ImportFileError, StatementFormat, parse_statement
from uploads.models import StatementImport

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: list[dict[str, Any]] = tomllib.loads((CORPUS / "expected.toml").read_text())["file"]
README = Path(__file__).resolve().parents[2] / "README.md"
# The format each fixture is in, said by its name: the answer comes from the files, not from the registry.
FORMAT_OF_SUFFIX = {".csv": "csv", ".ofx": "ofx", ".qfx": "qfx", ".qif": "qif", ".xml": "camt"}
# As much of a file as an upload's detection sees (uploads.measuring).
HEAD_BYTES = 8192


def format_of(entry: dict[str, Any]) -> StatementFormat | None:
    """None for a file in a format we do not read (an MT940 .sta)."""
    name = FORMAT_OF_SUFFIX.get(Path(entry["path"]).suffix.lower())
    return FORMATS[name] if name else None


def family(spec: StatementFormat) -> set[str]:
    """A format, the one it is a variant of, and that one's variants: the formats its files may be chosen as."""
    root = spec.variant_of or spec.name
    return {root} | {other.name for other in FORMATS.all() if other.variant_of == root}


def by_path(entry: dict[str, Any]) -> str:
    return str(entry["path"])


def head(entry: dict[str, Any]) -> bytes:
    return (CORPUS / entry["path"]).read_bytes()[:HEAD_BYTES]


@pytest.mark.parametrize("spec", FORMATS.all(), ids=lambda spec: spec.name)
def test_every_registered_format_has_real_fixture_files(spec):
    assert [entry for entry in EXPECTED if format_of(entry) is spec], (
        f"no fixture in tests/uploads/corpus for {spec.name}"
    )


@pytest.mark.parametrize("entry", EXPECTED, ids=by_path)
def test_detection_picks_each_fixtures_format_and_never_another(entry):
    spec = format_of(entry)
    data = head(entry)
    if spec is None:
        with pytest.raises(sniffing.RefusedFile, match=re.escape(entry["refused"])):
            FORMATS.detect(data)
        return
    assert FORMATS.detect(data).name == (spec.variant_of or spec.name)
    content_type, text = sniffing.sniff(data), sniffing.decode_head(data) or ""
    assert [other.name for other in FORMATS.all() if other.claims(content_type, text[:4000])] == [
        spec.variant_of or spec.name
    ]
    assert FORMATS.for_upload(data, spec.name) is spec
    for other in FORMATS.all():
        if other.name not in family(spec):
            with pytest.raises(FormatError) as refused:
                FORMATS.for_upload(data, other.name)
            assert refused.value.field == "format"


# A file in a format we do not read is refused at detection (above), never parsed.
@pytest.mark.parametrize("entry", [entry for entry in EXPECTED if format_of(entry)], ids=by_path)
def test_each_fixture_parses_to_its_hand_checked_row_count(entry):
    spec = format_of(entry)
    assert spec is not None
    with (CORPUS / entry["path"]).open("rb") as stream:
        if "refused" in entry:
            with pytest.raises(ImportFileError, match=re.escape(entry["refused"])):
                list(parse_statement(spec.name, stream, mapping=entry.get("mapping")))
            return
        parsed = list(parse_statement(spec.name, stream, mapping=entry.get("mapping")))
    assert len([row for row in parsed if not row.skip]) == entry["rows"]
    assert len([row for row in parsed if row.skip]) == entry.get("skipped", 0)
    assert len([row for row in parsed if row.error]) == entry.get("errors", 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7\n1 0 obj\n", "Statements are CSV, OFX/QFX, QIF or CAMT.053 files."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Statements are CSV, OFX/QFX, QIF or CAMT.053 files."),
        (b"<?xml version='1.0'?><rss><channel/></rss>", "This XML file is not a CAMT.053 statement."),
        (b"PK\x03\x04\x14\x00", "The file is a ZIP archive (or an Office document), which is not accepted."),
        (b"\x00\x01\x02\x03 binary", "The file's type is not recognised (binary content)."),
        (b"", "The file is empty."),
    ],
    ids=["pdf", "png", "other-xml", "zip", "binary", "empty"],
)
def test_a_file_in_no_registered_format_gets_a_clear_error(data, message):
    with pytest.raises(FormatError) as refused:
        FORMATS.for_upload(data, None)
    assert (refused.value.field, refused.value.messages) == ("file", [message])


def test_a_format_the_registry_does_not_know_is_refused_by_name():
    with pytest.raises(FormatError) as refused:
        FORMATS.for_upload(b"Date,Amount\n2024-01-02,5\n", "mt940")
    assert refused.value.messages == ["Choose one of csv, ofx, qfx, qif, camt."]


@pytest.mark.parametrize(
    ("fmt", "mapping", "error"),
    [
        ("ofx", {"date": "Datum"}, "OFX files have no option 'date': it takes no options."),
        ("qif", {"amount": "T"}, "QIF files have no option 'amount': its options are encoding, decimal, date_format, "),
        ("csv", {"decimal": ";"}, 'decimal must be "." or "," (got \';\').'),
        ("csv", {"delimiter": ";;"}, "delimiter must be a single character (got ';;')."),
        ("csv", {"direction_out": "minus"}, "direction_out must be a list of words (got 'minus')."),
        ("csv", {"skip_rows": -1}, "skip_rows must be a whole number (got -1)."),
        ("csv", {"encoding": "no-such-codec"}, "encoding must be a Python codec name (got 'no-such-codec')."),
        ("qif", {"date_order": "ydm"}, 'date_order must be "ymd" or "mdy" or "dmy" (got \'ydm\').'),
    ],
)
def test_a_mapping_option_the_format_does_not_declare_or_a_bad_value_is_named(fmt, mapping, error):
    (message,) = FORMATS[fmt].option_errors(mapping)
    assert message.startswith(error)


def test_options_not_given_mean_detect_and_declared_ones_pass():
    mapping = {
        "delimiter": ";",
        "has_header": True,
        "skip_rows": "2",
        "date": "Datum",
        "amount": 3,
        "description": ["Text", 4],
        "direction_out": ["minus"],
        "decimal": "",
        "date_format": "%d.%m.%Y",
        "explicit": True,
    }
    assert FORMATS["csv"].option_errors(mapping) == []
    assert FORMATS["ofx"].option_errors({}) == []


@pytest.mark.django_db
def test_an_upload_with_an_option_its_format_does_not_take_is_refused_before_anything_is_stored(account, import_bytes):
    data = (CORPUS / "ofx" / "ofxparse-checking.ofx").read_bytes()
    with pytest.raises(ValidationError) as refused:
        import_bytes(account, data, name="statement.ofx", mapping={"date": "Datum"})
    assert refused.value.message_dict == {"mapping": ["OFX files have no option 'date': it takes no options."]}
    assert not StatementImport.objects.exists()


@pytest.mark.django_db
def test_an_upload_in_no_registered_format_is_refused_naming_the_formats(account, import_bytes):
    with pytest.raises(ValidationError) as refused:
        import_bytes(account, b"%PDF-1.7\n", name="statement.pdf")
    assert refused.value.message_dict == {"file": ["Statements are CSV, OFX/QFX, QIF or CAMT.053 files."]}


def test_the_readmes_formats_table_is_the_registrys():
    text = README.read_text()
    start, end = "<!-- import formats: generated from uploads.importers.FORMATS -->", "<!-- end of import formats -->"
    assert start in text and end in text
    block = text.split(start, 1)[1].split(end, 1)[0].strip()
    assert block == FORMATS.markdown(), "replace the README's block with FORMATS.markdown():\n" + FORMATS.markdown()


def test_parsing_dispatches_on_the_registry_with_options_only_to_formats_that_take_them():
    data = (CORPUS / "ofx" / "ofxparse-checking.ofx").read_bytes()
    assert len(list(parse_statement("qfx", io.BytesIO(data)))) == 3


@pytest.mark.django_db
def test_the_admin_wizards_mapping_is_checked_by_the_csv_formats_options(admin_client, account):
    handle = io.BytesIO(b"When;Who;How much\n15.03.2024;Kiosk;-1,50\n")
    handle.name = "bank.csv"
    mapping_url = admin_client.post("/admin/uploads/statementimport/wizard/", {"account": account.pk, "file": handle})[
        "Location"
    ]
    response = admin_client.post(mapping_url, {"delimiter": ";;", "date": "When", "amount": "How much"})
    assert response.status_code == 200
    assert b"delimiter must be a single character" in response.content
    assert StatementImport.objects.get().mapping == {}
