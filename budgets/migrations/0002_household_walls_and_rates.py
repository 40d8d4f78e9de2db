"""Database invariants for the budgets app, following ledger 0002.

- Composite foreign keys (household_id, x_id) → x(household_id, id): a budget line, schedule or posted
  occurrence can never point at another household's category, account, transaction or transfer.
- `budgets_exchange_rate(from, to, day)`: the rate that converts 1 `from` into `to` on `day`, using the
  latest rate on or before the day: the direct pair (from→to) or its inverse (to→from, as 1/rate),
  whichever is more recent (direct wins a tie); failing both, a cross rate through EUR (from→EUR × EUR→to,
  each direct or inverse). NULL when no rate is known: callers report it, never treat it as zero.
"""

from django.db import migrations

COMPOSITE_FOREIGN_KEYS = [
    # (table, constraint, local column, referenced table)
    ("budgets_budget", "budget_category_same_household", "category_id", "ledger_category"),
    ("budgets_scheduledtransaction", "scheduled_account_same_household", "account_id", "ledger_account"),
    ("budgets_scheduledtransaction", "scheduled_to_account_same_household", "to_account_id", "ledger_account"),
    ("budgets_scheduledtransaction", "scheduled_category_same_household", "category_id", "ledger_category"),
    (
        "budgets_scheduledoccurrence",
        "scheduledoccurrence_scheduled_same_household",
        "scheduled_id",
        "budgets_scheduledtransaction",
    ),
    (
        "budgets_scheduledoccurrence",
        "scheduledoccurrence_transaction_same_household",
        "transaction_id",
        "ledger_transaction",
    ),
    ("budgets_scheduledoccurrence", "scheduledoccurrence_transfer_same_household", "transfer_id", "ledger_transfer"),
]

FOREIGN_KEYS_SQL = "\n".join(
    f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (household_id, {column}) "
    f"REFERENCES {target} (household_id, id) DEFERRABLE INITIALLY DEFERRED;"
    for table, name, column, target in COMPOSITE_FOREIGN_KEYS
)
FOREIGN_KEYS_REVERSE_SQL = "\n".join(
    f"ALTER TABLE {table} DROP CONSTRAINT {name};" for table, name, _column, _target in COMPOSITE_FOREIGN_KEYS
)

RATE_SQL = r"""
CREATE FUNCTION budgets_pair_rate(from_currency text, to_currency text, on_date date) RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT rate FROM (
        (SELECT date, 0 AS preference, rate FROM budgets_exchangerate
          WHERE base = from_currency AND quote = to_currency AND date <= on_date ORDER BY date DESC LIMIT 1)
        UNION ALL
        (SELECT date, 1 AS preference, 1 / rate FROM budgets_exchangerate
          WHERE base = to_currency AND quote = from_currency AND date <= on_date ORDER BY date DESC LIMIT 1)
    ) AS candidates
    ORDER BY date DESC, preference LIMIT 1
$$;

CREATE FUNCTION budgets_exchange_rate(from_currency text, to_currency text, on_date date) RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN from_currency = to_currency THEN 1::numeric
        ELSE coalesce(
            budgets_pair_rate(from_currency, to_currency, on_date),
            CASE WHEN from_currency <> 'EUR' AND to_currency <> 'EUR' THEN
                budgets_pair_rate(from_currency, 'EUR', on_date) * budgets_pair_rate('EUR', to_currency, on_date)
            END
        )
    END
$$;
"""
RATE_REVERSE_SQL = """
DROP FUNCTION budgets_exchange_rate(text, text, date);
DROP FUNCTION budgets_pair_rate(text, text, date);
"""


class Migration(migrations.Migration):
    dependencies = [("budgets", "0001_budgets_schedules_rates"), ("ledger", "0002_database_invariants")]

    operations = [
        migrations.RunSQL(FOREIGN_KEYS_SQL, FOREIGN_KEYS_REVERSE_SQL),
        migrations.RunSQL(RATE_SQL, RATE_REVERSE_SQL),
    ]
