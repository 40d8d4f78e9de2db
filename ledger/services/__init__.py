"""Writes. Services are the only code that changes ledger rows; views, admin and commands call them."""
