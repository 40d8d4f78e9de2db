"""Budgets, scheduled transactions, exchange rates (see issue: budgets and reports)."""
