from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Uploads, imports and exports"

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django.db.models.signals import post_delete

        from financetracker.core.registries import (
            ConsistencyCheck,
            consistency_checks,
            transaction_admin_actions,
            transaction_admin_inlines,
        )
        from uploads import files
        from uploads.admin import AttachmentInline
        from uploads.consistency import import_keys_name_accounts_of_their_household
        from uploads.exports import export_csv
        from uploads.models import Attachment, StatementImport

        # check_ledger proves the invariants that uploads' own triggers keep, alongside the ledger's.
        consistency_checks.register(
            ConsistencyCheck(
                "import keys name accounts of their household", import_keys_name_accounts_of_their_household
            )
        )
        # Receipts belong on the transaction's own admin page; the ledger admin knows nothing of uploads.
        transaction_admin_inlines.register(AttachmentInline)
        # One CSV export: the transaction list's action is the API's export (uploads.exports).
        transaction_admin_actions.register(export_csv)
        # Files follow their rows whatever deletes them, cascades included (see uploads.files).
        for model in (Attachment, StatementImport):
            post_delete.connect(
                files.file_deleted_with_row, sender=model, dispatch_uid=f"uploads-file-{model.__name__}"
            )
        request_finished.connect(files.discard_rolled_back_files, dispatch_uid="uploads-discard-rolled-back-files")
