"""The uploads app's part of `check_ledger`: what its statement-level triggers enforce (migration 0005)."""

from __future__ import annotations

from django.db import connection


def import_keys_name_accounts_of_their_household(household_id: int | None = None) -> list[str]:
    sql = """
        SELECT k.id, k.household_id, k.account_id, a.household_id
          FROM uploads_importedkey k
          LEFT JOIN ledger_account a ON a.id = k.account_id
         WHERE (a.id IS NULL OR a.household_id <> k.household_id)
           AND (%(household)s::bigint IS NULL OR k.household_id = %(household)s::bigint)
         ORDER BY k.id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"household": household_id})
        rows = cursor.fetchall()
    return [
        f"import key {key_id} is in household {household} but its account {account_id} "
        + ("does not exist" if account_household is None else f"is in household {account_household}")
        for key_id, household, account_id, account_household in rows
    ]
