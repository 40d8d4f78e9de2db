# ruff: noqa: S608 - the SQL is assembled only from constants in this module.
"""Per-(household, category, day, currency) totals of the categorised amounts, kept by statement-level triggers.

The reports count "entries": one per split line, or one per whole transaction that has no split lines;
transfers never count (see `budgets.selectors.common`). `ledger_categorydaytotal` holds, for every
household, category (NULL: uncategorised), day and account currency, the sum and count of those entries,
so a budget month reads ≤ 31 × categories rows instead of every transaction and split of the month.
`inflow` is the sum of the positive entries alone (the cash-flow report sorts uncategorised entries by sign).

Why per day and per currency: a household's budget month may start on any day (`budgets.months`), and a
foreign amount is converted at its day's rate and rounded per entry before anything is summed — so only
amounts already in the base currency may be summed first; the reports still read foreign-currency entries
row by row (exact as before) and take the base-currency ones from here.

Kept like `ledger_accountmonthtotal` (migration 0002): one grouped upsert per statement, from its
transition tables, so a bulk import pays one upsert per (category, day, currency) per statement. Each
trigger computes the entries of the transactions its statement touched before and after the statement,
against the other table's current rows:
- a transaction statement: entries(new rows, current splits) − entries(old rows, current splits);
- a split statement: for each transaction whose splits it touched, entries(current transaction, splits
  after) − entries(current transaction, splits before), "before" being the current splits minus the
  statement's new rows plus its old rows. A transaction's first split line replaces its whole-amount entry.
These are plain (immediate) statement triggers, as the account totals are: PostgreSQL defers only row-level
constraint triggers. What is deferred around them (the composite foreign keys, the split-sum check) does not
change what they compute: a split written before its transaction contributes when the transaction arrives.

The backfill is one INSERT … SELECT over the rows, then ANALYZE so the first report is planned on real counts.
`manage.py check_ledger` compares the totals with the rows (`ledger.consistency`).
"""

import django.db.models.deletion
from django.db import migrations, models

# As for every household-owned table (migration 0002): the category must be in the row's household.
FOREIGN_KEY_SQL = (
    "ALTER TABLE ledger_categorydaytotal ADD CONSTRAINT categorydaytotal_category_same_household "
    "FOREIGN KEY (household_id, category_id) REFERENCES ledger_category (household_id, id) DEFERRABLE INITIALLY DEFERRED;"
)
FOREIGN_KEY_REVERSE_SQL = (
    "ALTER TABLE ledger_categorydaytotal DROP CONSTRAINT categorydaytotal_category_same_household;"
)


def _entries(rows: str, splits: str) -> str:
    """SQL: the entries (household, category, day, currency, amount) of the transaction rows `rows` given the
    split lines `splits` (transaction_id, category_id, amount): a row's splits when it has any, else itself."""
    return f"""
        SELECT x.household_id, coalesce(s.category_id, x.category_id) AS category_id, x.date, a.currency,
               coalesce(s.amount, x.amount) AS amount
          FROM {rows} x
          JOIN ledger_account a ON a.id = x.account_id
          LEFT JOIN {splits} s ON s.transaction_id = x.id
         WHERE x.transfer_id IS NULL"""


def _apply(plus: str, minus: str | None = None, with_sql: str = "") -> str:
    """SQL: add the entries `plus` and take away the entries `minus` (each an SQL SELECT from `_entries`);
    `with_sql` names common table expressions they read."""
    changes = (
        "SELECT household_id, category_id, date, currency, amount, greatest(amount, 0) AS inflow, 1 AS n "
        f"FROM ({plus}) AS p"
    )
    if minus is not None:
        changes += (
            "\n UNION ALL SELECT household_id, category_id, date, currency, -amount, -greatest(amount, 0), -1 "
            f"FROM ({minus}) AS m"
        )
    return f"""
    {with_sql}
    INSERT INTO ledger_categorydaytotal AS totals
           (household_id, category_id, date, currency, total, inflow, entry_count)
    SELECT household_id, category_id, date, currency, sum(amount), sum(inflow), sum(n)
      FROM ({changes}) AS changes
     GROUP BY 1, 2, 3, 4
    HAVING sum(amount) <> 0 OR sum(inflow) <> 0 OR sum(n) <> 0
     ORDER BY 1, 3, 2, 4
    ON CONFLICT ON CONSTRAINT categorydaytotal_household_date_category_currency_unique DO UPDATE
       SET total = totals.total + EXCLUDED.total, inflow = totals.inflow + EXCLUDED.inflow,
           entry_count = totals.entry_count + EXCLUDED.entry_count;"""


