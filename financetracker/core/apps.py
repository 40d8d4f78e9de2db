from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Installed so the core's template tags load; it has no models and no migrations."""

    name = "financetracker.core"
    label = "core"
    verbose_name = "Shared core"
