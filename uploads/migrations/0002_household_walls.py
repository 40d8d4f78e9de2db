"""Composite foreign keys (household_id, x_id) → x(household_id, id): no upload row can point across households.

ON DELETE SET NULL (column) (PostgreSQL 15+) nulls only the pointer, never household_id, so an imported key
outlives its deleted transaction — which is what keeps a deleted row from being imported again.
"""

from django.db import migrations

COMPOSITE_FOREIGN_KEYS = [
    # (table, constraint, local column, referenced table, on delete)
    (
        "uploads_attachment",
        "attachment_transaction_same_household",
        "transaction_id",
        "ledger_transaction",
        "SET NULL (transaction_id)",
    ),
    ("uploads_csvprofile", "csvprofile_account_same_household", "account_id", "ledger_account", "CASCADE"),
    ("uploads_statementimport", "statementimport_account_same_household", "account_id", "ledger_account", "CASCADE"),
    (
        "uploads_statementimportrow",
        "importrow_import_same_household",
        "statement_import_id",
        "uploads_statementimport",
        "CASCADE",
    ),
    ("uploads_importedkey", "importedkey_account_same_household", "account_id", "ledger_account", "CASCADE"),
    (
        "uploads_importedkey",
        "importedkey_transaction_same_household",
        "transaction_id",
        "ledger_transaction",
        "SET NULL (transaction_id)",
    ),
    (
        "uploads_importedkey",
        "importedkey_import_same_household",
        "statement_import_id",
        "uploads_statementimport",
        "SET NULL (statement_import_id)",
    ),
]

FOREIGN_KEYS_SQL = "\n".join(
    f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (household_id, {column}) "
    f"REFERENCES {target} (household_id, id) ON DELETE {on_delete} DEFERRABLE INITIALLY DEFERRED;"
    for table, name, column, target, on_delete in COMPOSITE_FOREIGN_KEYS
)
FOREIGN_KEYS_REVERSE_SQL = "\n".join(
    f"ALTER TABLE {table} DROP CONSTRAINT {name};"
    for table, name, _column, _target, _on_delete in COMPOSITE_FOREIGN_KEYS
)


class Migration(migrations.Migration):
    dependencies = [("uploads", "0001_attachments_imports"), ("ledger", "0002_database_invariants")]

    operations = [
        migrations.RunSQL(FOREIGN_KEYS_SQL, FOREIGN_KEYS_REVERSE_SQL),
        # Room on each page so the commit's status update of every staged row is a HOT update.
        migrations.RunSQL(
            "ALTER TABLE uploads_statementimportrow SET (fillfactor = 60);",
            "ALTER TABLE uploads_statementimportrow RESET (fillfactor);",
        ),
    ]