# The columns of a transaction that decide its entries; an UPDATE changing none of them writes nothing.
_TX_FACTS = "(o.household_id, o.account_id, o.date, o.amount, o.category_id, o.transfer_id)"
_TX_FACTS_NEW = _TX_FACTS.replace("o.", "n.")
_CURRENT_SPLITS = "(SELECT transaction_id, category_id, amount FROM ledger_split)"
_CHANGED_SPLITS = """WITH changed_splits AS (
    SELECT o.id, o.transaction_id, o.category_id, o.amount, true AS is_old
      FROM old_rows o JOIN new_rows n ON n.id = o.id
     WHERE (o.transaction_id, o.category_id, o.amount) IS DISTINCT FROM (n.transaction_id, n.category_id, n.amount)
    UNION ALL
    SELECT n.id, n.transaction_id, n.category_id, n.amount, false
      FROM old_rows o JOIN new_rows n ON n.id = o.id
     WHERE (o.transaction_id, o.category_id, o.amount) IS DISTINCT FROM (n.transaction_id, n.category_id, n.amount)
)"""

TRIGGERS_SQL = rf"""
CREATE FUNCTION ledger_category_totals_tx_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_apply(_entries("inserted_rows", _CURRENT_SPLITS))}
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_category_totals_tx_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {
    _apply(
        _entries(
            f"(SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {_TX_FACTS} IS DISTINCT FROM {_TX_FACTS_NEW})",
            _CURRENT_SPLITS,
        ),
        _entries(
            f"(SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {_TX_FACTS} IS DISTINCT FROM {_TX_FACTS_NEW})",
            _CURRENT_SPLITS,
        ),
    )
}
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_category_totals_tx_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- UPDATE, not upsert: when a whole household is purged its totals may already be gone.
    UPDATE ledger_categorydaytotal AS totals
       SET total = totals.total - removed.amount, inflow = totals.inflow - removed.inflow,
           entry_count = totals.entry_count - removed.n
      FROM (SELECT household_id, category_id, date, currency, sum(amount) AS amount,
                   sum(greatest(amount, 0)) AS inflow, count(*) AS n
              FROM ({_entries("deleted_rows", _CURRENT_SPLITS)}) AS e
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 3, 2, 4) AS removed
     WHERE totals.household_id = removed.household_id AND totals.date = removed.date
       AND totals.category_id IS NOT DISTINCT FROM removed.category_id AND totals.currency = removed.currency;
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_category_totals_split_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {
    _apply(
        _entries(
            "(SELECT * FROM ledger_transaction WHERE id IN (SELECT transaction_id FROM inserted_rows))", _CURRENT_SPLITS
        ),
        _entries(
            "(SELECT * FROM ledger_transaction WHERE id IN (SELECT transaction_id FROM inserted_rows))",
            "(SELECT transaction_id, category_id, amount FROM ledger_split"
            " WHERE transaction_id IN (SELECT transaction_id FROM inserted_rows)"
            " AND id NOT IN (SELECT id FROM inserted_rows))",
        ),
    )
}
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_category_totals_split_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Only split lines whose category, amount or transaction changed count: their old and new versions.
    {
    _apply(
        _entries(
            "(SELECT * FROM ledger_transaction WHERE id IN (SELECT transaction_id FROM changed_splits))",
            _CURRENT_SPLITS,
        ),
        _entries(
            "(SELECT * FROM ledger_transaction WHERE id IN (SELECT transaction_id FROM changed_splits))",
            "(SELECT transaction_id, category_id, amount FROM ledger_split"
            " WHERE transaction_id IN (SELECT transaction_id FROM changed_splits)"
            " AND id NOT IN (SELECT id FROM changed_splits)"
            " UNION ALL SELECT transaction_id, category_id, amount FROM changed_splits WHERE is_old)",
        ),
        with_sql=_CHANGED_SPLITS,
    )
}
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_category_totals_split_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {
    _apply(
        _entries(
            "(SELECT * FROM ledger_transaction WHERE id IN (SELECT transaction_id FROM deleted_rows))", _CURRENT_SPLITS
        ),
        _entries(
            "(SELECT * FROM ledger_transaction WHERE id IN (SELECT transaction_id FROM deleted_rows))",
            "(SELECT transaction_id, category_id, amount FROM ledger_split"
            " WHERE transaction_id IN (SELECT transaction_id FROM deleted_rows)"
            " UNION ALL SELECT transaction_id, category_id, amount FROM deleted_rows)",
        ),
    )
}
    RETURN NULL;
END $$;

CREATE TRIGGER category_totals_tx_insert AFTER INSERT ON ledger_transaction
    REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_category_totals_tx_insert();
CREATE TRIGGER category_totals_tx_update AFTER UPDATE ON ledger_transaction
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_category_totals_tx_update();
CREATE TRIGGER category_totals_tx_delete AFTER DELETE ON ledger_transaction
    REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_category_totals_tx_delete();
CREATE TRIGGER category_totals_split_insert AFTER INSERT ON ledger_split
    REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_category_totals_split_insert();
CREATE TRIGGER category_totals_split_update AFTER UPDATE ON ledger_split
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_category_totals_split_update();
CREATE TRIGGER category_totals_split_delete AFTER DELETE ON ledger_split
    REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_category_totals_split_delete();
"""
TRIGGERS_REVERSE_SQL = """
DROP TRIGGER category_totals_split_delete ON ledger_split;
DROP TRIGGER category_totals_split_update ON ledger_split;
DROP TRIGGER category_totals_split_insert ON ledger_split;
DROP TRIGGER category_totals_tx_delete ON ledger_transaction;
DROP TRIGGER category_totals_tx_update ON ledger_transaction;
DROP TRIGGER category_totals_tx_insert ON ledger_transaction;
DROP FUNCTION ledger_category_totals_split_delete();
DROP FUNCTION ledger_category_totals_split_update();
DROP FUNCTION ledger_category_totals_split_insert();
DROP FUNCTION ledger_category_totals_tx_delete();
DROP FUNCTION ledger_category_totals_tx_update();
DROP FUNCTION ledger_category_totals_tx_insert();
"""

