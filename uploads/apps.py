from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "uploads"
    verbose_name = "Uploads, imports and exports"

    def ready(self) -> None:
        from ledger.checks import ALL_CHECKS, LedgerCheck
        from uploads.checks import import_keys_name_accounts_of_their_household

        # check_ledger proves the invariants that uploads' own triggers keep, alongside the ledger's.
        check = LedgerCheck(
            "import keys name accounts of their household", import_keys_name_accounts_of_their_household
        )
        if check not in ALL_CHECKS:
            ALL_CHECKS.append(check)
