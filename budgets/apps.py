from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = "Budgets and planning"

    def ready(self) -> None:
        from budgets.demo import seed_planning_demo
        from financetracker.core.registries import demo_seeders

        # seed_demo adds budgets, schedules and rates on top of the ledger's demo books.
        demo_seeders.register(seed_planning_demo)
