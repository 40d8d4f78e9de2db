"""Writes of the uploads app, a module per concern: `attachments` (receipts and invoices: store, re-link,
delete) and `statement_imports` (a statement's import: upload, preview, retry, discard, commit, delete, and the
CSV profiles its mapping comes from; the staging SQL is in `uploads.staging`). Import from the module itself."""
