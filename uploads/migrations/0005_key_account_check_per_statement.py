"""A de-duplication key's account is checked once per statement, not once per key.

The composite foreign key (household_id, account_id) → ledger_account(household_id, id) ran one lookup per
imported row — half a second per 100,000 rows, for keys that all name the same account. Statement-level
triggers keep the same rule:
- inserting or re-pointing keys: every (household_id, account_id) they name must be an account of that
  household. The accounts are locked FOR KEY SHARE first, as a foreign key would lock them, so an account
  cannot be deleted between the check and the commit.
- deleting accounts deletes their keys (the foreign key's ON DELETE CASCADE);
- changing an account's id or household while keys name it is refused (the foreign key's NO ACTION).
`check_ledger` proves the rule as well (uploads.consistency).
"""

from django.db import migrations

FORWARD_SQL = r"""
ALTER TABLE uploads_importedkey DROP CONSTRAINT importedkey_account_same_household;

CREATE FUNCTION uploads_check_key_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER importedkey_account_on_insert AFTER INSERT ON uploads_importedkey
    REFERENCING NEW TABLE AS written_keys FOR EACH STATEMENT EXECUTE FUNCTION uploads_check_key_accounts();
CREATE TRIGGER importedkey_account_on_update AFTER UPDATE ON uploads_importedkey
    REFERENCING NEW TABLE AS written_keys FOR EACH STATEMENT EXECUTE FUNCTION uploads_check_key_accounts();

CREATE FUNCTION uploads_forget_deleted_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM uploads_importedkey k USING deleted_accounts d
     WHERE k.household_id = d.household_id AND k.account_id = d.id;
    RETURN NULL;
END $$;
CREATE TRIGGER importedkey_forget_deleted_accounts AFTER DELETE ON ledger_account
    REFERENCING OLD TABLE AS deleted_accounts FOR EACH STATEMENT
    EXECUTE FUNCTION uploads_forget_deleted_accounts();

CREATE FUNCTION uploads_keep_key_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM uploads_importedkey k JOIN old_accounts o
                   ON k.household_id = o.household_id AND k.account_id = o.id
                WHERE NOT EXISTS (SELECT 1 FROM new_accounts n WHERE n.household_id = o.household_id AND n.id = o.id))
    THEN
        RAISE EXCEPTION 'an account named by import keys cannot change its id or household'
              USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'importedkey_account_same_household',
                    TABLE = 'ledger_account';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER importedkey_keep_account_keys AFTER UPDATE ON ledger_account
    REFERENCING OLD TABLE AS old_accounts NEW TABLE AS new_accounts FOR EACH STATEMENT
    EXECUTE FUNCTION uploads_keep_key_accounts();
"""

REVERSE_SQL = r"""
DROP TRIGGER importedkey_keep_account_keys ON ledger_account;
DROP FUNCTION uploads_keep_key_accounts();
DROP TRIGGER importedkey_forget_deleted_accounts ON ledger_account;
DROP FUNCTION uploads_forget_deleted_accounts();
DROP TRIGGER importedkey_account_on_update ON uploads_importedkey;
DROP TRIGGER importedkey_account_on_insert ON uploads_importedkey;
DROP FUNCTION uploads_check_key_accounts();
ALTER TABLE uploads_importedkey ADD CONSTRAINT importedkey_account_same_household
    FOREIGN KEY (household_id, account_id) REFERENCES ledger_account (household_id, id)
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0004_key_transaction_link_by_trigger"),
    ]

    operations = [migrations.RunSQL(FORWARD_SQL, REVERSE_SQL)]
