from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"

    def ready(self) -> None:
        from financetracker.core.registries import consistency_checks
        from ledger import signals  # noqa: F401  (connects the failed-login counter)
        from ledger.consistency import LEDGER_CHECKS

        # Registered first (ledger precedes the other apps in INSTALLED_APPS): check_ledger reports in this order.
        for check in LEDGER_CHECKS:
            consistency_checks.register(check)
