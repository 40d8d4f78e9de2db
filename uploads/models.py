"""Attachments, statement imports and their permanent de-duplication memory.

Every table carries household_id; unique constraints and hot indexes start with it, and composite foreign
keys (household_id, x_id) → x(household_id, id) (migration 0002) keep each row inside its household.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.utils import timezone

from financetracker.core.tenancy import HouseholdOwned
from ledger.models import Account, Transaction
from ledger.models.accounts_and_transactions import amount_field
from ledger.models.households import User
from uploads.importers import FORMATS

_M = TypeVar("_M", bound=models.Model)


class Attachment(HouseholdOwned):
    """A stored file (receipt, invoice, statement). The same bytes twice in one household are refused (409)."""

    transaction = models.ForeignKey(
        Transaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    # Stored under a generated name (attachments/<household>/<uuid>); never served from a public URL.
    file = models.FileField(max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # "The same file twice is detected": the API answers 409 naming the existing attachment.
            models.UniqueConstraint(fields=["household", "sha256"], name="attachment_household_sha256_unique"),
            models.UniqueConstraint(fields=["household", "id"], name="attachment_household_id_unique"),
        ]
        indexes = [
            # A transaction's attachments (inline in the admin, ?transaction= in the API).
            models.Index(fields=["household", "transaction"], name="attachment_household_tx_idx"),
        ]

    def __str__(self) -> str:
        return self.original_name


class CsvProfile(HouseholdOwned):
    """A CSV column mapping saved per account and reused on the next import of that bank's files."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    # The keys are the csv format's options (uploads.importers; the README lists them).
    mapping = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "account", "name"], name="csvprofile_household_account_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    """uploaded → previewing → previewed → committed; failed when the file cannot be read.

    Only `previewed` commits. `previewing` whose preview no longer runs (its process or the database died) is
    interrupted: retry re-runs the preview, discard deletes it. `committed` is final (a database trigger too).
    """

    UPLOADED = "uploaded", "Uploaded"
    PREVIEWING = "previewing", "Previewing"
    PREVIEWED = "previewed", "Previewed"
    COMMITTED = "committed", "Committed"
    FAILED = "failed", "Failed"


class StatementImport(HouseholdOwned):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    format = models.CharField(max_length=4, choices=FORMATS.choices())
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    file = models.FileField(max_length=255)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    mapping = models.JSONField(default=dict, blank=True, help_text="CSV mapping used for this file.")
    # {"rows": n, "new": n, "duplicate": n, "near_match": n, "error": n, "ignored": n, "imported": n, "merged": n}
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, help_text="Why the whole file was refused (status failed).")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "id"], name="statementimport_household_id_unique"),
            # A committed import says when; nothing else does (the trigger of migration 0006 keeps it final).
            models.CheckConstraint(
                condition=models.Q(status="committed", committed_at__isnull=False)
                | (~models.Q(status="committed") & models.Q(committed_at__isnull=True)),
                name="statementimport_committed_at_iff_committed",
            ),
        ]
        indexes = [
            models.Index(fields=["household", "account", "-created_at"], name="import_household_acct_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"


class RowStatus(models.TextChoices):
    NEW = "new", "New"
    DUPLICATE = "duplicate", "Duplicate"
    NEAR_MATCH = "near_match", "Near match"
    ERROR = "error", "Error"
    IGNORED = "ignored", "Ignored"
    IMPORTED = "imported", "Imported"
    MERGED = "merged", "Merged"


# What a row shows once its import is committed: the preview left it new (or a near match kept as new), and the
# commit imported it under the id the preview reserved. The commit writes no staged row to say so.
IMPORTED_ON_COMMIT = (RowStatus.NEW, RowStatus.NEAR_MATCH)


def row_shows(*statuses: str) -> models.Q:
    """Rows that show one of these statuses (the default manager's derived `status`): `rows.filter(row_shows(…))`."""
    return models.Q(status__in=statuses)


class StatementImportRowManager(models.Manager["StatementImportRow"]):
    """Rows with the status and transaction a person sees, derived from what the preview staged and whether the
    import is committed (migration 0010): `status` and `transaction_id` read and order like fields, and filter
    through `row_shows` (a Q, which the type checker's Django plugin does not resolve against the model's fields)."""

    def staged(self) -> models.QuerySet[StatementImportRow]:
        """The rows as written, without the derived fields (bulk deletes, reads of the staged columns only)."""
        return super().get_queryset()

    def get_queryset(self) -> models.QuerySet[StatementImportRow]:
        imported = models.Q(staged_status__in=IMPORTED_ON_COMMIT, statement_import__status=ImportStatus.COMMITTED)
        status = models.Case(
            models.When(imported, then=models.Value(RowStatus.IMPORTED.value)),
            default=models.F("staged_status"),
            output_field=models.CharField(max_length=10, choices=RowStatus.choices),
        )
        created = models.Q(imported) | models.Q(staged_status__in=[RowStatus.IMPORTED, RowStatus.MERGED])
        return (
            super()
            .get_queryset()
            .annotate(
                status=status,
                transaction_id=models.Case(
                    models.When(created, then=models.F("staged_transaction_id")),
                    default=None,
                    output_field=models.BigIntegerField(null=True),
                ),
            )
        )


class StatementImportRow(models.Model):
    """A staged row of an import, written in bulk (COPY) and de-duplicated in SQL.

    Its single database foreign key is the composite (household_id, statement_import_id) one (migration 0002):
    it proves both columns, and each foreign key costs a check per row on a 100k-row statement.

    The preview writes each row once and the commit never rewrites the rows it imports: a row staged new keeps
    `staged_status` new and the transaction id the preview reserved for it (`staged_transaction_id`); read
    through the default manager it shows `status` imported and that `transaction_id` once its import is
    committed. Only the rows a commit merges, ignores or finds imported meanwhile are updated.
    """

    # Indexed only through (household_id, statement_import_id, line_number): every index costs per staged row.
    household = models.ForeignKey(
        "ledger.Household", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    statement_import = models.ForeignKey(
        StatementImport, on_delete=models.CASCADE, related_name="rows", db_constraint=False, db_index=False
    )
    line_number = models.PositiveIntegerField()
    date = models.DateField(null=True, blank=True)
    amount = amount_field(null=True, blank=True)
    payee = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)
    bank_id = models.CharField(max_length=255, blank=True, help_text="OFX FITID, CAMT AcctSvcrRef, a CSV id column.")
    fingerprint = models.CharField(max_length=64, blank=True)
    occurrence = models.PositiveIntegerField(default=1)
    key = models.CharField(max_length=300, blank=True)
    # Read `status` (the manager's): this is what the preview (or a commit's merge, ignore, recheck) wrote.
    staged_status = models.CharField(
        max_length=10, choices=RowStatus.choices, default=RowStatus.NEW, db_column="status"
    )
    error = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    # No database FK: staging rows are history, and a plain id keeps COPY and deletes cheap.
    matched_transaction_id = models.BigIntegerField(null=True, blank=True)
    # Read `transaction_id` (the manager's): set for imported and merged rows only.
    staged_transaction_id = models.BigIntegerField(
        null=True,
        blank=True,
        db_column="transaction_id",
        help_text="Reserved by the preview for a new row (nextval of the transactions' sequence), the transaction "
        "a commit created under it; for a merged row the transaction it was merged into.",
    )
    # Learned from the household's books (uploads.suggestions) for rows no rule categorises; a plain id like
    # the ones above, checked against the household's categories when the suggestion is accepted.
    suggested_category_id = models.BigIntegerField(null=True, blank=True)
    suggestion_confidence = models.FloatField(null=True, blank=True)
    suggested_payee = models.CharField(max_length=200, blank=True, db_default="")

    objects = StatementImportRowManager()

    class Meta:
        ordering = ["line_number", "id"]
        indexes = [
            # Preview pages and every set-based step of preview/commit read one import's rows.
            # No index on status: filtering one import's rows by status reads this one, and leaving status out of
            # every index lets the commit's status update be a HOT update (see the fillfactor in migration 0002).
            models.Index(fields=["household", "statement_import", "line_number"], name="importrow_import_line_idx"),
        ]

    def __str__(self) -> str:
        return f"line {self.line_number}: {getattr(self, 'status', self.staged_status)}"


def _nulled_link(to: type[_M]) -> models.ForeignKey[_M | None, _M | None]:
    """An ImportedKey's link the ORM nulls when the row it names goes: no database constraint, no index of its own."""
    return models.ForeignKey(
        to, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False, db_index=False
    )


class ImportedKey(HouseholdOwned):
    """The permanent de-duplication memory: a bank id or fingerprint#occurrence seen for an account.

    Kept when its transaction is deleted (transaction → NULL) so a deleted or ignored row is not imported again.
    Database foreign keys: only the composite (household_id, account_id) and (household_id, transaction_id) ones
    (migration 0002), which also prove the household; every extra key is one more check per imported row.
    `statement_import` is provenance only (no database constraint; the ORM nulls it when an import is deleted).
    """

    # Indexed only through the unique (household_id, account_id, key) and (household_id, transaction_id):
    # single-column indexes would cost per imported row and serve no query.
    household = models.ForeignKey(
        "ledger.Household", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    key = models.CharField(max_length=300)
    transaction = _nulled_link(Transaction)
    ignored = models.BooleanField(default=False)
    statement_import = _nulled_link(StatementImport)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Also the index of the preview's anti-join (staged key → known key).
            models.UniqueConstraint(
                fields=["household", "account", "key"], name="importedkey_household_account_key_unique"
            ),
        ]
        indexes = [
            # Near-match search excludes transactions that already carry a key.
            models.Index(fields=["household", "transaction"], name="importedkey_household_tx_idx"),
        ]

    def __str__(self) -> str:
        return self.key


class ImportTaskKind(models.TextChoices):
    PREVIEW = "preview", "Preview"
    COMMIT = "commit", "Commit"


class ImportTaskState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class StatementImportTask(models.Model):
    """The import's latest background preview or commit (uploads/tasks.py): its state, progress and heartbeat.

    One row per import, overwritten by each new request; reached only through its (household-restricted) import.
    A separate table because a running preview or commit holds its import's row lock for its whole transaction:
    progress and heartbeats are written here from a connection of their own, visible while the work runs.
    """

    statement_import = models.OneToOneField(
        StatementImport, on_delete=models.CASCADE, primary_key=True, related_name="task"
    )
    kind = models.CharField(max_length=7, choices=ImportTaskKind.choices)
    state = models.CharField(max_length=9, choices=ImportTaskState.choices, default=ImportTaskState.QUEUED)
    # The commit's decisions (merge, keep, ignore, accept, near_matches, accept_suggestions) and who asked.
    options = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    task_id = models.CharField(max_length=64, blank=True, help_text="The django-tasks result id.")
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True, help_text="Unknown while a file is read.")
    fraction = models.FloatField(default=0.0, help_text="Share of the file read (preview) or of the work done.")
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fraction__gte=0, fraction__lte=1), name="importtask_fraction_0_1"
            ),
        ]
        indexes = [
            # The recovery's scan: running tasks by heartbeat (few rows are ever running).
            models.Index(fields=["heartbeat_at"], condition=models.Q(state="running"), name="importtask_running_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of import {self.statement_import_id} ({self.state})"
