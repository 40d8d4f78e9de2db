"""A near match (same amount a few days from a transaction already in the books) is never imported silently:
each is merged, kept as new or ignored, and a commit that leaves one undecided is refused."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ledger.models import Transaction
from tests.factories import TransactionFactory
from uploads.models import ImportStatus
from uploads.services.statement_imports import UndecidedNearMatchesError, statement_import_commit

pytestmark = pytest.mark.django_db

STATEMENT = b"Date,Payee,Amount\n2024-03-15,Bakery,-3.10\n2024-03-15,Kiosk,-1.50\n"


@pytest.fixture
def typed(account):
    """The bakery purchase typed in by hand two days before the bank booked it."""
    return TransactionFactory(
        account=account, household=account.household, date=datetime.date(2024, 3, 13), amount=Decimal("-3.10")
    )


def test_a_commit_with_an_undecided_near_match_is_refused_and_names_it(account, import_bytes, typed):
    preview = import_bytes(account, STATEMENT)
    near = preview.rows.get(status="near_match")
    with pytest.raises(UndecidedNearMatchesError) as refused:
        statement_import_commit(statement_import=preview)
    assert refused.value.row_ids == [near.pk]
    assert "line 2" in refused.value.message
    preview.refresh_from_db()
    assert preview.status == ImportStatus.PREVIEWED
    assert Transaction.objects.filter(account=account).count() == 1


@pytest.mark.parametrize(("decision", "bakeries"), [("merge", 1), ("keep", 2), ("ignore", 1)])
def test_each_near_match_is_merged_kept_or_ignored_as_decided(account, import_bytes, typed, decision, bakeries):
    preview = import_bytes(account, STATEMENT)
    near = preview.rows.get(status="near_match")
    choices: dict[str, list[int]] = {"merge": [], "keep": [], "ignore": []}
    choices[decision].append(near.pk)
    committed = statement_import_commit(
        statement_import=preview, merge=choices["merge"], keep=choices["keep"], ignore=choices["ignore"]
    )
    assert committed.status == ImportStatus.COMMITTED
    assert Transaction.objects.filter(account=account, amount=Decimal("-3.10")).count() == bakeries
    assert Transaction.objects.filter(account=account, payee="Kiosk").count() == 1


@pytest.mark.parametrize(("choice", "bakeries"), [("merge", 1), ("keep", 2)])
def test_near_matches_can_all_be_decided_at_once(account, import_bytes, typed, choice, bakeries):
    committed = statement_import_commit(statement_import=import_bytes(account, STATEMENT), near_matches=choice)
    assert committed.counts["merged"] == (1 if choice == "merge" else 0)
    assert Transaction.objects.filter(account=account, amount=Decimal("-3.10")).count() == bakeries


def test_the_api_lists_near_matches_first_and_answers_409_naming_the_undecided(
    account, import_bytes, typed, owner, client_for
):
    client = client_for(owner)
    preview = import_bytes(account, STATEMENT)
    near = preview.rows.get(status="near_match")
    detail = client.get(f"/api/v1/imports/{preview.pk}/").json()
    assert [row["id"] for row in detail["near_matches"]] == [near.pk]
    refused = client.post(f"/api/v1/imports/{preview.pk}/commit/", {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["near_matches"] == [near.pk]
    committed = client.post(f"/api/v1/imports/{preview.pk}/commit/", {"keep": [near.pk]}, format="json")
    assert committed.status_code == 200
    assert committed.json()["counts"]["imported"] == 2


def test_the_command_refuses_near_matches_unless_told_what_to_do(account, typed, tmp_path):
    path = tmp_path / "statement.csv"
    path.write_bytes(STATEMENT)
    err = io.StringIO()
    with pytest.raises(CommandError, match="--near-matches"):
        call_command("import_statement", str(path), "--account", str(account.pk), stdout=io.StringIO(), stderr=err)
    assert "line 2" in err.getvalue() and "Bakery" in err.getvalue()
    assert Transaction.objects.filter(account=account).count() == 1
    out = io.StringIO()
    call_command("import_statement", str(path), "--account", str(account.pk), "--near-matches", "merge", stdout=out)
    assert "imported: 1" in out.getvalue()
    assert Transaction.objects.filter(account=account, amount=Decimal("-3.10")).count() == 1


def test_the_wizard_shows_near_matches_first_and_refuses_a_commit_leaving_one_undecided(
    admin_client, account, import_bytes, typed
):
    preview = import_bytes(account, STATEMENT)
    near = preview.rows.get(status="near_match")
    url = f"/admin/uploads/statementimport/{preview.pk}/wizard/preview/"
    page = admin_client.get(url).content.decode()
    assert page.index("Near matches") < page.index("Kiosk")
    refused = admin_client.post(url, {})
    assert refused.status_code == 200
    assert "still need a decision" in refused.content.decode()
    assert Transaction.objects.filter(account=account).count() == 1
    committed = admin_client.post(url, {f"near-{near.pk}": "keep"})
    assert committed.status_code == 302
    assert Transaction.objects.filter(account=account, amount=Decimal("-3.10")).count() == 2
