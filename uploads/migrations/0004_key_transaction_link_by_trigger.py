"""De-duplication keys and staged rows stop paying foreign-key checks per imported row.

- The key → transaction link only ever needed ON DELETE SET NULL: a statement-level trigger on
  ledger_transaction now nulls the keys of deleted rows (one UPDATE per DELETE statement, through the
  (household_id, transaction_id) index). Keys are written in the same statement as their transactions,
  so they point at real rows by construction.
- The key → import link is provenance only; the ORM nulls it when an import is deleted.
- Staged rows are written only by the preview's INSERT … SELECT with their import's own household and id;
  the ORM deletes them with their import. Their foreign key cost a check per staged row.
The composite (household_id, account_id) key stays: it keeps a key inside its account's household.
"""

from django.db import migrations

FORWARD_SQL = r"""
ALTER TABLE uploads_importedkey DROP CONSTRAINT importedkey_transaction_same_household;
ALTER TABLE uploads_importedkey DROP CONSTRAINT importedkey_import_same_household;
ALTER TABLE uploads_statementimportrow DROP CONSTRAINT importrow_import_same_household;

CREATE FUNCTION uploads_forget_deleted_transactions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The key stays (so the row is not imported again); only its pointer goes.
    UPDATE uploads_importedkey AS k SET transaction_id = NULL
      FROM deleted_transactions AS d
     WHERE k.household_id = d.household_id AND k.transaction_id = d.id;
    RETURN NULL;
END $$;
CREATE TRIGGER importedkey_forget_deleted_transactions AFTER DELETE ON ledger_transaction
    REFERENCING OLD TABLE AS deleted_transactions FOR EACH STATEMENT
    EXECUTE FUNCTION uploads_forget_deleted_transactions();
"""

REVERSE_SQL = r"""
ALTER TABLE uploads_statementimportrow ADD CONSTRAINT importrow_import_same_household
    FOREIGN KEY (household_id, statement_import_id) REFERENCES uploads_statementimport (household_id, id)
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
DROP TRIGGER importedkey_forget_deleted_transactions ON ledger_transaction;
DROP FUNCTION uploads_forget_deleted_transactions();
ALTER TABLE uploads_importedkey ADD CONSTRAINT importedkey_import_same_household
    FOREIGN KEY (household_id, statement_import_id) REFERENCES uploads_statementimport (household_id, id)
    ON DELETE SET NULL (statement_import_id) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE uploads_importedkey ADD CONSTRAINT importedkey_transaction_same_household
    FOREIGN KEY (household_id, transaction_id) REFERENCES ledger_transaction (household_id, id)
    ON DELETE SET NULL (transaction_id) DEFERRABLE INITIALLY DEFERRED;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0003_drop_indexes_the_composites_cover"),
        ("ledger", "0005_slim_transaction_constraints"),
    ]

    operations = [migrations.RunSQL(FORWARD_SQL, REVERSE_SQL)]
