"""Uploads API: attachments (upload, metadata, authenticated download), imports (upload → preview → commit),
and exports. Every view starts from a household-restricting queryset; another household's file is a 404."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase, HttpResponseRedirect, StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from financetracker.authenticated import AuthenticatedRequest
from financetracker.core.api.parsers import BoundedJSONParser, StrictFormParser
from financetracker.core.api.permissions import ensure_can_write
from financetracker.core.api.viewsets import HouseholdScopedViewSet, bound_instance
from ledger.api.filters import TransactionFilter
from ledger.models import Transaction
from uploads import tasks
from uploads.api import serializers as s
from uploads.exports import transactions_csv_response
from uploads.models import Attachment, ImportStatus, RowStatus, StatementImport, StatementImportRow, row_shows
from uploads.selectors import export_queryset
from uploads.services import attachments, statement_imports

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage

ROW_PAGE_SIZE = 100
MAX_ROW_PAGE_SIZE = 1000


class UploadedFile(TypedDict):
    upload: Any
    original_name: str
    declared_size: int | None


def _uploaded(upload: Any) -> UploadedFile:
    """What both upload services take of a multipart file: the file, its name and its declared size."""
    # The multipart part's size; a body Content-Length larger than the limit is refused the same way.
    size = getattr(upload, "size", None)
    return {"upload": upload, "original_name": upload.name or "", "declared_size": None if size is None else int(size)}


# Room for the multipart envelope and the other form fields around the file.
_MULTIPART_SLACK = 64 * 1024


def refuse_oversized_body(request: Request, limit: int) -> None:
    """Refuse on the declared Content-Length before a byte of the body is read."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + _MULTIPART_SLACK:
        raise serializers.ValidationError(
            {"file": [f"The file may be at most {limit} bytes; the request declares {declared}."]}
        )


def content_disposition(filename: str) -> str:
    fallback = filename.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "") or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _object_storage() -> S3Storage | None:
    """The bucket the files are in, when they are in one (it signs download URLs); None on a disk."""
    from storages.backends.s3 import S3Storage  # boto3 loads only when a download asks

    return default_storage if isinstance(default_storage, S3Storage) else None