BACKFILL_SQL = f"""
INSERT INTO ledger_categorydaytotal (household_id, category_id, date, currency, total, inflow, entry_count)
SELECT household_id, category_id, date, currency, sum(amount), sum(greatest(amount, 0)), count(*)
  FROM ({_entries("ledger_transaction", "ledger_split")}) AS e
 GROUP BY 1, 2, 3, 4;
-- Settle the new rows' deferred key checks now: the migration's own ALTER TABLEs (Django adds the foreign
-- keys last) refuse a table with pending trigger events.
SET CONSTRAINTS ALL IMMEDIATE;
SET CONSTRAINTS ALL DEFERRED;
ANALYZE ledger_categorydaytotal;
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_month_total_wider_than_an_amount")]

    operations = [
        migrations.CreateModel(
            name="CategoryDayTotal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField()),
                ("currency", models.CharField(max_length=3)),
                ("total", models.DecimalField(decimal_places=4, default=0, max_digits=38)),
                ("inflow", models.DecimalField(decimal_places=4, default=0, max_digits=38)),
                ("entry_count", models.BigIntegerField(default=0)),
                (
                    "category",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="ledger.category",
                    ),
                ),
                (
                    "household",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="ledger.household"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("household", "date", "category", "currency"),
                        name="categorydaytotal_household_date_category_currency_unique",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.RunSQL(FOREIGN_KEY_SQL, FOREIGN_KEY_REVERSE_SQL),
        migrations.RunSQL(TRIGGERS_SQL, TRIGGERS_REVERSE_SQL),
        migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop),
    ]
