"""Read-only consistency checks that prove the ledger's invariants hold; `manage.py check_ledger` runs them.

Not Django system checks: these read the books, and are registered in `financetracker.core.registries.consistency_checks`.

Each check is one set-based query (it scales to millions of rows) and returns human-readable breaches
that name the offending rows by id. The database enforces these rules (migration 0002); the checks
catch what got past it: triggers disabled during a restore, `session_replication_role = replica`,
manual repairs, or a bug in a future migration.
"""

# ruff: noqa: S608 - the SQL is assembled only from constants in this module; values go in as parameters.
from __future__ import annotations

from django.db import connection

from financetracker.core.money import CURRENCY_EXPONENTS
from financetracker.core.registries import ConsistencyCheck

# (child table, column, parent table) pairs whose household_id must agree; mirrors migration 0002.
HOUSEHOLD_LINKS = [
    ("ledger_transaction", "account_id", "ledger_account"),
    ("ledger_transaction", "category_id", "ledger_category"),
    ("ledger_transaction", "transfer_id", "ledger_transfer"),
    ("ledger_category", "parent_id", "ledger_category"),
    ("ledger_split", "transaction_id", "ledger_transaction"),
    ("ledger_split", "category_id", "ledger_category"),
    ("ledger_transactiontag", "transaction_id", "ledger_transaction"),
    ("ledger_transactiontag", "tag_id", "ledger_tag"),
    ("ledger_accountmonthtotal", "account_id", "ledger_account"),
    ("ledger_categorydaytotal", "category_id", "ledger_category"),
    ("ledger_reconciliation", "account_id", "ledger_account"),
    ("ledger_rule", "set_category_id", "ledger_category"),
    ("ledger_ruletag", "rule_id", "ledger_rule"),
    ("ledger_ruletag", "tag_id", "ledger_tag"),
]

# Every check takes the household filter as %(household)s; NULL means all households.
_IN_HOUSEHOLD = "(%(household)s::bigint IS NULL OR {alias}.household_id = %(household)s::bigint)"


def _rows(sql: str, household_id: int | None) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"household": household_id})
        return list(cursor.fetchall())


def splits_sum_to_amounts(household_id: int | None = None) -> list[str]:
    sql = f"""
        SELECT t.id, t.amount, sum(s.amount)
          FROM ledger_transaction t JOIN ledger_split s ON s.transaction_id = t.id
         WHERE {_IN_HOUSEHOLD.format(alias="t")}
         GROUP BY t.id, t.amount HAVING sum(s.amount) <> t.amount ORDER BY t.id"""
    return [
        f"transaction {tx_id}: splits sum to {total} but the amount is {amount}"
        for tx_id, amount, total in _rows(sql, household_id)
    ]


def transfer_pairs_are_whole_and_balanced(household_id: int | None = None) -> list[str]:
    sql = f"""
        SELECT tr.id, count(t.id), count(DISTINCT t.account_id), count(t.id) FILTER (WHERE t.amount < 0),
               count(t.id) FILTER (WHERE t.amount > 0), count(DISTINCT a.currency), coalesce(sum(t.amount), 0)
          FROM ledger_transfer tr
          LEFT JOIN ledger_transaction t ON t.transfer_id = tr.id
          LEFT JOIN ledger_account a ON a.id = t.account_id
         WHERE {_IN_HOUSEHOLD.format(alias="tr")}
         GROUP BY tr.id
        HAVING count(t.id) <> 2 OR count(DISTINCT t.account_id) <> 2
            OR count(t.id) FILTER (WHERE t.amount < 0) <> 1 OR count(t.id) FILTER (WHERE t.amount > 0) <> 1
            OR (count(DISTINCT a.currency) = 1 AND coalesce(sum(t.amount), 0) <> 0)
         ORDER BY tr.id"""
    breaches = []
    for transfer_id, sides, accounts, outgoing, incoming, _currencies, total in _rows(sql, household_id):
        if sides == 0:
            breaches.append(f"transfer {transfer_id} is an orphan: it has no transactions")
        else:
            breaches.append(
                f"transfer {transfer_id} must be one outgoing and one incoming transaction in two accounts summing "
                f"to zero in one currency; found {sides} sides in {accounts} accounts ({outgoing} out, "
                f"{incoming} in), total {total}"
            )
    return breaches


