"""Invariants that span rows live in PostgreSQL, so no code path (ORM, raw SQL, a future service) can break them.

- Composite foreign keys (household_id, x_id) → x(household_id, id): a row can never point at another
  household's account, category, tag, transaction or transfer.
- Two-level categories whose kind matches their parent's.
- Splits sum exactly to their transaction's amount (deferred: checked at commit).
- Transfer pairs: exactly two sides, in two accounts, one out and one in, summing to zero when both
  accounts share a currency; deleting one side alone is refused (services delete the pair).
- The reconciliation lock: a reconciled transaction's money facts and splits cannot change or be deleted.
- Monthly account totals kept by statement-level triggers, so bulk imports pay one upsert per
  (account, month) per statement rather than one per row.
"""

from django.db import migrations

COMPOSITE_FOREIGN_KEYS = [
    # (table, constraint, local columns, referenced table)
    ("ledger_transaction", "transaction_account_same_household", "account_id", "ledger_account"),
    ("ledger_transaction", "transaction_category_same_household", "category_id", "ledger_category"),
    ("ledger_transaction", "transaction_transfer_same_household", "transfer_id", "ledger_transfer"),
    ("ledger_category", "category_parent_same_household", "parent_id", "ledger_category"),
    ("ledger_split", "split_transaction_same_household", "transaction_id", "ledger_transaction"),
    ("ledger_split", "split_category_same_household", "category_id", "ledger_category"),
    ("ledger_transactiontag", "transactiontag_transaction_same_household", "transaction_id", "ledger_transaction"),
    ("ledger_transactiontag", "transactiontag_tag_same_household", "tag_id", "ledger_tag"),
    ("ledger_accountmonthtotal", "accountmonthtotal_account_same_household", "account_id", "ledger_account"),
    ("ledger_reconciliation", "reconciliation_account_same_household", "account_id", "ledger_account"),
    ("ledger_rule", "rule_category_same_household", "set_category_id", "ledger_category"),
    ("ledger_ruletag", "ruletag_rule_same_household", "rule_id", "ledger_rule"),
    ("ledger_ruletag", "ruletag_tag_same_household", "tag_id", "ledger_tag"),
]

FOREIGN_KEYS_SQL = "\n".join(
    f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (household_id, {column}) "
    f"REFERENCES {target} (household_id, id) DEFERRABLE INITIALLY DEFERRED;"
    for table, name, column, target in COMPOSITE_FOREIGN_KEYS
)
FOREIGN_KEYS_REVERSE_SQL = "\n".join(
    f"ALTER TABLE {table} DROP CONSTRAINT {name};" for table, name, _column, _target in COMPOSITE_FOREIGN_KEYS
)

CATEGORY_SQL = r"""
CREATE FUNCTION ledger_category_two_levels() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent_row ledger_category%ROWTYPE;
BEGIN
    IF NEW.parent_id IS NOT NULL THEN
        SELECT * INTO parent_row FROM ledger_category WHERE id = NEW.parent_id;
        IF parent_row.parent_id IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'category_two_levels',
                MESSAGE = format('category %s: parent %s is itself a subcategory; categories have two levels',
                                 NEW.id, NEW.parent_id);
        END IF;
        IF parent_row.kind <> NEW.kind THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'category_kind_matches_parent',
                MESSAGE = format('category %s is %s but its parent %s is %s', NEW.id, NEW.kind, NEW.parent_id,
                                 parent_row.kind);
        END IF;
        IF EXISTS (SELECT 1 FROM ledger_category WHERE parent_id = NEW.id) THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'category_two_levels',
                MESSAGE = format('category %s has subcategories, so it cannot become one', NEW.id);
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.kind <> OLD.kind
       AND EXISTS (SELECT 1 FROM ledger_category WHERE parent_id = NEW.id AND kind <> NEW.kind) THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'category_kind_matches_parent',
            MESSAGE = format('category %s has subcategories of kind %s', NEW.id, OLD.kind);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER category_two_levels BEFORE INSERT OR UPDATE OF parent_id, kind ON ledger_category
    FOR EACH ROW EXECUTE FUNCTION ledger_category_two_levels();
"""
CATEGORY_REVERSE_SQL = """
DROP TRIGGER category_two_levels ON ledger_category;
DROP FUNCTION ledger_category_two_levels();
"""

