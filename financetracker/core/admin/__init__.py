"""What every app's admin builds on (the scoped admin bases are ledger's: they know its models)."""
