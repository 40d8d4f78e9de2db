"""A staged row's "imported" state comes from its committed import; its transaction id is reserved by the preview.

The commit used to rewrite every staged row it imported (status imported, transaction_id from the sequence): on a
100,000-row statement that update cost as much as writing the transactions. The preview now reserves each new
row's transaction id (nextval, in the staging statement) and the commit inserts under it without touching the
row; `StatementImportRow.objects` shows a row staged new (or a near match kept as new) of a committed import as
imported, with that id. The columns keep their names (`status`, `transaction_id`); the model calls them
`staged_status` and `staged_transaction_id` so that `status` and `transaction_id` are the derived values.

Forwards path for imports staged before this migration: rows of an import not yet committed that would be
imported get their id reserved now (committed imports already say imported on each row). Backwards: those
reservations are dropped again, and rows of imports committed since say imported and keep their id.

No column changes, so the release before this one runs on it (a rolling deploy, `rollout undo`): its commit
overwrites a reserved id with one of its own, and this release's commit reserves ids for rows the previous one
staged (`_RESERVE_SQL`). Only its display differs: it shows the rows of imports this release committed as new.
"""

from django.db import migrations, models

FORWARD_SQL = """
UPDATE uploads_statementimportrow r
   SET transaction_id = nextval((SELECT pg_get_serial_sequence('ledger_transaction', 'id')::regclass))
  FROM uploads_statementimport i
 WHERE i.household_id = r.household_id AND i.id = r.statement_import_id AND i.status <> 'committed'
   AND r.status IN ('new', 'near_match') AND r.transaction_id IS NULL;
"""

REVERSE_SQL = """
UPDATE uploads_statementimportrow r SET transaction_id = NULL
  FROM uploads_statementimport i
 WHERE i.household_id = r.household_id AND i.id = r.statement_import_id AND i.status <> 'committed'
   AND r.status IN ('new', 'near_match');
UPDATE uploads_statementimportrow r SET status = 'imported'
  FROM uploads_statementimport i
 WHERE i.household_id = r.household_id AND i.id = r.statement_import_id AND i.status = 'committed'
   AND r.status IN ('new', 'near_match');
"""


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0009_key_account_check_per_account"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField("statementimportrow", "status", "staged_status"),
                migrations.AlterField(
                    model_name="statementimportrow",
                    name="staged_status",
                    field=models.CharField(
                        choices=[
                            ("new", "New"),
                            ("duplicate", "Duplicate"),
                            ("near_match", "Near match"),
                            ("error", "Error"),
                            ("ignored", "Ignored"),
                            ("imported", "Imported"),
                            ("merged", "Merged"),
                        ],
                        db_column="status",
                        default="new",
                        max_length=10,
                    ),
                ),
                migrations.RenameField("statementimportrow", "transaction_id", "staged_transaction_id"),
                migrations.AlterField(
                    model_name="statementimportrow",
                    name="staged_transaction_id",
                    field=models.BigIntegerField(
                        blank=True,
                        db_column="transaction_id",
                        help_text="Reserved by the preview for a new row (nextval of the transactions' sequence), "
                        "the transaction a commit created under it; for a merged row the transaction it was "
                        "merged into.",
                        null=True,
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunSQL(FORWARD_SQL, REVERSE_SQL),
    ]
