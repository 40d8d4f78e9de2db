"""The admin import wizard: upload, map columns (first rows shown), preview, commit; scoped to households."""

from __future__ import annotations

import io

import pytest

from ledger.models import Transaction
from tests.factories import staff_client
from uploads.models import StatementImport

pytestmark = pytest.mark.django_db

DATA = b"When;Who;How much\n15.03.2024;Kiosk;-1,50\n16.03.2024;Bakery;-2,00\n"


def test_the_wizard_maps_previews_and_commits(admin_client, account):
    handle = io.BytesIO(DATA)
    handle.name = "bank.csv"
    response = admin_client.post("/admin/uploads/statementimport/wizard/", {"account": account.pk, "file": handle})
    assert response.status_code == 302
    statement = StatementImport.objects.get()
    page = admin_client.get(response["Location"])
    assert b"Kiosk" in page.content and b"How much" in page.content
    response = admin_client.post(
        response["Location"],
        {
            "delimiter": ";",
            "date": "When",
            "payee": "Who",
            "amount": "How much",
            "decimal": ",",
            "date_format": "%d.%m.%Y",
        },
    )
    assert response.status_code == 302
    preview = admin_client.get(response["Location"])
    assert b"new: 2" in preview.content
    committed = admin_client.post(response["Location"], {})
    assert committed.status_code == 302
    statement.refresh_from_db()
    assert statement.status == "committed"
    assert Transaction.objects.filter(account=account).count() == 2


def test_a_staff_outsider_cannot_open_anothers_import(client, account, import_bytes, outsider):
    statement = import_bytes(
        account, DATA, mapping={"delimiter": ";", "date": "When", "payee": "Who", "amount": "How much"}
    )
    outsider.is_staff = True
    outsider.save(update_fields=["is_staff"])
    client.force_login(outsider)
    assert client.get(f"/admin/uploads/statementimport/{statement.pk}/wizard/preview/").status_code == 404
    assert client.post(f"/admin/uploads/statementimport/{statement.pk}/wizard/preview/", {}).status_code == 404
    statement.refresh_from_db()
    assert statement.status == "previewed"


def _wizard_import(client, account, name: str) -> StatementImport:
    """Upload → (map, auto-detected for a CSV) → preview → commit, as a person clicks through the wizard."""
    from tests.uploads.conftest import sample

    handle = io.BytesIO(sample(name))
    handle.name = name
    response = client.post("/admin/uploads/statementimport/wizard/", {"account": account.pk, "file": handle})
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    if "/wizard/map/" in location:
        response = client.get(location + "?auto=1")
        assert response.status_code == 302
        location = response["Location"]
    assert client.get(location).status_code == 200  # the preview page
    committed = client.post(location, {})
    assert committed.status_code == 302, committed.content[:500]
    return StatementImport.objects.filter(account=account).latest("id")


def test_a_member_imports_csv_ofx_and_camt_through_the_wizard_and_again_adds_nothing(client, account, owner):
    client = staff_client(owner)
    files = {"de_decimal_comma_bom_crlf.csv": 4, "ofx2_xml.ofx": 2, "camt053_batch.xml": 5}

    for name, rows in files.items():
        first = _wizard_import(client, account, name)
        assert first.status == "committed" and first.counts["imported"] == rows, (name, first.counts)
    total = Transaction.objects.filter(account=account).count()
    assert total == sum(files.values())

    for name, rows in files.items():
        again = _wizard_import(client, account, name)
        assert again.counts["imported"] == 0 and again.counts["duplicate"] == rows, (name, again.counts)
    assert Transaction.objects.filter(account=account).count() == total


def test_the_mapping_step_pre_selects_what_was_detected_and_says_how_sure(admin_client, account):
    handle = io.BytesIO(b"Date,Description,Withdrawal,Deposit\n03/14/2024,Shop,12.50,\n03/15/2024,Pay,,100.00\n")
    handle.name = "bank.csv"
    response = admin_client.post("/admin/uploads/statementimport/wizard/", {"account": account.pk, "file": handle})
    page = admin_client.get(response["Location"]).content.decode()
    assert '<option value="Date" selected>' in page
    assert '<option value="Withdrawal" selected>' in page
    assert '<option value="Deposit" selected>' in page
    assert "100% sure" in page
