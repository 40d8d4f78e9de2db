"""Exchange rates applied as exact fractions.

`budgets_exchange_rate` returned 1/rate for an inverse pair and r1 × r2 for a cross rate through EUR, so a
converted amount was amount × (a rounded quotient): an inverse rate such as 1/1.0841 is 0.92242413061525689512
to PostgreSQL, and EUR→KWD 1.0841 with EUR→USD 1.0841 made KWD→USD 0.99999999999999999990 instead of 1.
-65.155 KWD then became -65.15 USD instead of -65.16 (the long hypothesis run found it).

`budgets_exchange_rate_fraction(from, to, day)` gives the same rate as {numerator, denominator} — direct
{rate, 1}, inverse {1, rate}, cross the products — and callers convert with `budgets_convert_sql` (amount ×
numerator ÷ denominator, the division last, at 40 decimal places), so the one rounding to the base
currency's places is the only rounding. `budgets_exchange_rate` stays, defined from the fraction, for
display and the API's rate lookups.
"""

from django.db import migrations

FRACTION_SQL = r"""
CREATE FUNCTION budgets_pair_fraction(from_currency text, to_currency text, on_date date) RETURNS numeric[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT fraction FROM (
        (SELECT date, 0 AS preference, ARRAY[rate, 1::numeric] AS fraction FROM budgets_exchangerate
          WHERE base = from_currency AND quote = to_currency AND date <= on_date ORDER BY date DESC LIMIT 1)
        UNION ALL
        (SELECT date, 1 AS preference, ARRAY[1::numeric, rate] AS fraction FROM budgets_exchangerate
          WHERE base = to_currency AND quote = from_currency AND date <= on_date ORDER BY date DESC LIMIT 1)
    ) AS candidates
    ORDER BY date DESC, preference LIMIT 1
$$;

CREATE FUNCTION budgets_exchange_rate_fraction(from_currency text, to_currency text, on_date date)
RETURNS numeric[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN from_currency = to_currency THEN ARRAY[1::numeric, 1::numeric]
        ELSE coalesce(
            budgets_pair_fraction(from_currency, to_currency, on_date),
            CASE WHEN from_currency <> 'EUR' AND to_currency <> 'EUR' THEN
                (SELECT ARRAY[a[1] * b[1], a[2] * b[2]]
                   FROM (SELECT budgets_pair_fraction(from_currency, 'EUR', on_date) AS a,
                                budgets_pair_fraction('EUR', to_currency, on_date) AS b) AS pair
                  WHERE a IS NOT NULL AND b IS NOT NULL)
            END
        )
    END
$$;

CREATE OR REPLACE FUNCTION budgets_exchange_rate(from_currency text, to_currency text, on_date date)
RETURNS numeric
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT f[1] / f[2] FROM (SELECT budgets_exchange_rate_fraction(from_currency, to_currency, on_date) AS f) AS r
$$;
"""

FRACTION_REVERSE_SQL = r"""
CREATE OR REPLACE FUNCTION budgets_exchange_rate(from_currency text, to_currency text, on_date date)
RETURNS numeric
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
DROP FUNCTION budgets_exchange_rate_fraction(text, text, date);
DROP FUNCTION budgets_pair_fraction(text, text, date);
"""


class Migration(migrations.Migration):
    dependencies = [("budgets", "0002_household_walls_and_rates")]

    operations = [migrations.RunSQL(FRACTION_SQL, FRACTION_REVERSE_SQL)]