SPLIT_SUM_SQL = r"""
CREATE FUNCTION ledger_check_split_sum() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked_id bigint;
    transaction_amount numeric;
    split_count bigint;
    split_total numeric;
BEGIN
    IF TG_TABLE_NAME = 'ledger_split' THEN
        checked_id := CASE WHEN TG_OP = 'DELETE' THEN OLD.transaction_id ELSE NEW.transaction_id END;
    ELSE
        checked_id := NEW.id;
    END IF;
    SELECT amount INTO transaction_amount FROM ledger_transaction WHERE id = checked_id;
    IF NOT FOUND THEN
        RETURN NULL;  -- the transaction went with its splits
    END IF;
    SELECT count(*), coalesce(sum(amount), 0) INTO split_count, split_total
        FROM ledger_split WHERE transaction_id = checked_id;
    IF split_count > 0 AND split_total <> transaction_amount THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'split_sum_equals_amount',
            MESSAGE = format('transaction %s: splits sum to %s but the amount is %s',
                             checked_id, split_total, transaction_amount);
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER split_sum_on_split AFTER INSERT OR UPDATE OR DELETE ON ledger_split
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_split_sum();
CREATE CONSTRAINT TRIGGER split_sum_on_transaction AFTER UPDATE OF amount ON ledger_transaction
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.amount IS DISTINCT FROM NEW.amount)
    EXECUTE FUNCTION ledger_check_split_sum();
"""
SPLIT_SUM_REVERSE_SQL = """
DROP TRIGGER split_sum_on_transaction ON ledger_transaction;
DROP TRIGGER split_sum_on_split ON ledger_split;
DROP FUNCTION ledger_check_split_sum();
"""

TRANSFER_SQL = r"""
CREATE FUNCTION ledger_check_transfer_pair() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked_id bigint;
    side_count bigint;
    account_count bigint;
    outgoing bigint;
    incoming bigint;
    currency_count bigint;
    total numeric;
BEGIN
    FOR checked_id IN
        SELECT DISTINCT candidate FROM unnest(ARRAY[
            CASE WHEN TG_OP <> 'INSERT' THEN OLD.transfer_id END,
            CASE WHEN TG_OP <> 'DELETE' THEN NEW.transfer_id END
        ]) AS candidate WHERE candidate IS NOT NULL
    LOOP
        SELECT count(*), count(DISTINCT t.account_id), count(*) FILTER (WHERE t.amount < 0),
               count(*) FILTER (WHERE t.amount > 0), count(DISTINCT a.currency), coalesce(sum(t.amount), 0)
          INTO side_count, account_count, outgoing, incoming, currency_count, total
          FROM ledger_transaction t JOIN ledger_account a ON a.id = t.account_id
         WHERE t.transfer_id = checked_id;
        CONTINUE WHEN side_count = 0;  -- the whole transfer was deleted
        IF side_count <> 2 OR account_count <> 2 OR outgoing <> 1 OR incoming <> 1
           OR (currency_count = 1 AND total <> 0) THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'transfer_pair_balanced',
                MESSAGE = format('transfer %s must be two transactions in two accounts, one out and one in, '
                                 'summing to zero in one currency (found %s sides, total %s)',
                                 checked_id, side_count, total);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER transfer_pair_on_insert AFTER INSERT ON ledger_transaction
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.transfer_id IS NOT NULL)
    EXECUTE FUNCTION ledger_check_transfer_pair();
CREATE CONSTRAINT TRIGGER transfer_pair_on_update AFTER UPDATE OF transfer_id, account_id, amount
    ON ledger_transaction DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.transfer_id IS NOT NULL OR NEW.transfer_id IS NOT NULL)
    EXECUTE FUNCTION ledger_check_transfer_pair();
CREATE CONSTRAINT TRIGGER transfer_pair_on_delete AFTER DELETE ON ledger_transaction
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.transfer_id IS NOT NULL)
    EXECUTE FUNCTION ledger_check_transfer_pair();
"""
TRANSFER_REVERSE_SQL = """
DROP TRIGGER transfer_pair_on_delete ON ledger_transaction;
DROP TRIGGER transfer_pair_on_update ON ledger_transaction;
DROP TRIGGER transfer_pair_on_insert ON ledger_transaction;
DROP FUNCTION ledger_check_transfer_pair();
"""

RECONCILED_LOCK_SQL = r"""
CREATE FUNCTION ledger_reconciled_lock_allowed() RETURNS boolean LANGUAGE sql STABLE AS $$
    -- Set with SET LOCAL only by the service that purges a whole household.
    SELECT coalesce(current_setting('ledger.allow_reconciled_changes', true), '') = 'on'
$$;
CREATE FUNCTION ledger_transaction_reconciled_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ledger_reconciled_lock_allowed() THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'transaction_reconciled_lock',
            MESSAGE = format('transaction %s is reconciled: un-reconcile it before deleting it', OLD.id);
    END IF;
    IF NEW.status = 'reconciled' AND
       (NEW.amount, NEW.date, NEW.account_id, NEW.transfer_id, NEW.household_id)
       IS DISTINCT FROM (OLD.amount, OLD.date, OLD.account_id, OLD.transfer_id, OLD.household_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'transaction_reconciled_lock',
            MESSAGE = format('transaction %s is reconciled: un-reconcile it before changing it', OLD.id);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER transaction_reconciled_lock BEFORE UPDATE OR DELETE ON ledger_transaction
    FOR EACH ROW WHEN (OLD.status = 'reconciled') EXECUTE FUNCTION ledger_transaction_reconciled_lock();

CREATE FUNCTION ledger_split_reconciled_lock() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent_id bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.transaction_id ELSE NEW.transaction_id END;
BEGIN
    IF NOT ledger_reconciled_lock_allowed()
       AND EXISTS (SELECT 1 FROM ledger_transaction WHERE id = parent_id AND status = 'reconciled') THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'transaction_reconciled_lock',
            MESSAGE = format('transaction %s is reconciled: its splits cannot change', parent_id);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER split_reconciled_lock BEFORE INSERT OR UPDATE OR DELETE ON ledger_split
    FOR EACH ROW EXECUTE FUNCTION ledger_split_reconciled_lock();
"""
RECONCILED_LOCK_REVERSE_SQL = """
DROP TRIGGER split_reconciled_lock ON ledger_split;
DROP FUNCTION ledger_split_reconciled_lock();
DROP TRIGGER transaction_reconciled_lock ON ledger_transaction;
DROP FUNCTION ledger_transaction_reconciled_lock();
DROP FUNCTION ledger_reconciled_lock_allowed();
"""

