"""Writes for attachments (receipts, invoices): store, re-link, delete. The file follows the row (uploads.files)."""

from __future__ import annotations

from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from financetracker.core.errors import ConflictError
from ledger.models import Household, Transaction, User
from uploads import files, sniffing
from uploads.measuring import measure
from uploads.models import Attachment


class DuplicateAttachmentError(ConflictError):
    def __init__(self, existing: Attachment) -> None:
        super().__init__(f"This file is already attachment {existing.pk} ({existing.original_name}).")
        self.existing = existing


def attachment_create(
    *,
    household: Household,
    upload: IO[bytes],
    original_name: str,
    declared_size: int | None = None,
    transaction_obj: Transaction | None = None,
    user: User | None = None,
) -> Attachment:
    """Refused uploads store nothing; a failed insert removes the file it had stored."""
    if transaction_obj is not None and transaction_obj.household_id != household.pk:
        raise ValidationError({"transaction": ["Choose a transaction of the attachment's household."]})
    received = measure(upload, declared_size=declared_size, limit=settings.ATTACHMENT_MAX_BYTES, what="An attachment")
    try:
        content_type = sniffing.sniff(received.head)
    except sniffing.RefusedFile as error:
        raise ValidationError({"file": [str(error)]}) from None
    if content_type not in sniffing.ATTACHMENT_TYPES:
        raise ValidationError({"file": ["This type of file is not accepted."]})
    existing = Attachment.objects.filter(household=household, sha256=received.sha256).first()
    if existing is not None:
        raise DuplicateAttachmentError(existing)
    name = files.store(upload, "attachments", household.pk)
    try:
        with transaction.atomic():
            attachment = Attachment.objects.create(
                household=household,
                transaction=transaction_obj,
                file=name,
                original_name=sniffing.clean_filename(
                    original_name, default=f"attachment{sniffing.EXTENSIONS[content_type]}"
                ),
                content_type=content_type,
                size=received.size,
                sha256=received.sha256,
                uploaded_by=user,
            )
    except IntegrityError:
        # Two uploads of the same bytes raced: keep the first, drop our copy of the file.
        files.delete_now(name)
        raise DuplicateAttachmentError(Attachment.objects.get(household=household, sha256=received.sha256)) from None
    except BaseException:
        files.delete_now(name)
        raise
    return attachment


def attachment_update(*, attachment: Attachment, transaction_obj: Transaction | None) -> Attachment:
    if transaction_obj is not None and transaction_obj.household_id != attachment.household_id:
        raise ValidationError({"transaction": ["Choose a transaction of the attachment's household."]})
    attachment.transaction = transaction_obj
    attachment.save(update_fields=["transaction"])
    return attachment


def attachment_delete(*, attachment: Attachment) -> None:
    # The row's post_delete removes the file once the deletion commits (uploads.files).
    with transaction.atomic():
        attachment.delete()
