"""Run one step of an import in a process of its own, against the database in DATABASE_URL (a fault test's
throwaway cluster), and print the outcome as JSON. A step may be killed halfway: that is the point.

    python tests/faults/import_driver.py STEP [STEP ...]
    STEP: seed (the demo household) | attach:HOUSEHOLD:FILE | figures | setup (a staff person "crash", password "correct horse battery staple", a token, an account) | upload:ACCOUNT:FILE | preview:ID | commit:ID | retry:ID | state:ID | check
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

from financetracker.core.errors import ConflictError  # noqa: E402
from ledger.models import Account, Household, Transaction  # noqa: E402
from ledger.services.accounts_categories_tags import account_create  # noqa: E402
from tests.factories import UserFactory, staff_member  # noqa: E402
from uploads.models import StatementImport  # noqa: E402
from uploads.services import attachments, statement_imports  # noqa: E402

OUTCOME = "outcome: "


def state(statement: StatementImport) -> dict[str, object]:
    statement.refresh_from_db()
    return {
        "id": statement.pk,
        "status": statement.status,
        "interrupted": statement_imports.statement_import_is_interrupted(statement),
        "counts": statement.counts,
        "transactions": Transaction.objects.filter(account_id=statement.account_id).count(),
    }


def figures() -> dict[str, object]:
    """What a person sees, through the API's own views: every household's balances and report figures, and
    every attachment's downloaded bytes (their SHA-256, and whether it is the one recorded)."""
    import hashlib

    from rest_framework.test import APIClient

    from uploads.models import Attachment

    seen: dict[str, object] = {}
    for household in Household.objects.order_by("pk"):
        owner = household.memberships.order_by("pk").first().user
        client = APIClient(HTTP_HOST="127.0.0.1")
        client.force_authenticate(owner)
        pages = {
            "accounts": f"/api/v1/accounts/?household={household.pk}&page_size=100",
            "budget": f"/api/v1/reports/budget/?household={household.pk}&month=2024-06",
            "cashflow": f"/api/v1/reports/cashflow/?household={household.pk}&from=2023-01-01&to=2024-06-30",
            "spending": f"/api/v1/reports/spending/?household={household.pk}&from=2023-01-01&to=2024-06-30",
            "net-worth": f"/api/v1/reports/net-worth/?household={household.pk}&from=2023-01-01&to=2024-06-30",
        }
        for name, url in pages.items():
            response = client.get(url)
            seen[f"{household.pk}:{name}"] = [response.status_code, response.json()]
        for attachment in Attachment.objects.filter(household=household).order_by("pk"):
            response = client.get(f"/api/v1/attachments/{attachment.pk}/download/")
            body = response.getvalue() if response.status_code == 200 else b""
            digest = hashlib.sha256(body).hexdigest()
            seen[f"attachment:{attachment.pk}"] = [response.status_code, digest, digest == attachment.sha256]
    return seen


def main(action: str, *args: str) -> dict[str, object]:
    if action == "setup":
        import datetime

        from ledger.services.tokens import api_token_create

        # A person who may use the admin (for session logins) and the API (a bearer token).
        user = staff_member(UserFactory(username="crash"))
        _token, secret = api_token_create(user=user, name="fault tests")
        household = Household.objects.get(memberships__user=user)
        account = account_create(
            household=household, name="Checking", currency="EUR", opening_date=datetime.date(2020, 1, 1)
        )
        return {"account": account.pk, "household": household.pk, "username": user.username, "token": secret}
    if action == "seed":
        import datetime

        from ledger.demo import seed_demo

        seed_demo(today=datetime.date(2024, 6, 30))
        return {"seeded": True}
    if action == "attach":
        household = Household.objects.get(pk=int(args[0]))
        with open(args[1], "rb") as handle:
            attachment = attachments.attachment_create(household=household, upload=handle, original_name="r.pdf")
        return {"attachment": attachment.pk}
    if action == "figures":
        return figures()
    if action == "check":
        from django.core.management import call_command

        call_command("check_ledger", stdout=open(os.devnull, "w"))  # noqa: SIM115 - raises on any breach
        return {"ledger": "OK"}
    if action == "upload":
        account = Account.objects.get(pk=int(args[0]))
        with open(args[1], "rb") as handle:
            statement = statement_imports.statement_import_upload(
                account=account, upload=handle, original_name="big.csv"
            )
        return state(statement)
    statement = StatementImport.objects.select_related("account").get(pk=int(args[0]))
    try:
        if action == "preview":
            statement_imports.statement_import_preview(statement_import=statement)
        elif action == "retry":
            statement_imports.statement_import_retry(statement_import=statement)
        elif action == "commit":
            statement_imports.statement_import_commit(statement_import=statement)
    except ConflictError as error:
        return {**state(statement), "refused": error.message}
    return state(statement)


if __name__ == "__main__":
    for step in sys.argv[1:]:
        # Marked: the app's own JSON log lines go to stdout as well.
        print(OUTCOME + json.dumps(main(*step.split(":"))), flush=True)