MONTH_TOTALS_SQL = r"""
CREATE FUNCTION ledger_month_totals_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_accountmonthtotal (household_id, account_id, month, total, row_count)
    SELECT household_id, account_id, date_trunc('month', date)::date, sum(amount), count(*)
      FROM inserted_rows GROUP BY 1, 2, 3 ORDER BY 2, 3
    ON CONFLICT (household_id, account_id, month) DO UPDATE
       SET total = ledger_accountmonthtotal.total + EXCLUDED.total,
           row_count = ledger_accountmonthtotal.row_count + EXCLUDED.row_count;
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_month_totals_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Only rows whose money facts changed move totals; a bulk "mark cleared" writes nothing here.
    INSERT INTO ledger_accountmonthtotal (household_id, account_id, month, total, row_count)
    SELECT household_id, account_id, month, sum(delta), sum(count_delta)
      FROM (
        SELECT o.household_id, o.account_id, date_trunc('month', o.date)::date AS month,
               -o.amount AS delta, -1 AS count_delta
          FROM old_rows o JOIN new_rows n ON n.id = o.id
         WHERE (o.amount, o.date, o.account_id) IS DISTINCT FROM (n.amount, n.date, n.account_id)
        UNION ALL
        SELECT n.household_id, n.account_id, date_trunc('month', n.date)::date, n.amount, 1
          FROM old_rows o JOIN new_rows n ON n.id = o.id
         WHERE (o.amount, o.date, o.account_id) IS DISTINCT FROM (n.amount, n.date, n.account_id)
      ) AS changes
     GROUP BY 1, 2, 3 ORDER BY 2, 3
    ON CONFLICT (household_id, account_id, month) DO UPDATE
       SET total = ledger_accountmonthtotal.total + EXCLUDED.total,
           row_count = ledger_accountmonthtotal.row_count + EXCLUDED.row_count;
    RETURN NULL;
END $$;

CREATE FUNCTION ledger_month_totals_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- UPDATE, not upsert: when a whole household is purged its totals may already be gone.
    UPDATE ledger_accountmonthtotal AS totals
       SET total = totals.total - removed.amount, row_count = totals.row_count - removed.rows
      FROM (SELECT household_id, account_id, date_trunc('month', date)::date AS month,
                   sum(amount) AS amount, count(*) AS rows
              FROM deleted_rows GROUP BY 1, 2, 3 ORDER BY 2, 3) AS removed
     WHERE totals.household_id = removed.household_id AND totals.account_id = removed.account_id
       AND totals.month = removed.month;
    RETURN NULL;
END $$;

CREATE TRIGGER month_totals_after_insert AFTER INSERT ON ledger_transaction
    REFERENCING NEW TABLE AS inserted_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_month_totals_after_insert();
CREATE TRIGGER month_totals_after_update AFTER UPDATE ON ledger_transaction
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_month_totals_after_update();
CREATE TRIGGER month_totals_after_delete AFTER DELETE ON ledger_transaction
    REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT
    EXECUTE FUNCTION ledger_month_totals_after_delete();
"""
MONTH_TOTALS_REVERSE_SQL = """
DROP TRIGGER month_totals_after_delete ON ledger_transaction;
DROP TRIGGER month_totals_after_update ON ledger_transaction;
DROP TRIGGER month_totals_after_insert ON ledger_transaction;
DROP FUNCTION ledger_month_totals_after_delete();
DROP FUNCTION ledger_month_totals_after_update();
DROP FUNCTION ledger_month_totals_after_insert();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunSQL(FOREIGN_KEYS_SQL, FOREIGN_KEYS_REVERSE_SQL),
        migrations.RunSQL(CATEGORY_SQL, CATEGORY_REVERSE_SQL),
        migrations.RunSQL(SPLIT_SUM_SQL, SPLIT_SUM_REVERSE_SQL),
        migrations.RunSQL(TRANSFER_SQL, TRANSFER_REVERSE_SQL),
        migrations.RunSQL(RECONCILED_LOCK_SQL, RECONCILED_LOCK_REVERSE_SQL),
        migrations.RunSQL(MONTH_TOTALS_SQL, MONTH_TOTALS_REVERSE_SQL),
    ]
