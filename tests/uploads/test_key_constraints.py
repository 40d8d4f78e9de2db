"""The database keeps every de-duplication key inside its account's household (migration 0005's triggers),
even for SQL that bypasses the services, and check_ledger names a key that got past it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from financetracker.core.registries import consistency_checks
from uploads.models import ImportedKey

pytestmark = pytest.mark.django_db

TRAM_DAY = b"Date,Payee,Amount\n2024-03-15,Tram,-2.80\n2024-03-15,Tram,-2.80\n2024-03-15,Bakery,-3.10\n"

_INSERT_KEY = (
    "INSERT INTO uploads_importedkey (household_id, account_id, key, ignored, created_at) "
    "VALUES (%s, %s, %s, false, now())"
)


def test_a_key_cannot_name_another_households_account(account, outsider_account):
    with (
        pytest.raises(IntegrityError, match="not an account of household"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(_INSERT_KEY, [account.household_id, outsider_account.pk, "fp:x#1"])
    assert not ImportedKey.objects.exists()


def test_a_key_cannot_name_an_account_that_does_not_exist(account):
    with (
        pytest.raises(IntegrityError, match="account 999999999, which is not an account of household"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(_INSERT_KEY, [account.household_id, 999_999_999, "fp:x#1"])


def test_a_key_cannot_be_moved_to_another_households_account(account, outsider_account, import_bytes):
    import_bytes(account, TRAM_DAY, commit=True)
    with (
        pytest.raises(IntegrityError, match="not an account of household"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE uploads_importedkey SET account_id = %s", [outsider_account.pk])
    assert set(ImportedKey.objects.values_list("account_id", flat=True)) == {account.pk}


def test_deleting_an_account_deletes_its_keys_even_in_raw_sql(account, import_bytes):
    import_bytes(account, TRAM_DAY, commit=True)
    assert ImportedKey.objects.filter(account=account).count() == 3
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_transaction WHERE account_id = %s", [account.pk])
        cursor.execute("DELETE FROM ledger_accountmonthtotal WHERE account_id = %s", [account.pk])
        cursor.execute("DELETE FROM ledger_account WHERE id = %s", [account.pk])
    assert not ImportedKey.objects.exists()


def test_an_account_named_by_keys_cannot_change_household(account, outsider_account, import_bytes):
    import_bytes(account, TRAM_DAY, commit=True)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_transaction WHERE account_id = %s", [account.pk])
        cursor.execute("DELETE FROM ledger_accountmonthtotal WHERE account_id = %s", [account.pk])
    with (
        pytest.raises(IntegrityError, match="cannot change its id or household"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE ledger_account SET household_id = %s WHERE id = %s", [outsider_account.household_id, account.pk]
        )


def test_check_ledger_names_a_key_that_got_past_the_triggers(account, outsider_account, import_bytes):
    assert "import keys name accounts of their household" in {check.name for check in consistency_checks}
    import_bytes(account, TRAM_DAY, commit=True)
    key = ImportedKey.objects.filter(account=account).order_by("id").first()
    assert key is not None
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(
                "UPDATE uploads_importedkey SET account_id = %s WHERE id = %s", [outsider_account.pk, key.pk]
            )
        finally:
            cursor.execute("SET session_replication_role = origin")
    err = StringIO()
    with pytest.raises(CommandError, match="1 breach"):
        call_command("check_ledger", stdout=StringIO(), stderr=err)
    assert (
        f"import key {key.pk} is in household {account.household_id} but its account {outsider_account.pk} "
        f"is in household {outsider_account.household_id}"
    ) in err.getvalue()
