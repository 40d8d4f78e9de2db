"""Attachments, statement imports and exports (see issue: uploads)."""
