"""Import lifecycle: `uploaded` and `previewing` states, and a committed import stays committed.

A new import starts `uploaded` (it used to start `previewed`, so an import whose preview never ran or was
killed could be committed). The trigger makes `committed` final in the database as well as in the services:
no path (admin wizard, a script, a second commit) can turn a committed import back into a committable one.
"""

from django.db import migrations, models

FORWARD_SQL = r"""
UPDATE uploads_statementimport SET committed_at = created_at WHERE status = 'committed' AND committed_at IS NULL;
UPDATE uploads_statementimport SET committed_at = NULL WHERE status <> 'committed' AND committed_at IS NOT NULL;

CREATE FUNCTION uploads_committed_import_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'statement import % is committed; it cannot change status or be committed again', OLD.id
          USING ERRCODE = 'check_violation', CONSTRAINT = 'statementimport_committed_is_final',
                TABLE = 'uploads_statementimport';
END $$;
CREATE TRIGGER statementimport_committed_is_final BEFORE UPDATE OF status, committed_at ON uploads_statementimport
    FOR EACH ROW WHEN (OLD.status = 'committed'
                       AND (NEW.status IS DISTINCT FROM OLD.status OR NEW.committed_at IS DISTINCT FROM OLD.committed_at))
    EXECUTE FUNCTION uploads_committed_import_is_final();
"""

REVERSE_SQL = r"""
DROP TRIGGER statementimport_committed_is_final ON uploads_statementimport;
DROP FUNCTION uploads_committed_import_is_final();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0005_key_account_check_per_statement"),
    ]

    operations = [
        migrations.AlterField(
            model_name="statementimport",
            name="status",
            field=models.CharField(
                choices=[
                    ("uploaded", "Uploaded"),
                    ("previewing", "Previewing"),
                    ("previewed", "Previewed"),
                    ("committed", "Committed"),
                    ("failed", "Failed"),
                ],
                default="uploaded",
                max_length=10,
            ),
        ),
        migrations.RunSQL(FORWARD_SQL, REVERSE_SQL),
        migrations.AddConstraint(
            model_name="statementimport",
            constraint=models.CheckConstraint(
                condition=models.Q(("committed_at__isnull", False), ("status", "committed"))
                | models.Q(~models.Q(("status", "committed")), ("committed_at__isnull", True)),
                name="statementimport_committed_at_iff_committed",
            ),
        ),
    ]
