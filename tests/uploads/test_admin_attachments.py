"""Receipts on the transaction's admin page: uploaded through the uploads service, downloaded by members only."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from django.test import Client

from ledger.models import Household, Transaction, User
from ledger.services.accounts_categories_tags import account_create
from ledger.services.transactions import transaction_create
from tests.factories import staff_member
from uploads.models import Attachment

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64


@pytest.fixture
def receipt_transaction(household: Household, owner: User) -> Transaction:
    account = account_create(
        household=household, name="Checking", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    return transaction_create(
        account=account, date=datetime.date(2024, 3, 1), amount="-12.30", payee="Bakery", user=owner
    )


def change_form_post(tx: Transaction, upload: SimpleUploadedFile | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": tx.account_id,
        "date": tx.date.isoformat(),
        "amount": "-12.30",
        "payee": tx.payee,
        "description": "",
        "category": "",
        "status": tx.status,
        "splits-TOTAL_FORMS": "0",
        "splits-INITIAL_FORMS": "0",
        "tag_links-TOTAL_FORMS": "0",
        "tag_links-INITIAL_FORMS": "0",
        "attachments-TOTAL_FORMS": "1",
        "attachments-INITIAL_FORMS": "0",
    }
    if upload is not None:
        data["attachments-0-upload"] = upload
    return data


def change_url(tx: Transaction) -> str:
    return f"/admin/ledger/transaction/{tx.pk}/change/"


def attach_on_the_change_form(
    client: Client, user: User, tx: Transaction, content: bytes, *, name: str = "receipt.pdf"
) -> Any:
    """`user`, let into the admin, saves `tx`'s change form with `content` uploaded as a PDF named `name`."""
    client.force_login(staff_member(user))
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(change_url(tx), change_form_post(tx, upload))


def test_an_editor_attaches_a_receipt_on_the_transaction_page(
    client: Client, owner: User, receipt_transaction: Transaction
) -> None:
    response = attach_on_the_change_form(client, owner, receipt_transaction, PDF)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    attachment = Attachment.objects.get()
    assert attachment.transaction_id == receipt_transaction.pk
    assert attachment.content_type == "application/pdf" and len(attachment.sha256) == 64
    page = client.get(change_url(receipt_transaction)).content.decode()
    assert f"/api/v1/attachments/{attachment.pk}/download/" in page
    download = client.get(f"/api/v1/attachments/{attachment.pk}/download/")
    assert isinstance(download, FileResponse)
    assert download.status_code == 200 and download.getvalue() == PDF


def test_an_executable_renamed_pdf_is_refused_on_the_form_and_nothing_is_stored(
    client: Client, owner: User, receipt_transaction: Transaction
) -> None:
    response = attach_on_the_change_form(client, owner, receipt_transaction, ELF)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert not Attachment.objects.exists()


def test_outsiders_cannot_download_a_receipt_even_with_its_link(
    client: Client, owner: User, outsider: User, receipt_transaction: Transaction
) -> None:
    attach_on_the_change_form(client, owner, receipt_transaction, PDF, name="r.pdf")
    attachment = Attachment.objects.get()

    client.force_login(staff_member(outsider))
    assert client.get(f"/api/v1/attachments/{attachment.pk}/download/").status_code == 404
    assert client.get(change_url(receipt_transaction)).status_code in (302, 404)
