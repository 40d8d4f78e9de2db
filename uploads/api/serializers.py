"""Thin serializers for attachments and imports: shape here, rules in uploads.services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from financetracker.core.api.fields import BoundedJSONField, HouseholdScopedRelatedField
from financetracker.core.api.strict import StrictModelSerializer, StrictSerializer
from financetracker.core.money import format_amount
from ledger.api.serializers import HouseholdOwnedSerializer
from ledger.models import Account, Transaction
from uploads import tasks
from uploads.importers import FORMATS
from uploads.models import Attachment, RowStatus, StatementImport, StatementImportRow, StatementImportTask


class AttachmentSerializer(HouseholdOwnedSerializer):
    transaction = HouseholdScopedRelatedField(queryset=Transaction.objects.all(), required=False, allow_null=True)
    file = serializers.FileField(write_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "household",
            "transaction",
            "file",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = ["id", "original_name", "content_type", "size", "sha256", "uploaded_by", "created_at"]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.instance is not None:
            fields["file"].required = False
            fields["file"].read_only = True
        return fields

    def get_download_url(self, attachment: Attachment) -> str:
        return f"/api/v1/attachments/{attachment.pk}/download/"


class JSONStringField(BoundedJSONField):
    """A JSON object that may arrive as a string (multipart forms can only send strings)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            data = self.decode(data)
        if not isinstance(data, dict):
            raise serializers.ValidationError("Send a JSON object.")
        return super().to_internal_value(data)


class ImportUploadSerializer(StrictSerializer):
    file = serializers.FileField()
    account = HouseholdScopedRelatedField(queryset=Account.objects.all())
    format = serializers.ChoiceField(choices=FORMATS.choices(), required=False)
    profile = serializers.CharField(required=False, max_length=120)
    save_profile = serializers.CharField(required=False, max_length=120)
    mapping = JSONStringField(required=False)


class ImportCommitSerializer(StrictSerializer):
    merge = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=100000)
    ignore = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=100000)
    keep = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=100000)
    accept = serializers.ListField(child=serializers.IntegerField(), required=False, default=list, max_length=100000)
    accept_suggestions = serializers.BooleanField(
        required=False, default=False, help_text="Accept every suggested category (rules still win)."
    )
    near_matches = serializers.ChoiceField(
        choices=["merge", "keep"],
        required=False,
        allow_blank=True,
        help_text="Decide every near match not listed in merge, keep or ignore at once.",
    )


class ImportRowSerializer(StrictModelSerializer):
    """Amounts shown with the account's decimal places; pass `currency` in the context."""

    amount = serializers.SerializerMethodField()
    # What the row shows (StatementImportRow.objects derives both from the staged row and its import's status).
    status = serializers.ChoiceField(choices=RowStatus.choices, read_only=True)
    transaction_id = serializers.IntegerField(read_only=True, allow_null=True)

    def get_amount(self, row: StatementImportRow) -> str | None:
        if row.amount is None:
            return None
        return format_amount(row.amount, self.context["currency"])

    class Meta:
        model = StatementImportRow
        fields = [
            "id",
            "line_number",
            "date",
            "amount",
            "payee",
            "description",
            "bank_id",
            "occurrence",
            "status",
            "error",
            "reason",
            "matched_transaction_id",
            "transaction_id",
            "suggested_category_id",
            "suggestion_confidence",
            "suggested_payee",
        ]


class ImportProgressSerializer(StrictModelSerializer):
    """The import's latest background preview or commit (uploads/tasks.py)."""

    class Meta:
        model = StatementImportTask
        fields = [
            "kind",
            "state",
            "rows_done",
            "rows_total",
            "fraction",
            "error",
            "queued_at",
            "started_at",
            "heartbeat_at",
            "finished_at",
        ]
        read_only_fields = fields


class StatementImportSerializer(StrictModelSerializer):
    interrupted = serializers.SerializerMethodField(
        help_text="Its preview stopped with its process or the database: retry or discard it (never committable)."
    )
    state = serializers.SerializerMethodField(
        help_text="What the import is doing: its status, or queued / previewing / committing while its "
        "background task waits or runs (poll this resource; `progress` says how far)."
    )
    progress = serializers.SerializerMethodField(
        help_text="Its latest background preview or commit; null when it never had one (a small file runs inline)."
    )

    def get_interrupted(self, statement: StatementImport) -> bool:
        from uploads.services.statement_imports import statement_import_is_interrupted

        return statement_import_is_interrupted(statement)

    @extend_schema_field(serializers.ChoiceField(choices=tasks.STATES))
    def get_state(self, statement: StatementImport) -> str:
        return tasks.import_state(statement)

    @extend_schema_field(ImportProgressSerializer(allow_null=True))
    def get_progress(self, statement: StatementImport) -> dict[str, Any] | None:
        current = tasks.task_of(statement)
        return None if current is None else dict(ImportProgressSerializer(current).data)

    class Meta:
        model = StatementImport
        fields = [
            "id",
            "household",
            "account",
            "format",
            "status",
            "state",
            "progress",
            "interrupted",
            "original_name",
            "sha256",
            "size",
            "mapping",
            "counts",
            "error",
            "created_by",
            "created_at",
            "committed_at",
        ]
        read_only_fields = fields
