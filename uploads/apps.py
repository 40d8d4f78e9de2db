from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Uploads, imports and exports"

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django.db.models.signals import post_delete

        from ledger.checks import ALL_CHECKS, LedgerCheck
        from uploads import files
        from uploads.checks import import_keys_name_accounts_of_their_household
        from uploads.models import Attachment, StatementImport

        # check_ledger proves the invariants that uploads' own triggers keep, alongside the ledger's.
        check = LedgerCheck(
            "import keys name accounts of their household", import_keys_name_accounts_of_their_household
        )
        if check not in ALL_CHECKS:
            ALL_CHECKS.append(check)
        # Files follow their rows whatever deletes them, cascades included (see uploads.files).
        for model in (Attachment, StatementImport):
            post_delete.connect(
                files.file_deleted_with_row, sender=model, dispatch_uid=f"uploads-file-{model.__name__}"
            )
        request_finished.connect(files.discard_rolled_back_files, dispatch_uid="uploads-discard-rolled-back-files")
