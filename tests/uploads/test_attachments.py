"""Attachments: type from the bytes, size limits, clean names, duplicates, scoped authenticated downloads."""

from __future__ import annotations

import io

import boto3
import pytest
from moto import mock_aws

from tests.factories import TransactionFactory
from uploads.models import Attachment

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32


def upload(client, data: bytes, name: str, **fields):
    handle = io.BytesIO(data)
    handle.name = name
    return client.post("/api/v1/attachments/", {"file": handle, **fields}, format="multipart")


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (PDF, "receipt.jpg", "application/pdf"),
        (PNG, "photo", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 16, "scan.pdf", "image/jpeg"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 16, "x.bin", "image/webp"),
        (HEIC, "IMG_0001.HEIC", "image/heic"),
        (b"Date,Payee,Amount\n2024-01-01,Shop,-1.00\n", "export.txt", "text/csv"),
        (b"OFXHEADER:100\nDATA:OFXSGML\n<OFX>", "bank.dat", "application/x-ofx"),
        (b"!Type:Bank\nD01/01/2024\n^\n", "q.txt", "application/qif"),
        (b"<?xml version='1.0'?><Document/>", "d.txt", "application/xml"),
    ],
)
def test_it_decides_the_type_from_the_bytes_not_the_name(owner, client_for, data, name, content_type):
    response = upload(client_for(owner), data, name)
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == content_type


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04" + b"\x00" * 40,
        b"MZ\x90\x00" + b"\x00" * 40,
        b"\x7fELF\x02\x01" + b"\x00" * 40,
        b"\x00\x01\x02\x03" * 10,
    ],
)
def test_it_refuses_archives_executables_and_unknown_binaries(owner, client_for, data):
    response = upload(client_for(owner), data, "receipt.pdf")
    assert response.status_code == 400
    assert not Attachment.objects.exists()


def test_it_stores_under_a_generated_name_and_cleans_the_display_name(owner, client_for, household):
    response = upload(client_for(owner), PDF, "..\\../../etc/pass\x00wd\x1b.pdf")
    assert response.status_code == 201
    attachment = Attachment.objects.get()
    assert attachment.original_name == "passwd.pdf"
    stored_name = attachment.file.name or ""
    assert stored_name.startswith(f"attachments/{household.pk}/")
    assert ".." not in stored_name and "passwd" not in stored_name
    assert len(attachment.sha256) == 64 and attachment.size == len(PDF)


def test_the_same_file_twice_is_a_conflict_naming_the_first(owner, client_for):
    client = client_for(owner)
    first = upload(client, PDF, "a.pdf").json()
    second = upload(client, PDF, "b.pdf")
    assert second.status_code == 409
    assert second.json()["existing"] == first["id"]
    assert Attachment.objects.count() == 1


def test_size_limits_are_checked_on_the_declared_and_the_streamed_size(owner, client_for, settings):
    settings.ATTACHMENT_MAX_BYTES = 20
    assert upload(client_for(owner), PDF, "big.pdf").status_code == 400
    settings.ATTACHMENT_MAX_BYTES = 10_000
    response = client_for(owner).post(
        "/api/v1/attachments/", {"file": io.BytesIO(PDF)}, format="multipart", CONTENT_LENGTH=str(1 << 30)
    )
    assert response.status_code == 400
    assert not Attachment.objects.exists()


def test_members_download_with_safe_headers(owner, viewer, client_for, household):
    attachment_id = upload(client_for(owner), PDF, "Quittung März.pdf").json()["id"]
    response = client_for(viewer).get(f"/api/v1/attachments/{attachment_id}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].endswith("filename*=UTF-8''Quittung%20M%C3%A4rz.pdf")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"


def test_outsiders_cannot_list_read_download_or_delete(owner, outsider, client_for):
    attachment_id = upload(client_for(owner), PDF, "a.pdf").json()["id"]
    client = client_for(outsider)
    assert client.get("/api/v1/attachments/").json()["results"] == []
    assert client.get(f"/api/v1/attachments/{attachment_id}/").status_code == 404
    assert client.get(f"/api/v1/attachments/{attachment_id}/download/").status_code == 404
    assert client.delete(f"/api/v1/attachments/{attachment_id}/").status_code == 404
    assert client.get(f"/api/v1/attachments/{attachment_id}/download/", HTTP_AUTHORIZATION="").status_code == 404


def test_anonymous_requests_are_refused(owner, client_for, api_client):
    attachment_id = upload(client_for(owner), PDF, "a.pdf").json()["id"]
    assert api_client.get(f"/api/v1/attachments/{attachment_id}/download/").status_code in (401, 403)


def test_viewers_cannot_upload_or_delete(owner, viewer, client_for, household):
    attachment_id = upload(client_for(owner), PDF, "a.pdf").json()["id"]
    client = client_for(viewer)
    assert upload(client, PNG, "b.png", household=household.pk).status_code == 403
    assert client.delete(f"/api/v1/attachments/{attachment_id}/").status_code == 403


def test_an_attachment_links_to_a_transaction_of_its_household_only(owner, client_for, household, outsider_household):
    mine = TransactionFactory(account__household=household)
    theirs = TransactionFactory(account__household=outsider_household)
    client = client_for(owner)
    assert upload(client, PDF, "a.pdf", transaction=mine.pk).json()["transaction"] == mine.pk
    assert upload(client, PNG, "b.png", transaction=theirs.pk).status_code == 400


def test_deleting_removes_the_file(owner, client_for):
    attachment_id = upload(client_for(owner), PDF, "a.pdf").json()["id"]
    name = Attachment.objects.get().file.name or ""
    from django.core.files.storage import default_storage

    assert default_storage.exists(name)
    with pytest.MonkeyPatch.context():
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            assert client_for(owner).delete(f"/api/v1/attachments/{attachment_id}/").status_code == 204
    assert not default_storage.exists(name)


def test_s3_downloads_redirect_to_a_short_lived_signed_url(owner, client_for, settings):
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="ft-test")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": "ft-test",
                    "region_name": "us-east-1",
                    "access_key": "test",
                    "secret_key": "test",
                    "default_acl": "private",
                    "querystring_auth": True,
                    "querystring_expire": 60,
                    "file_overwrite": False,
                },
            },
        }
        attachment_id = upload(client_for(owner), PDF, "receipt.pdf").json()["id"]
        key = Attachment.objects.get().file.name
        stored = boto3.client("s3", region_name="us-east-1").get_object(Bucket="ft-test", Key=key)["Body"].read()
        assert stored == PDF
        response = client_for(owner).get(f"/api/v1/attachments/{attachment_id}/download/")
        assert response.status_code == 302
        location = response["Location"]
        assert key in location
        assert "Signature" in location
        assert "Expires=" in location
        assert "response-content-disposition=attachment" in location
