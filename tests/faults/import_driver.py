"""Run one step of an import in a process of its own, against the database in DATABASE_URL (a fault test's
throwaway cluster), and print the outcome as JSON. A step may be killed halfway: that is the point.

    python tests/faults/import_driver.py STEP [STEP ...]
    STEP: setup (a staff person "crash", password "correct horse battery staple", a token, an account) | upload:ACCOUNT:FILE | preview:ID | commit:ID | retry:ID | state:ID | check
Several steps run in one process (a Django start costs seconds on a busy machine); one JSON line each.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "financetracker.settings")

import django

django.setup()

from ledger.errors import ConflictError  # noqa: E402
from ledger.models import Account, Household, Transaction  # noqa: E402
from ledger.services.books import account_create  # noqa: E402
from tests.factories import UserFactory  # noqa: E402
from uploads import services  # noqa: E402
from uploads.models import StatementImport  # noqa: E402


def state(statement: StatementImport) -> dict[str, object]:
    statement.refresh_from_db()
    return {
        "id": statement.pk,
        "status": statement.status,
        "interrupted": services.statement_import_is_interrupted(statement),
        "counts": statement.counts,
        "transactions": Transaction.objects.filter(account_id=statement.account_id).count(),
    }


def main(action: str, *args: str) -> dict[str, object]:
    if action == "setup":
        import datetime

        from ledger.admin.scoping import household_members_group
        from ledger.services.tokens import api_token_create

        # A person who may use the admin (for session logins) and the API (a bearer token).
        user = UserFactory(username="crash", is_staff=True)
        user.groups.add(household_members_group())
        _token, secret = api_token_create(user=user, name="fault tests")
        household = Household.objects.get(memberships__user=user)
        account = account_create(
            household=household, name="Checking", currency="EUR", opening_date=datetime.date(2020, 1, 1)
        )
        return {"account": account.pk, "household": household.pk, "username": user.username, "token": secret}
    if action == "check":
        from django.core.management import call_command

        call_command("check_ledger", stdout=open(os.devnull, "w"))  # noqa: SIM115 - raises on any breach
        return {"ledger": "OK"}
    if action == "upload":
        account = Account.objects.get(pk=int(args[0]))
        with open(args[1], "rb") as handle:
            statement = services.statement_import_upload(account=account, upload=handle, original_name="big.csv")
        return state(statement)
    statement = StatementImport.objects.select_related("account").get(pk=int(args[0]))
    try:
        if action == "preview":
            services.statement_import_preview(statement_import=statement)
        elif action == "retry":
            services.statement_import_retry(statement_import=statement)
        elif action == "commit":
            services.statement_import_commit(statement_import=statement)
    except ConflictError as error:
        return {**state(statement), "refused": error.message}
    return state(statement)


if __name__ == "__main__":
    for step in sys.argv[1:]:
        print(json.dumps(main(*step.split(":"))), flush=True)
