"""Statement import end to end: upload → preview → commit, de-duplication, near matches, rules, roles."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import Transaction, TransactionTag
from ledger.rules import rule_create
from ledger.services.transactions import transaction_delete
from tests.factories import CategoryFactory, TagFactory, TransactionFactory
from tests.uploads.conftest import sample
from uploads.models import CsvProfile, ImportedKey, ImportStatus, StatementImport

pytestmark = pytest.mark.django_db

TRAM_DAY = b"Date,Payee,Amount\n2024-03-15,Tram,-2.80\n2024-03-15,Tram,-2.80\n2024-03-15,Bakery,-3.10\n"


def amounts(account) -> list[Decimal]:
    return sorted(Transaction.objects.filter(account=account).values_list("amount", flat=True))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("de_decimal_comma_bom_crlf.csv", 4),
        ("us_debit_credit_cp1252.csv", 3),
        ("utf16_tab.csv", 2),
        ("ofx1_sgml.ofx", 3),
        ("ofx2_xml.ofx", 2),
        ("quicken.qfx", 2),
        ("bank.qif", 3),
        ("camt053_batch.xml", 5),
    ],
)
def test_it_imports_each_format_once_and_re_importing_adds_nothing(account, import_bytes, name, expected):
    first = import_bytes(account, sample(name), name=name, commit=True)
    assert first.status == ImportStatus.COMMITTED, first.error
    assert first.counts["imported"] == expected
    again = import_bytes(account, sample(name), name=name, commit=True)
    assert again.counts["imported"] == 0
    assert again.counts["duplicate"] == expected
    assert Transaction.objects.filter(account=account).count() == expected


def test_it_stores_camt_batch_details_with_their_own_amounts(account, import_bytes):
    import_bytes(account, sample("camt053_batch.xml"), name="s.xml", commit=True)
    assert amounts(account) == [Decimal("-150"), Decimal("-100"), Decimal("-50"), Decimal("-49.9"), Decimal("1200")]


def test_two_identical_rows_on_one_day_both_survive_and_only_once(account, import_bytes):
    first = import_bytes(account, TRAM_DAY, commit=True)
    assert first.counts["imported"] == 3
    keys = sorted(ImportedKey.objects.filter(account=account).values_list("key", flat=True))
    assert keys[0].endswith("#1") and any(key.endswith("#2") for key in keys)
    # An overlapping file with one more tram fare adds exactly that one.
    overlapping = TRAM_DAY + b"2024-03-15,Tram,-2.80\n"
    second = import_bytes(account, overlapping, commit=True)
    assert second.counts["imported"] == 1
    assert amounts(account).count(Decimal("-2.80")) == 3


def test_a_deleted_imported_transaction_stays_deleted_on_re_import(account, import_bytes, owner):
    import_bytes(account, TRAM_DAY, commit=True)
    bakery = Transaction.objects.get(account=account, payee="Bakery")
    transaction_delete(transaction_obj=bakery, user=owner)
    again = import_bytes(account, TRAM_DAY, commit=True)
    assert again.counts["imported"] == 0
    assert again.counts["ignored"] == 1
    row = again.rows.get(payee="Bakery")
    assert row.reason == "imported before and deleted since"
    assert not Transaction.objects.filter(account=account, payee="Bakery").exists()


def test_a_row_ignored_on_commit_stays_ignored_next_time(account, import_bytes):
    preview = import_bytes(account, TRAM_DAY)
    bakery = preview.rows.get(payee="Bakery")
    import_bytes_commit = import_bytes(account, TRAM_DAY)
    assert import_bytes_commit.counts["new"] == 3
    from uploads.services.statement_imports import statement_import_commit

    statement_import_commit(statement_import=preview, ignore=[bakery.pk])
    assert not Transaction.objects.filter(payee="Bakery").exists()
    later = import_bytes(account, TRAM_DAY, commit=True)
    assert later.rows.get(payee="Bakery").reason == "ignored in an earlier import"
    assert later.counts["imported"] == 0


def already_in_march(account, day: int, amount: str, payee: str, **fields) -> Transaction:
    """A row the books hold before the import (typed in by hand, or pending at the bank)."""
    return TransactionFactory(
        account=account, date=datetime.date(2024, 3, day), amount=Decimal(amount), payee=payee, **fields
    )


def test_near_matches_are_shown_with_a_reason_and_merged_only_when_asked(account, import_bytes):
    typed = already_in_march(account, 13, "-3.10", "bakery (typed)")
    pending = already_in_march(account, 14, "-2.80", "tram", status="pending")
    preview = import_bytes(account, TRAM_DAY)
    near = {row.payee: row for row in preview.rows.filter(status="near_match")}
    assert near["Bakery"].matched_transaction_id == typed.pk
    assert "2 day(s) apart" in near["Bakery"].reason
    assert "pending" in next(row.reason for row in near.values() if row.payee == "Tram")
    from uploads.services.statement_imports import statement_import_commit

    trams = list(preview.rows.filter(status="near_match", payee="Tram").values_list("id", flat=True))
    committed = statement_import_commit(statement_import=preview, merge=[near["Bakery"].pk], keep=trams)
    # Merged: no new bakery row, its key now points at the typed one. The near match kept was imported.
    assert Transaction.objects.filter(account=account, amount=Decimal("-3.10")).count() == 1
    assert ImportedKey.objects.filter(transaction=typed).exists()
    assert committed.counts["merged"] == 1
    assert Transaction.objects.filter(account=account, amount=Decimal("-2.80")).count() == 3
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_merging_a_pending_near_match_clears_it(account, import_bytes):
    pending = already_in_march(account, 10, "-3.10", "bakery", status="pending")
    preview = import_bytes(account, TRAM_DAY)
    row = preview.rows.get(payee="Bakery")
    assert row.status == "near_match"
    from uploads.services.statement_imports import statement_import_commit

    statement_import_commit(statement_import=preview, merge=[row.pk])
    pending.refresh_from_db()
    assert pending.status == "cleared"


def test_malformed_rows_are_reported_by_line_and_commit_nothing(account, import_bytes, owner, client_for):
    preview = import_bytes(account, sample("malformed.csv"), mapping={"date_format": "%Y-%m-%d"})
    errors = list(preview.rows.filter(status="error").values_list("line_number", flat=True))
    assert errors == [3, 4]
    response = client_for(owner).post(f"/api/v1/imports/{preview.pk}/commit/", {}, format="json")
    assert response.status_code == 409, response.json()
    assert "lines 3, 4" in response.json()["detail"]
    assert not Transaction.objects.filter(account=account).exists()
    # Skipping the bad rows explicitly commits the rest.
    ids = list(preview.rows.filter(status="error").values_list("id", flat=True))
    response = client_for(owner).post(f"/api/v1/imports/{preview.pk}/commit/", {"ignore": ids}, format="json")
    assert response.status_code == 200, response.json()
    assert amounts(account) == [Decimal("-1.00")]


def test_an_unreadable_file_fails_and_commits_nothing(account, owner, client_for):
    data = b"<?xml version='1.0'?><Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'><BkToCstmrStmt><Stmt><Ntry>"
    response = client_for(owner).post(
        "/api/v1/imports/", {"file": io.BytesIO(data), "account": account.pk}, format="multipart"
    )
    assert response.status_code == 400
    assert "line" in response.json()["file"][0]
    statement = StatementImport.objects.get()
    assert statement.status == ImportStatus.FAILED
    response = client_for(owner).post(f"/api/v1/imports/{statement.pk}/commit/", {}, format="json")
    assert response.status_code == 409, response.json()


def test_rules_run_on_imported_rows(account, import_bytes, household):
    transport = CategoryFactory(household=household, name="Transport")
    commute = TagFactory(household=household, name="commute")
    rule_create(
        household=household,
        name="Trams",
        conditions=[{"field": "payee", "operator": "contains", "value": "tram"}],
        set_category=transport,
        add_tags=[commute],
        set_payee="Public transport",
    )
    rule_create(
        household=household,
        name="Later",
        position=5,
        conditions=[{"field": "amount", "operator": "between", "value": ["-3.00", "-2.00"]}],
        set_category=CategoryFactory(household=household, name="Small"),
    )
    import_bytes(account, TRAM_DAY, commit=True)
    trams = Transaction.objects.filter(account=account, amount=Decimal("-2.80"))
    assert {(tx.payee, tx.category_id) for tx in trams} == {("Public transport", transport.pk)}
    assert TransactionTag.objects.filter(transaction__in=trams, tag=commute).count() == 2
    assert Transaction.objects.get(payee="Bakery").category_id is None


def test_a_csv_mapping_is_saved_per_account_and_reused(account, import_bytes):
    data = b"Wann|Wer|Wieviel\n15.03.2024|Kiosk|-1,50\n"
    mapping = {
        "delimiter": "|",
        "date": "Wann",
        "payee": "Wer",
        "amount": "Wieviel",
        "decimal": ",",
        "date_format": "%d.%m.%Y",
    }
    import_bytes(account, data, mapping=mapping, save_profile="Sparkasse", commit=True)
    assert CsvProfile.objects.get(account=account, name="Sparkasse").mapping == mapping
    later = import_bytes(account, data.replace(b"-1,50", b"-2,50"), profile="Sparkasse", commit=True)
    assert later.counts["imported"] == 1
    assert amounts(account) == [Decimal("-2.50"), Decimal("-1.50")]


def _csv(rows: int) -> bytes:
    lines = ["Date,Payee,Amount"] + [f"2024-01-{1 + i % 28:02d},Payee {rows}-{i},-{i}.00" for i in range(rows)]
    return "\n".join(lines).encode()


def test_the_import_flow_makes_the_same_number_of_queries_for_100_and_1000_rows(account, import_bytes):
    counts = []
    for size in (100, 1000):
        with CaptureQueriesContext(connection) as queries:
            statement = import_bytes(account, _csv(size), commit=True)
        assert statement.counts["imported"] == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_it_imports_through_the_api(account, owner, client_for):
    client = client_for(owner)
    response = client.post(
        "/api/v1/imports/", {"file": io.BytesIO(TRAM_DAY), "account": account.pk}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["counts"]["new"] == 3
    assert [row["line_number"] for row in body["rows"]["results"]] == [2, 3, 4]
    page = client.get(f"/api/v1/imports/{body['id']}/?page_size=2&page=2").json()
    assert [row["line_number"] for row in page["rows"]["results"]] == [4]
    committed = client.post(f"/api/v1/imports/{body['id']}/commit/", {}, format="json")
    assert committed.status_code == 200
    assert committed.json()["counts"]["imported"] == 3
    assert client.post(f"/api/v1/imports/{body['id']}/commit/", {}, format="json").status_code == 409


def test_outsiders_cannot_see_preview_or_commit_anothers_import(account, import_bytes, outsider, client_for):
    statement = import_bytes(account, TRAM_DAY)
    client = client_for(outsider)
    assert client.get(f"/api/v1/imports/{statement.pk}/").status_code == 404
    assert client.post(f"/api/v1/imports/{statement.pk}/commit/", {}, format="json").status_code == 404
    assert client.get("/api/v1/imports/").json()["results"] == []
    # Nor import into someone else's account: it does not exist for them.
    response = client.post(
        "/api/v1/imports/", {"file": io.BytesIO(TRAM_DAY), "account": account.pk}, format="multipart"
    )
    assert response.status_code == 400
    assert not Transaction.objects.exists()


def test_viewers_read_imports_but_cannot_upload_or_commit(account, import_bytes, viewer, client_for):
    statement = import_bytes(account, TRAM_DAY)
    client = client_for(viewer)
    assert client.get(f"/api/v1/imports/{statement.pk}/").status_code == 200
    assert client.post(f"/api/v1/imports/{statement.pk}/commit/", {}, format="json").status_code == 403
    response = client.post(
        "/api/v1/imports/", {"file": io.BytesIO(TRAM_DAY), "account": account.pk}, format="multipart"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 64, "ZIP"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "Windows executable"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "ELF"),
    ],
)
def test_binaries_renamed_csv_are_refused(account, owner, client_for, data, message):
    upload = io.BytesIO(data)
    upload.name = "statement.csv"
    response = client_for(owner).post("/api/v1/imports/", {"file": upload, "account": account.pk}, format="multipart")
    assert response.status_code == 400
    assert message in response.json()["file"][0]
    assert not StatementImport.objects.exists()


@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
def test_xml_bombs_and_external_entities_are_refused(account, owner, client_for, name):
    upload = io.BytesIO(sample(name))
    upload.name = name
    response = client_for(owner).post("/api/v1/imports/", {"file": upload, "account": account.pk}, format="multipart")
    assert response.status_code == 400
    assert "DTD or entities" in response.json()["file"][0]
    assert not Transaction.objects.exists()


def test_a_declared_gigabyte_is_refused_before_reading(account, owner, client_for):
    response = client_for(owner).post(
        "/api/v1/imports/",
        {"file": io.BytesIO(TRAM_DAY), "account": account.pk},
        format="multipart",
        CONTENT_LENGTH=str(1 << 30),
    )
    assert response.status_code == 400
    assert "at most" in response.json()["file"][0]


def test_files_over_the_import_limit_are_refused(account, owner, client_for, settings):
    settings.IMPORT_MAX_BYTES = 50
    response = client_for(owner).post(
        "/api/v1/imports/", {"file": io.BytesIO(TRAM_DAY), "account": account.pk}, format="multipart"
    )
    assert response.status_code == 400
    assert not StatementImport.objects.exists()


def test_the_command_imports_and_summarises(account, tmp_path):
    path = tmp_path / "statement.csv"
    path.write_bytes(TRAM_DAY + b"2024-03-16,Broken,abc\n")
    out = io.StringIO()
    err = io.StringIO()
    call_command("import_statement", str(path), "--account", str(account.pk), "--dry-run", stdout=out, stderr=err)
    assert "rows read: 4, would import: 3, duplicates: 0, ignored: 0, near matches: 0, errors: 1" in out.getvalue()
    assert "line 5" in err.getvalue()
    assert not Transaction.objects.exists()
    path.write_bytes(TRAM_DAY)
    out = io.StringIO()
    call_command("import_statement", str(path), "--account", str(account.pk), stdout=out)
    assert "imported: 3" in out.getvalue()
    out = io.StringIO()
    call_command("import_statement", str(path), "--account", str(account.pk), "--format", "csv", stdout=out)
    assert "imported: 0, duplicates: 3" in out.getvalue()


def test_the_command_imports_nothing_from_a_file_with_errors_unless_told_to_skip_them(account, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "statement.csv"
    path.write_bytes(TRAM_DAY + b"2024-03-16,Broken,abc\n")
    with pytest.raises(CommandError, match=r"Nothing was imported\. Rows in error \(lines 5\).*--skip-errors"):
        call_command("import_statement", str(path), "--account", str(account.pk), stdout=io.StringIO())
    assert not Transaction.objects.exists()
    out = io.StringIO()
    call_command("import_statement", str(path), "--account", str(account.pk), "--skip-errors", stdout=out)
    assert "imported: 3" in out.getvalue() and "errors: 0" in out.getvalue()
    assert Transaction.objects.filter(account=account).count() == 3


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_command_draws_a_progress_bar_on_a_terminal_and_plain_lines_elsewhere(account, tmp_path):
    path = tmp_path / "statement.csv"
    lines = ["Date,Payee,Amount"] + [
        f"2024-03-{1 + index % 28:02d},Shop {index},-1.{index % 100:02d}" for index in range(12_000)
    ]
    path.write_text("\n".join(lines) + "\n")
    terminal = _Terminal()
    call_command("import_statement", str(path), "--account", str(account.pk), "--dry-run", stdout=terminal)
    drawn = terminal.getvalue()
    # Redrawn in place: a bar after 5,000 and 10,000 rows, then full at the end.
    frames = [frame for frame in drawn.split("\r") if frame.strip().startswith("[")]
    assert len(frames) == 3
    assert frames[0].split("]")[0].count("#") < frames[1].split("]")[0].count("#") < 30
    assert "[" + "#" * 30 + "] 100%     12,000 rows" in frames[2]
    assert "rows read: 12000, would import: 12000" in drawn

    plain = io.StringIO()
    call_command("import_statement", str(path), "--account", str(account.pk), "--dry-run", stdout=plain)
    assert "\r" not in plain.getvalue()
    assert "  5000 rows read (" in plain.getvalue() and "  12000 rows read (100% of the file)" in plain.getvalue()


def test_the_command_fails_loudly(account, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a file"):
        call_command("import_statement", str(tmp_path / "missing.csv"), "--account", str(account.pk))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"MZ\x90\x00")
    with pytest.raises(CommandError, match="executable"):
        call_command("import_statement", str(bad), "--account", str(account.pk))


def test_a_commit_records_one_history_entry_for_the_whole_import(account, import_bytes):
    from ledger.models import AuditEntry

    committed = import_bytes(account, TRAM_DAY, commit=True)

    entries = AuditEntry.objects.filter(household_id=account.household_id, action="import")
    assert entries.count() == 1
    assert entries.get().object_id == committed.pk
    assert entries.get().changes["imported"] == 3