def rows_share_their_parents_household(household_id: int | None = None) -> list[str]:
    selects = [
        f"SELECT '{child}', c.id, c.household_id, '{column}', p.id, p.household_id FROM {child} c "
        f"JOIN {parent} p ON p.id = c.{column} WHERE c.household_id <> p.household_id "
        f"AND ({_IN_HOUSEHOLD.format(alias='c')} OR {_IN_HOUSEHOLD.format(alias='p')})"
        for child, column, parent in HOUSEHOLD_LINKS
    ]
    sql = " UNION ALL ".join(selects) + " ORDER BY 1, 2"
    return [
        f"{str(table).removeprefix('ledger_')} {row_id} is in household {row_household} but its {column} "
        f"{parent_id} is in household {parent_household}"
        for table, row_id, row_household, column, parent_id, parent_household in _rows(sql, household_id)
    ]


def categories_have_two_levels_of_one_kind(household_id: int | None = None) -> list[str]:
    sql = f"""
        SELECT c.id, c.kind, p.id, p.kind, p.parent_id
          FROM ledger_category c JOIN ledger_category p ON p.id = c.parent_id
         WHERE (p.parent_id IS NOT NULL OR p.kind <> c.kind) AND {_IN_HOUSEHOLD.format(alias="c")}
         ORDER BY c.id"""
    breaches = []
    for child_id, kind, parent_id, parent_kind, grandparent_id in _rows(sql, household_id):
        if grandparent_id is not None:
            breaches.append(f"category {child_id} is a third level: its parent {parent_id} is under {grandparent_id}")
        if kind != parent_kind:
            breaches.append(f"category {child_id} is {kind} but its parent {parent_id} is {parent_kind}")
    return breaches


def _exponents_sql() -> str:
    return "VALUES " + ", ".join(f"('{code}', {places})" for code, places in sorted(CURRENCY_EXPONENTS.items()))


def amounts_fit_their_currency(household_id: int | None = None) -> list[str]:
    sql = f"""
        WITH exponent(currency, places) AS ({_exponents_sql()}),
        amounts AS (
            SELECT 'transaction' AS kind, t.id, t.amount, a.currency, t.household_id
              FROM ledger_transaction t JOIN ledger_account a ON a.id = t.account_id
            UNION ALL
            SELECT 'split', s.id, s.amount, a.currency, s.household_id
              FROM ledger_split s JOIN ledger_transaction t ON t.id = s.transaction_id
              JOIN ledger_account a ON a.id = t.account_id
            UNION ALL
            SELECT 'account opening balance', a.id, a.opening_balance, a.currency, a.household_id FROM ledger_account a
            UNION ALL
            SELECT 'reconciliation', r.id, r.statement_balance, a.currency, r.household_id
              FROM ledger_reconciliation r JOIN ledger_account a ON a.id = r.account_id
        )
        SELECT m.kind, m.id, m.amount, m.currency, e.places
          FROM amounts m LEFT JOIN exponent e ON e.currency = m.currency
         WHERE (e.places IS NULL OR m.amount <> round(m.amount, e.places)) AND {_IN_HOUSEHOLD.format(alias="m")}
         ORDER BY 1, 2"""
    return [
        f"{kind} {row_id}: {currency} is not a known currency"
        if places is None
        else f"{kind} {row_id}: {amount} has more than {places} decimal places for {currency}"
        for kind, row_id, amount, currency, places in _rows(sql, household_id)
    ]


def month_totals_match_transactions(household_id: int | None = None) -> list[str]:
    sql = f"""
        WITH actual AS (
            SELECT household_id, account_id, date_trunc('month', date)::date AS month, sum(amount) AS total,
                   count(*) AS row_count
              FROM ledger_transaction t WHERE {_IN_HOUSEHOLD.format(alias="t")} GROUP BY 1, 2, 3
        ), kept AS (
            SELECT household_id, account_id, month, total, row_count
              FROM ledger_accountmonthtotal m WHERE {_IN_HOUSEHOLD.format(alias="m")}
        )
        SELECT coalesce(actual.account_id, kept.account_id), coalesce(actual.month, kept.month),
               coalesce(actual.total, 0), coalesce(actual.row_count, 0),
               coalesce(kept.total, 0), coalesce(kept.row_count, 0)
          FROM actual FULL JOIN kept
            ON kept.household_id = actual.household_id AND kept.account_id = actual.account_id
           AND kept.month = actual.month
         WHERE coalesce(actual.total, 0) <> coalesce(kept.total, 0)
            OR coalesce(actual.row_count, 0) <> coalesce(kept.row_count, 0)
         ORDER BY 1, 2"""
    return [
        f"account {account_id} month {month:%Y-%m}: transactions sum to {total} in {count} rows but the monthly "
        f"total says {kept_total} in {kept_count} rows"
        for account_id, month, total, count, kept_total, kept_count in _rows(sql, household_id)
    ]


