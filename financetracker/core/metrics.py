"""Business metrics exported at /metrics next to django-prometheus's request, database and cache metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

transactions_created = Counter(
    "financetracker_transactions_created_total", "Transactions created, by how they arrived.", ["source"]
)
imports = Counter("financetracker_imports_total", "Statement imports, by format and outcome.", ["format", "outcome"])
import_rows = Counter(
    "financetracker_import_rows_total", "Statement rows, by outcome (imported, duplicate, error, ignored).", ["outcome"]
)
import_duration = Histogram(
    "financetracker_import_duration_seconds",
    "Time to parse, de-duplicate and commit one statement import.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
scheduled_postings = Counter(
    "financetracker_scheduled_postings_total", "Scheduled transactions posted, by outcome.", ["outcome"]
)
login_failures = Counter("financetracker_login_failures_total", "Failed logins, by channel.", ["channel"])
