"""The import keys' account check probes each account a statement names once, not once per key.

`uploads_check_key_accounts` (migration 0005) ran once per statement but looked every written key's account up
(a nested anti-join: 100,000 index probes for a 100,000-row import whose keys all name one account, ~0.8 s under
load in `bench/import_csv.py`). It now takes the distinct (household_id, account_id) pairs first and looks a key
up only to name it in the error. Same rule, same locks, same message.
"""

from django.db import migrations

FORWARD_SQL = r"""
CREATE OR REPLACE FUNCTION uploads_check_key_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    stray record;
    stray_key bigint;
BEGIN
    PERFORM 1 FROM ledger_account a
      WHERE (a.household_id, a.id) IN (SELECT DISTINCT k.household_id, k.account_id FROM written_keys k)
        FOR KEY SHARE;
    SELECT p.household_id, p.account_id INTO stray
      FROM (SELECT DISTINCT k.household_id, k.account_id FROM written_keys k) AS p
     WHERE NOT EXISTS (SELECT 1 FROM ledger_account a WHERE a.household_id = p.household_id AND a.id = p.account_id)
     LIMIT 1;
    IF FOUND THEN
        SELECT k.id INTO stray_key FROM written_keys k
         WHERE k.household_id = stray.household_id AND k.account_id = stray.account_id LIMIT 1;
        RAISE EXCEPTION 'import key % names account %, which is not an account of household %',
                        stray_key, stray.account_id, stray.household_id
              USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'importedkey_account_same_household',
                    TABLE = 'uploads_importedkey';
    END IF;
    RETURN NULL;
END $$;
"""

REVERSE_SQL = r"""
CREATE OR REPLACE FUNCTION uploads_check_key_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    stray record;
BEGIN
    PERFORM 1 FROM ledger_account a
      WHERE (a.household_id, a.id) IN (SELECT DISTINCT k.household_id, k.account_id FROM written_keys k)
        FOR KEY SHARE;
    SELECT k.id, k.household_id, k.account_id INTO stray
      FROM written_keys k
     WHERE NOT EXISTS (SELECT 1 FROM ledger_account a WHERE a.household_id = k.household_id AND a.id = k.account_id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'import key % names account %, which is not an account of household %',
                        stray.id, stray.account_id, stray.household_id
              USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'importedkey_account_same_household',
                    TABLE = 'uploads_importedkey';
    END IF;
    RETURN NULL;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0008_import_background_tasks"),
    ]

    operations = [migrations.RunSQL(FORWARD_SQL, REVERSE_SQL)]