def category_day_totals_match_entries(household_id: int | None = None) -> list[str]:
    """The per-(category, day, currency) totals (migration 0008) against the entries the reports count: a
    split line, or a whole transaction without split lines; never a transfer."""
    sql = f"""
        WITH actual AS (
            SELECT t.household_id, coalesce(s.category_id, t.category_id) AS category_id, t.date, a.currency,
                   sum(coalesce(s.amount, t.amount)) AS total,
                   sum(greatest(coalesce(s.amount, t.amount), 0)) AS inflow, count(*) AS entry_count
              FROM ledger_transaction t
              JOIN ledger_account a ON a.id = t.account_id
              LEFT JOIN ledger_split s ON s.transaction_id = t.id
             WHERE t.transfer_id IS NULL AND {_IN_HOUSEHOLD.format(alias="t")}
             GROUP BY 1, 2, 3, 4
        ), kept AS (
            SELECT household_id, category_id, date, currency, total, inflow, entry_count
              FROM ledger_categorydaytotal k WHERE {_IN_HOUSEHOLD.format(alias="k")}
        )
        SELECT coalesce(actual.household_id, kept.household_id), coalesce(actual.category_id, kept.category_id),
               coalesce(actual.date, kept.date), coalesce(actual.currency, kept.currency),
               coalesce(actual.total, 0), coalesce(actual.inflow, 0), coalesce(actual.entry_count, 0),
               coalesce(kept.total, 0), coalesce(kept.inflow, 0), coalesce(kept.entry_count, 0)
          FROM actual FULL JOIN kept
            ON kept.household_id = actual.household_id AND kept.category_id IS NOT DISTINCT FROM actual.category_id
           AND kept.date = actual.date AND kept.currency = actual.currency
         WHERE coalesce(actual.total, 0) <> coalesce(kept.total, 0)
            OR coalesce(actual.inflow, 0) <> coalesce(kept.inflow, 0)
            OR coalesce(actual.entry_count, 0) <> coalesce(kept.entry_count, 0)
         ORDER BY 1, 3, 2, 4"""
    return [
        f"household {household} {'uncategorised' if category_id is None else f'category {category_id}'} "
        f"{day} {currency}: entries sum to {total} ({inflow} in) in {count} but the category total says "
        f"{kept_total} ({kept_inflow} in) in {kept_count}"
        for household, category_id, day, currency, total, inflow, count, kept_total, kept_inflow, kept_count in _rows(
            sql, household_id
        )
    ]


def reconciled_rows_are_covered_by_a_reconciliation(household_id: int | None = None) -> list[str]:
    # A reconciliation marks rows dated up to its statement date, and a reconciled row's date cannot change.
    sql = f"""
        SELECT t.id, t.account_id, t.date, latest.statement_date
          FROM ledger_transaction t
          LEFT JOIN (SELECT account_id, max(statement_date) AS statement_date
                       FROM ledger_reconciliation GROUP BY account_id) latest ON latest.account_id = t.account_id
         WHERE t.status = 'reconciled' AND (latest.statement_date IS NULL OR t.date > latest.statement_date)
           AND {_IN_HOUSEHOLD.format(alias="t")}
         ORDER BY t.id"""
    return [
        f"transaction {tx_id} is reconciled on {date} but account {account_id} "
        + ("was never reconciled" if statement_date is None else f"was last reconciled to {statement_date}")
        for tx_id, account_id, date, statement_date in _rows(sql, household_id)
    ]


LEDGER_CHECKS = (
    ConsistencyCheck("splits sum to their transaction's amount", splits_sum_to_amounts),
    ConsistencyCheck("transfers are whole, balanced pairs", transfer_pairs_are_whole_and_balanced),
    ConsistencyCheck("rows share their parent rows' household", rows_share_their_parents_household),
    ConsistencyCheck("categories have two levels of one kind", categories_have_two_levels_of_one_kind),
    ConsistencyCheck("amounts fit their currency's decimal places", amounts_fit_their_currency),
    ConsistencyCheck("monthly account totals match the transactions", month_totals_match_transactions),
    ConsistencyCheck("category day totals match the split lines and transactions", category_day_totals_match_entries),
    ConsistencyCheck("reconciled rows lie within a reconciliation", reconciled_rows_are_covered_by_a_reconciliation),
)
