"""Files follow their rows, and an import's lifecycle: uploaded → previewing → previewed → committed (final).

Deletes by every path remove the stored file once the deletion commits (never before); refused or failed
uploads leave neither a file nor a row; an interrupted import is never committable and can be retried or
discarded; a committed import can never be previewed or committed again (service, admin wizard, database).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from financetracker.core.errors import ConflictError
from ledger.models import Transaction
from ledger.services.accounts_categories_tags import account_delete
from tests.uploads.test_attachments import PDF, PNG, upload
from uploads.models import Attachment, CsvProfile, ImportStatus, StatementImport, StatementImportRow
from uploads.services import attachments, statement_imports

pytestmark = pytest.mark.django_db

CSV = b"Date,Payee,Amount\n2024-03-15,Tram,-2.80\n2024-03-16,Bakery,-3.10\n"


def stored(tmp_path: Path) -> list[str]:
    root = tmp_path / "uploads"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def make_attachment(household, data: bytes = PDF) -> Attachment:
    return attachments.attachment_create(household=household, upload=io.BytesIO(data), original_name="r.pdf")


def interrupt(statement: StatementImport) -> None:
    """What a preview killed with its process or the database leaves: "previewing", and no lock held."""
    StatementImport.objects.filter(pk=statement.pk).update(status=ImportStatus.PREVIEWING)
    statement.refresh_from_db()


# --- files follow their rows ------------------------------------------------------------------------


def test_deleting_an_attachment_through_the_api_removes_its_file_once_committed(
    owner, household, client_for, tmp_path, django_capture_on_commit_callbacks
):
    attachment = make_attachment(household)
    assert default_storage.exists(attachment.file.name or "")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert client_for(owner).delete(f"/api/v1/attachments/{attachment.pk}/").status_code == 204
        assert default_storage.exists(attachment.file.name or "")  # not before the commit
    assert callbacks
    assert stored(tmp_path) == []


def test_a_rolled_back_attachment_delete_keeps_the_file(household, tmp_path, django_capture_on_commit_callbacks):
    attachment = make_attachment(household)
    pk, name = attachment.pk, attachment.file.name or ""
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        attachments.attachment_delete(attachment=attachment)
        raise RuntimeError("something later in the same transaction failed")
    assert Attachment.objects.filter(pk=pk).exists()
    assert default_storage.exists(name)


def test_admin_single_and_bulk_deletes_remove_the_files(
    admin_client, household, account, import_bytes, tmp_path, django_capture_on_commit_callbacks
):
    first, second = make_attachment(household, PDF), make_attachment(household, PNG)
    imports = [import_bytes(account, CSV), import_bytes(account, CSV.replace(b"Tram", b"Bus"), commit=True)]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/uploads/attachment/{first.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        response = admin_client.post(
            "/admin/uploads/attachment/",
            {"action": "delete_selected", "_selected_action": [second.pk], "post": "yes"},
        )
        assert response.status_code == 302
        response = admin_client.post(
            "/admin/uploads/statementimport/",
            {"action": "delete_selected", "_selected_action": [i.pk for i in imports], "post": "yes"},
        )
        assert response.status_code == 302
    assert not Attachment.objects.exists() and not StatementImport.objects.exists()
    assert not StatementImportRow.objects.exists()
    assert stored(tmp_path) == []
    assert Transaction.objects.filter(account=account).count() == 2  # deleting an import keeps its transactions


def test_deleting_an_account_removes_the_files_of_its_imports(
    account, import_bytes, tmp_path, django_capture_on_commit_callbacks
):
    import_bytes(account, CSV)
    assert len(stored(tmp_path)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(account=account)
    assert stored(tmp_path) == []


def test_a_refused_attachment_stores_nothing(owner, household, client_for, tmp_path):
    response = upload(client_for(owner), b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "receipt.pdf")
    assert response.status_code == 400
    assert stored(tmp_path) == [] and not Attachment.objects.exists()


def test_a_failed_import_insert_removes_the_file_it_stored(account, tmp_path):
    # A real PostgreSQL failure on the insert, after the file was stored.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = 'disk_full'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON uploads_statementimport FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse()"
        )
    with pytest.raises(Exception, match="disk full"), transaction.atomic():
        statement_imports.statement_import_upload(account=account, upload=io.BytesIO(CSV), original_name="s.csv")
    assert stored(tmp_path) == []


@pytest.mark.django_db(transaction=True)
def test_a_receipt_stored_by_an_admin_page_that_is_rolled_back_leaves_no_file(client, owner, tmp_path):
    import datetime

    from ledger.services.accounts_categories_tags import account_create
    from ledger.services.transactions import transaction_create
    from tests.factories import staff_member
    from tests.uploads.test_admin_attachments import change_form_post, change_url

    books = account_create(
        household=owner.memberships.get().household, name="Cash", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    tx = transaction_create(account=books, date=datetime.date(2024, 3, 1), amount="-12.30", payee="Bakery", user=owner)
    client.force_login(staff_member(owner))
    data = change_form_post(tx, None)
    # The first receipt is stored; the second is the same bytes, refused, so the whole page rolls back.
    data.update(
        {
            "attachments-TOTAL_FORMS": "2",
            "attachments-0-upload": io.BytesIO(PDF),
            "attachments-1-upload": io.BytesIO(PDF),
        }
    )
    data["attachments-0-upload"].name = "a.pdf"
    data["attachments-1-upload"].name = "b.pdf"
    response = client.post(change_url(tx), data)
    assert response.status_code == 200
    assert not Attachment.objects.exists()
    assert stored(tmp_path) == []


# --- import lifecycle -------------------------------------------------------------------------------


def test_a_fresh_upload_is_not_committable_before_its_preview(account):
    statement = statement_imports.statement_import_upload(
        account=account, upload=io.BytesIO(CSV), original_name="s.csv"
    )
    assert statement.status == ImportStatus.UPLOADED
    with pytest.raises(ConflictError, match="only a previewed import"):
        statement_imports.statement_import_commit(statement_import=statement)


def test_an_interrupted_import_is_never_committable_and_a_retry_imports_it_once(
    owner, client_for, account, import_bytes
):
    statement = import_bytes(account, CSV)
    interrupt(statement)
    client = client_for(owner)
    detail = client.get(f"/api/v1/imports/{statement.pk}/").json()
    assert detail["status"] == "previewing" and detail["interrupted"] is True
    assert client.post(f"/api/v1/imports/{statement.pk}/commit/", {}, format="json").status_code == 409
    assert not Transaction.objects.filter(account=account).exists()

    retried = client.post(f"/api/v1/imports/{statement.pk}/retry/")
    assert retried.status_code == 200, retried.content
    assert retried.json()["status"] == "previewed" and retried.json()["interrupted"] is False
    assert client.post(f"/api/v1/imports/{statement.pk}/commit/", {}, format="json").status_code == 200
    assert Transaction.objects.filter(account=account).count() == 2
    again = import_bytes(account, CSV, commit=True)
    assert again.counts["imported"] == 0 and Transaction.objects.filter(account=account).count() == 2


def test_discarding_an_interrupted_import_removes_its_rows_and_file(
    owner, client_for, account, import_bytes, tmp_path, django_capture_on_commit_callbacks
):
    statement = import_bytes(account, CSV)
    interrupt(statement)
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(owner).post(f"/api/v1/imports/{statement.pk}/discard/").status_code == 204
    assert not StatementImport.objects.exists() and not StatementImportRow.objects.exists()
    assert stored(tmp_path) == []


def test_a_committed_import_cannot_be_discarded_or_retried(owner, client_for, account, import_bytes):
    statement = import_bytes(account, CSV, commit=True)
    client = client_for(owner)
    assert client.post(f"/api/v1/imports/{statement.pk}/discard/").status_code == 409
    assert client.post(f"/api/v1/imports/{statement.pk}/retry/").status_code == 409
    statement.refresh_from_db()
    assert statement.status == ImportStatus.COMMITTED


def test_only_writers_of_the_household_retry_or_discard(
    owner, editor, viewer, outsider, client_for, account, import_bytes
):
    statement = import_bytes(account, CSV)
    for action in ("retry", "discard"):
        assert client_for(viewer).post(f"/api/v1/imports/{statement.pk}/{action}/").status_code == 403
        assert client_for(outsider).post(f"/api/v1/imports/{statement.pk}/{action}/").status_code == 404
    assert client_for(editor).post(f"/api/v1/imports/{statement.pk}/retry/").status_code == 200
    assert client_for(editor).post(f"/api/v1/imports/{statement.pk}/discard/").status_code == 204


def test_the_wizards_auto_map_on_a_committed_import_neither_resets_nor_recommits_it(
    admin_client, account, import_bytes
):
    statement = import_bytes(account, CSV, commit=True)
    response = admin_client.get(f"/admin/uploads/statementimport/{statement.pk}/wizard/map/?auto")
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.status == ImportStatus.COMMITTED
    admin_client.post(f"/admin/uploads/statementimport/{statement.pk}/wizard/map/", {"date": "Date"})
    admin_client.post(f"/admin/uploads/statementimport/{statement.pk}/wizard/preview/", {})
    statement.refresh_from_db()
    assert statement.status == ImportStatus.COMMITTED
    assert Transaction.objects.filter(account=account).count() == 2


def test_the_service_refuses_to_preview_a_committed_import(account, import_bytes):
    statement = import_bytes(account, CSV, commit=True)
    with pytest.raises(ConflictError, match="committed"):
        statement_imports.statement_import_preview(statement_import=statement)
    with pytest.raises(ConflictError, match="only a previewed import"):
        statement_imports.statement_import_commit(statement_import=statement)


def test_the_database_keeps_a_committed_import_committed(account, import_bytes):
    statement = import_bytes(account, CSV, commit=True)
    with pytest.raises(IntegrityError, match="committed"), transaction.atomic():
        StatementImport.objects.filter(pk=statement.pk).update(status=ImportStatus.PREVIEWED, committed_at=None)


def test_the_admin_offers_retry_and_discard_for_an_interrupted_import(admin_client, account, import_bytes):
    statement = import_bytes(account, CSV)
    interrupt(statement)
    url = f"/admin/uploads/statementimport/{statement.pk}/wizard/preview/"
    listing = admin_client.get("/admin/uploads/statementimport/").content.decode()
    assert f'<a href="{url}">retry or discard</a>' in listing
    page = admin_client.get(url).content.decode()
    assert "was interrupted" in page and 'value="Commit"' not in page
    assert admin_client.post(url, {"_retry": "1"}).status_code == 302
    statement.refresh_from_db()
    assert statement.status == ImportStatus.PREVIEWED
    assert admin_client.post(url, {"_discard": "1"}).status_code == 302
    assert not StatementImport.objects.exists()


def test_a_failed_or_dry_run_command_import_leaves_no_import_and_no_file(account, tmp_path):
    path = tmp_path / "statement.csv"
    path.write_bytes(CSV + b"2024-03-17,Broken,abc\n")
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_statement", str(path), "--account", str(account.pk), stdout=io.StringIO())
    call_command(
        "import_statement",
        str(path),
        "--account",
        str(account.pk),
        "--dry-run",
        "--save-profile",
        "mine",
        stdout=io.StringIO(),
    )
    assert not StatementImport.objects.exists()
    assert not Transaction.objects.exists()
    assert not CsvProfile.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_command_import_leaves_no_stored_file(account, tmp_path):
    # Transactional: rolled-back files are discarded once no transaction is open, which a test's own
    # transaction would otherwise prevent.
    path = tmp_path / "statement.csv"
    path.write_bytes(CSV)
    call_command("import_statement", str(path), "--account", str(account.pk), "--dry-run", stdout=io.StringIO())
    assert not StatementImport.objects.exists()
    assert stored(tmp_path) == []


def test_the_sweeps_dry_run_lists_the_orphans_and_deletes_nothing(household, tmp_path):
    import os
    import time

    orphan = default_storage.save(f"attachments/{household.pk}/left-by-a-killed-process", io.BytesIO(b"x"))
    day_ago = time.time() - 2 * 86400
    os.utime(default_storage.path(orphan), (day_ago, day_ago))
    out = io.StringIO()

    call_command("uploads_sweep_orphans", "--dry-run", stdout=out)

    assert f"would remove {orphan}" in out.getvalue()
    assert "1 orphaned file(s) found" in out.getvalue()
    assert stored(tmp_path) == [orphan]


def test_the_sweep_removes_only_old_files_no_row_names(household, account, import_bytes, tmp_path):
    import os
    import time

    kept = make_attachment(household)
    statement = import_bytes(account, CSV)
    orphan = default_storage.save(f"attachments/{household.pk}/left-by-a-killed-process", io.BytesIO(b"x"))
    fresh = default_storage.save(f"imports/{household.pk}/still-committing", io.BytesIO(b"y"))
    day_ago = time.time() - 2 * 86400
    for name in (orphan, kept.file.name or "", statement.file.name or ""):
        os.utime(default_storage.path(name), (day_ago, day_ago))

    call_command("uploads_sweep_orphans", stdout=io.StringIO())

    assert stored(tmp_path) == sorted([kept.file.name, statement.file.name, fresh])
