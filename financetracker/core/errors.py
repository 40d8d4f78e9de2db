"""Domain errors that callers map to their own idiom (409 in the API, a message in the admin)."""

from __future__ import annotations


class ConflictError(Exception):
    """The request is valid but conflicts with the current state of the books."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReconciledTransactionError(ConflictError):
    """A reconciled transaction cannot change until it is un-reconciled."""
