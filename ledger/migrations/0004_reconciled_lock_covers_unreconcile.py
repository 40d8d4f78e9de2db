"""A reconciled row's money facts may not change in the same statement that un-reconciles it.

0002 only refused changes while the row stayed reconciled, so one UPDATE setting status = 'cleared'
and a new amount slipped through. Un-reconciling must now change the status alone.
"""

from django.db import migrations

LOCK_SQL = r"""
CREATE OR REPLACE FUNCTION ledger_transaction_reconciled_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ledger_reconciled_lock_allowed() THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'transaction_reconciled_lock',
            MESSAGE = format('transaction %s is reconciled: un-reconcile it before deleting it', OLD.id);
    END IF;
    IF (NEW.amount, NEW.date, NEW.account_id, NEW.transfer_id, NEW.household_id)
       IS DISTINCT FROM (OLD.amount, OLD.date, OLD.account_id, OLD.transfer_id, OLD.household_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation', CONSTRAINT = 'transaction_reconciled_lock',
            MESSAGE = format('transaction %s is reconciled: un-reconcile it (status alone) before changing it',
                             OLD.id);
    END IF;
    RETURN NEW;
END $$;
"""

PREVIOUS_SQL = r"""
CREATE OR REPLACE FUNCTION ledger_transaction_reconciled_lock() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_search_trigram_on_upper")]

    operations = [migrations.RunSQL(LOCK_SQL, PREVIOUS_SQL)]
