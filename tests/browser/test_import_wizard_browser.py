"""Issue #4's "done when", in a real browser: a member imports a CSV, an OFX and a CAMT file through the admin
wizard, imports them again and gets nothing twice, attaches a receipt and downloads it — and a member of
another household can neither see those imports nor download that receipt."""

from __future__ import annotations

import datetime
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from ledger.models import Household, Transaction, User
from ledger.services.accounts_categories_tags import account_create
from tests.browser.wizard import map_the_german_csv
from tests.factories import staff_member
from uploads.models import Attachment, StatementImport

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password
SAMPLES = Path(__file__).parent.parent / "uploads" / "samples"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("uploads_in_tmp")]


def _log_in(page: Any, base_url: str, user: User, next_path: str) -> None:
    page.goto(f"{base_url}/admin/login/?next={next_path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"**{next_path}")


def _png(width: int = 2, height: int = 2) -> bytes:
    """A real, tiny PNG: the upload is typed by its bytes, not its name."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _wizard(page: Any, base_url: str, name: str) -> str:
    """Click through the wizard for one file; return the success message."""
    page.goto(f"{base_url}/admin/uploads/statementimport/")
    page.click("text=Import a statement")
    page.select_option("#id_account", label="Checking (EUR)")
    page.set_input_files("#id_file", str(SAMPLES / name))
    page.click("input[value=Upload]")
    if "/wizard/map/" in page.url:
        # Step 2 shows the file's first rows; map them the way the bank wrote them.
        assert "Buchungstag" in page.content() and "Bäckerei Müller" in page.content()
        map_the_german_csv(page)
    page.wait_for_url("**/wizard/preview/")
    assert "Step 3 of 3" in page.content()
    page.click("input[value=Commit]")
    page.wait_for_url("**/admin/uploads/statementimport/")
    # The success message is on the page the wizard returns to (the theme gives messages no class of their own).
    return page.inner_text("#main")


def test_a_member_imports_three_formats_twice_and_keeps_a_receipt_nobody_else_can_download(
    page: Any, live_server: Any, editor: User, household: Household, outsider: User, outsider_household: Household
) -> None:
    staff_editor = staff_member(editor)
    account = account_create(
        household=household, name="Checking", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    _log_in(page, live_server.url, staff_editor, "/admin/uploads/statementimport/")

    files = {"de_decimal_comma_bom_crlf.csv": 4, "ofx2_xml.ofx": 2, "camt053_batch.xml": 5}
    for name, rows in files.items():
        assert f"Committed {name}: {rows} imported, 0 already in the books" in _wizard(page, live_server.url, name)
    assert Transaction.objects.filter(account=account).count() == sum(files.values())
    for name, rows in files.items():
        assert f"Committed {name}: 0 imported, {rows} already in the books" in _wizard(page, live_server.url, name)
    assert Transaction.objects.filter(account=account).count() == sum(files.values())
    again = StatementImport.objects.filter(account=account).order_by("-id")[: len(files)]
    assert sorted(statement.counts["duplicate"] for statement in again) == sorted(files.values())

    # A receipt on the bakery transaction, uploaded on its admin page and downloaded from there.
    bakery = Transaction.objects.get(account=account, payee="Bäckerei Müller")
    receipt = _png()
    page.goto(f"{live_server.url}/admin/ledger/transaction/{bakery.pk}/change/")
    page.set_input_files(
        "input[type=file][name$='-upload']",
        files=[{"name": "bakery receipt.png", "mimeType": "image/png", "buffer": receipt}],
    )
    page.click("[name=_continue]")
    page.wait_for_selector("text=bakery receipt.png")
    attachment = Attachment.objects.get(transaction=bakery)
    assert attachment.content_type == "image/png" and attachment.size == len(receipt)
    with page.expect_download() as download_info:
        page.click("a:has-text('bakery receipt.png')")
    download = download_info.value
    assert download.suggested_filename == "bakery receipt.png"
    assert Path(download.path()).read_bytes() == receipt

    # Another household's staff member: no imports listed, and the receipt's address is a 404.
    stranger = page.context.browser.new_context()
    try:
        other = stranger.new_page()
        _log_in(other, live_server.url, staff_member(outsider), "/admin/uploads/statementimport/")
        assert "de_decimal_comma_bom_crlf.csv" not in other.content()
        assert "No results found" in other.content()
        response = other.request.get(f"{live_server.url}/api/v1/attachments/{attachment.pk}/download/")
        assert response.status == 404
        assert receipt not in response.body()
        preview = other.goto(f"{live_server.url}/admin/uploads/statementimport/{again[0].pk}/wizard/preview/")
        assert preview is not None and preview.status == 404
    finally:
        stranger.close()