class AttachmentViewSet(HouseholdScopedViewSet):
    model = Attachment
    serializer_class = s.AttachmentSerializer
    parser_classes = [MultiPartParser, StrictFormParser, BoundedJSONParser]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_fields = ["household", "transaction", "content_type"]
    ordering = ["-id"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        refuse_oversized_body(request, settings.ATTACHMENT_MAX_BYTES)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        household = self.household_for_create(request, data.get("household"))
        upload = data["file"]
        try:
            attachment = attachments.attachment_create(
                household=household,
                **_uploaded(upload),
                transaction_obj=data.get("transaction"),
                user=self.request.user,
            )
        except attachments.DuplicateAttachmentError as error:
            return Response({"detail": error.message, "existing": error.existing.pk}, status=status.HTTP_409_CONFLICT)
        return Response(self.get_serializer(attachment).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: serializers.BaseSerializer[Attachment]) -> None:
        transaction_obj = serializer.validated_data.get("transaction", bound_instance(serializer).transaction)
        serializer.instance = attachments.attachment_update(
            attachment=bound_instance(serializer),
            transaction_obj=transaction_obj,
        )

    def perform_destroy(self, instance: Attachment) -> None:
        attachments.attachment_delete(attachment=instance)

    @extend_schema(responses={(200, "application/octet-stream"): bytes, 302: None})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        """The file itself, for members of its household: streamed, or a short-lived signed URL on S3."""
        attachment = self.get_object()
        disposition = content_disposition(attachment.original_name)
        bucket = _object_storage()
        if bucket is not None:
            url = bucket.url(
                attachment.file.name,
                parameters={"ResponseContentDisposition": disposition, "ResponseContentType": attachment.content_type},
            )
            return HttpResponseRedirect(url)
        response = FileResponse(default_storage.open(attachment.file.name, "rb"), content_type=attachment.content_type)
        response["Content-Disposition"] = disposition
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


class StatementImportViewSet(HouseholdScopedViewSet):
    model = StatementImport
    serializer_class = s.StatementImportSerializer
    parser_classes = [MultiPartParser, StrictFormParser, BoundedJSONParser]
    http_method_names = ["get", "post", "delete", "head", "options"]
    filterset_fields = ["household", "account", "status", "format"]
    ordering = ["-id"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("account", "task")

    def _started(self, request: Request, statement: StatementImport, done: int) -> Response:
        """`done` when the work finished inline; 202 with the import (state queued) when the worker has it."""
        body = self._detail(request, statement)
        if tasks.import_state(statement) == "queued":
            location = reverse("statementimport-detail", args=[statement.pk], request=request)
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})
        return Response(body, status=done)

    @extend_schema(
        request=s.ImportUploadSerializer,
        responses={201: s.StatementImportSerializer, 202: s.StatementImportSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Upload a statement. A small one is parsed and de-duplicated at once and the preview comes back (201);
        a larger one is queued for the worker (202, `Location` the import: poll its `state` and `progress`)."""
        refuse_oversized_body(request, settings.IMPORT_MAX_BYTES)
        payload = s.ImportUploadSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        account = data["account"]
        ensure_can_write(request.user, account.household_id)
        upload = data["file"]
        statement = statement_imports.statement_import_upload(
            account=account,
            **_uploaded(upload),
            format=data.get("format"),
            mapping=data.get("mapping"),
            profile=data.get("profile"),
            save_profile=data.get("save_profile"),
            user=self.request.user,
        )
        statement = tasks.statement_import_preview_start(statement_import=statement, user=self.request.user)
        if statement.status == ImportStatus.FAILED:
            body = self._detail(request, statement)
            return Response({**body, "file": [statement.error]}, status=status.HTTP_400_BAD_REQUEST)
        return self._started(request, statement, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
            OpenApiParameter("row_status", str, enum=RowStatus.values),
        ]
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The import with its counts and one page of its rows (errors by line number, duplicates, near matches)."""
        return Response(self._detail(request, self.get_object()))

    def _detail(self, request: Request, statement: StatementImport) -> dict[str, Any]:
        try:
            page = max(1, int(request.query_params.get("page", 1)))
            size = min(MAX_ROW_PAGE_SIZE, max(1, int(request.query_params.get("page_size", ROW_PAGE_SIZE))))
        except ValueError:
            page, size = 1, ROW_PAGE_SIZE
        rows: QuerySet[StatementImportRow] = StatementImportRow.objects.filter(
            household_id=statement.household_id, statement_import=statement
        ).order_by("line_number", "id")
        row_status = request.query_params.get("row_status")
        if row_status in RowStatus.values:
            rows = rows.filter(row_shows(row_status))
        window = list(rows[(page - 1) * size : page * size + 1])
        context = {"currency": statement.account.currency}
        # Listed first: each needs a decision (merge, keep or ignore) before the import can be committed.
        near = StatementImportRow.objects.filter(
            row_shows(RowStatus.NEAR_MATCH), household_id=statement.household_id, statement_import=statement
        ).order_by("line_number", "id")[:MAX_ROW_PAGE_SIZE]
        return {
            **s.StatementImportSerializer(statement).data,
            "near_matches": s.ImportRowSerializer(near, many=True, context=context).data,
            "rows": {
                "page": page,
                "page_size": size,
                "has_next": len(window) > size,
                "results": s.ImportRowSerializer(
                    window[:size], many=True, context={"currency": statement.account.currency}
                ).data,
            },
        }

    @extend_schema(
        request=s.ImportCommitSerializer, responses={200: s.StatementImportSerializer, 202: s.StatementImportSerializer}
    )
    @action(detail=True, methods=["post"])
    def commit(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Commit all or nothing. Each near match is listed in `merge`, `keep` or `ignore` (or `near_matches`
        decides them all); otherwise 409 naming them. Rows in `ignore` stay out. A large import's commit is
        queued for the worker (202): a refusal then shows as `progress.error`, the import still previewed."""
        statement = self.get_object()
        ensure_can_write(request.user, statement.household_id)
        payload = s.ImportCommitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            statement = tasks.statement_import_commit_start(
                statement_import=statement,
                user=request.user,
                merge=payload.validated_data["merge"],
                ignore=payload.validated_data["ignore"],
                keep=payload.validated_data["keep"],
                near_matches=payload.validated_data.get("near_matches") or None,
                accept=payload.validated_data["accept"],
                accept_suggestions=payload.validated_data["accept_suggestions"],
            )
        except statement_imports.UndecidedNearMatchesError as error:
            return Response({"detail": error.message, "near_matches": error.row_ids}, status=status.HTTP_409_CONFLICT)
        return self._started(request, statement, status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: s.StatementImportSerializer, 202: s.StatementImportSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Preview again: an interrupted, failed or uploaded import (409 if committed, running or queued);
        a large one is queued for the worker (202)."""
        statement = self.get_object()
        ensure_can_write(request.user, statement.household_id)
        statement = tasks.statement_import_preview_start(statement_import=statement, user=request.user)
        return self._started(request, statement, status.HTTP_200_OK)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str | None = None) -> Response:
        """Delete an import never committed, with its staged rows and file (409 if committed or running)."""
        statement = self.get_object()
        ensure_can_write(request.user, statement.household_id)
        statement_imports.statement_import_discard(statement_import=statement)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_destroy(self, instance: StatementImport) -> None:
        statement_imports.statement_import_delete(statement_import=instance)


class TransactionsCsvExportView(APIView):
    """Transactions as CSV, with the transaction list's filters; streamed, safe against formula injection."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request: Request) -> StreamingHttpResponse:
        queryset = Transaction.objects.restrict(request.user, "view")
        filtered = TransactionFilter(request.query_params, queryset=queryset, request=request)
        if not filtered.is_valid():
            raise serializers.ValidationError(filtered.errors)
        response = transactions_csv_response(export_queryset(filtered.qs))
        response["Content-Disposition"] = content_disposition("transactions.csv")
        return response
