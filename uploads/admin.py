"""Back office for uploads: attachments, CSV profiles, and the statement import wizard
(upload → map columns with the file's first rows shown → preview → commit).

Scoped like the ledger admin (its `HouseholdScopedAdmin`): querysets and account choices come from
`restrict(request.user, action)`; another household's import is a 404, and a viewer only looks — the map
step, a commit and every delete need a writing role, and deletes go through the uploads services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html

from financetracker.authenticated import AuthenticatedHttpRequest
from financetracker.core.admin.theme import ThemedFormMixin
from financetracker.core.errors import ConflictError
from financetracker.core.tenancy import may
from ledger.admin.scoping import HouseholdScopedAdmin, HouseholdScopedInline, model_choice_field, scoped_queryset
from ledger.models import Account, Category, Transaction, User
from uploads import tasks
from uploads.importers import FORMATS, ImportFileError
from uploads.importers.csvfile import read_head
from uploads.models import (
    Attachment,
    CsvProfile,
    ImportStatus,
    RowStatus,
    StatementImport,
    StatementImportRow,
    row_shows,
)
from uploads.services import attachments, statement_imports

MAPPING_FIELDS = ("date", "amount", "debit", "credit", "direction", "payee", "description", "bank_id")


NEAR_CHOICES = ("merge", "keep", "ignore")


@dataclass(frozen=True)
class NearMatchLine:
    """A near match on the preview page, with the decision sent for it (when a commit was refused)."""

    row: StatementImportRow
    decision: str
    undecided: bool


@dataclass(frozen=True)
class PreviewLine:
    """A row on the preview page, with its suggested category's name."""

    row: StatementImportRow
    suggested_category: str
    suggestion_percent: int


def _near_match_decisions(request: HttpRequest) -> dict[int, str]:
    """The preview's radio buttons: near-<row id> = merge | keep | ignore."""
    decisions = {}
    for key, value in request.POST.items():
        if key.startswith("near-") and key[5:].isdigit() and value in NEAR_CHOICES:
            decisions[int(key[5:])] = value
    return decisions


def _row_ids(values: list[str]) -> list[int]:
    # Row ids come from checkboxes; anything else is tampering and is simply not a row.
    return [int(value) for value in values if value.isdigit()]


def _importable_accounts(request: HttpRequest) -> QuerySet[Account]:
    return scoped_queryset(Account, request, "add", StatementImport).filter(archived=False)


class ScopedViewAndDeleteAdmin(HouseholdScopedAdmin):
    """Rows made by uploads and imports: viewed and deleted (by a writing role, through a service), never added
    or edited here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceDeletesAdmin(ScopedViewAndDeleteAdmin):
    """Single and "delete selected" deletes go through the uploads services (HouseholdScopedAdmin's
    delete_model/delete_queryset, each row checked against has_delete_permission), so files follow their rows."""


@admin.register(Attachment)
class AttachmentAdmin(ServiceDeletesAdmin):
    list_display = ["original_name", "content_type", "size", "transaction", "created_at"]
    list_filter = ["content_type"]
    search_fields = ["original_name", "sha256"]
    date_hierarchy = "created_at"
    raw_id_fields = ["transaction"]

    def delete_with_service(self, request: HttpRequest, obj: Attachment) -> None:
        attachments.attachment_delete(attachment=obj)


@admin.register(CsvProfile)
class CsvProfileAdmin(ScopedViewAndDeleteAdmin):
    list_display = ["name", "account", "updated_at"]
    search_fields = ["name"]

    def delete_with_service(self, request: HttpRequest, obj: CsvProfile) -> None:
        statement_imports.csv_profile_delete(profile=obj)


class UploadForm(ThemedFormMixin, forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.none())
    file = forms.FileField()
    format = forms.ChoiceField(choices=[("", "Detect from the content"), *FORMATS.choices()], required=False)
    profile = forms.CharField(required=False, help_text="A saved CSV mapping of this account, if any.")

    def __init__(self, *args: Any, accounts: QuerySet[Account], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "account").queryset = accounts


class MappingForm(ThemedFormMixin, forms.Form):
    delimiter = forms.CharField(required=False, max_length=2)
    date_format = forms.CharField(required=False, help_text="e.g. %d.%m.%Y or %m/%d/%y; empty: detect.")
    date_order = forms.ChoiceField(
        choices=[("", "Detect from the dates"), ("dmy", "day/month/year"), ("mdy", "month/day/year")], required=False
    )
    decimal = forms.ChoiceField(choices=[("", "Detect"), (".", "1,234.56"), (",", "1.234,56")], required=False)
    save_profile = forms.CharField(required=False, help_text="Save this mapping for the account under a name.")

    def __init__(self, *args: Any, columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((name, name) for name in columns)]
        for field in MAPPING_FIELDS:
            self.fields[field] = forms.ChoiceField(choices=choices, required=False)
        self.apply_theme()

    def mapping(self) -> dict[str, Any]:
        data = {key: value for key, value in self.cleaned_data.items() if value and key != "save_profile"}
        data["explicit"] = True
        return data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # The CSV format's own option checks (uploads.importers): a two-character delimiter is named here.
        for message in FORMATS["csv"].option_errors(self.mapping()):
            self.add_error(None, message)
        return cleaned


@admin.register(StatementImport)
class StatementImportAdmin(ServiceDeletesAdmin):
    list_display = ["original_name", "account", "format", "state", "created_at", "committed_at", "wizard_link"]
    list_select_related = ["account", "task"]
    list_filter = ["status", "format"]
    search_fields = ["original_name"]
    date_hierarchy = "created_at"
    change_list_template = "admin/uploads/statementimport/change_list.html"

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("wizard/", wrap(self.wizard_upload), name="uploads_import_wizard"),
            path("<int:pk>/wizard/map/", wrap(self.wizard_map), name="uploads_import_wizard_map"),
            path("<int:pk>/wizard/preview/", wrap(self.wizard_preview), name="uploads_import_wizard_preview"),
            *super().get_urls(),
        ]

    def delete_with_service(self, request: HttpRequest, obj: StatementImport) -> None:
        statement_imports.statement_import_delete(statement_import=obj)

    @admin.display(description="State")
    def state(self, obj: StatementImport) -> str:
        # queued / previewing… n rows / previewed / committing / committed / failed: <why>
        return tasks.import_state_label(obj)

    @admin.display(description="Rows")
    def wizard_link(self, obj: StatementImport) -> str:
        # The preview page: its rows, and commit, retry or discard as the import's state allows.
        label = "retry or discard" if obj.status in {ImportStatus.PREVIEWING, ImportStatus.FAILED} else "open"
        return format_html('<a href="{}">{}</a>', reverse("admin:uploads_import_wizard_preview", args=[obj.pk]), label)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {"can_import": self._may_write(request, None), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def _import(self, request: HttpRequest, pk: int, action: str = "view") -> StatementImport:
        """The import if the person may see it (else 404, as if missing), and may `action` it (else 403)."""
        statement = self.get_queryset(request).select_related("account").filter(pk=pk).first()
        if statement is None:
            raise Http404
        allowed = (
            self.has_view_permission(request, statement) if action == "view" else self._may_write(request, statement)
        )
        if not allowed:
            raise PermissionDenied
        return statement

    def _may_write(self, request: HttpRequest, statement: StatementImport | None) -> bool:
        """Uploading, mapping and committing need the model permission and a writing role in the household."""
        perm = request.user.has_perm("uploads.add_statementimport") and request.user.has_perm(
            "uploads.change_statementimport"
        )
        if statement is None:
            return perm and _importable_accounts(request).exists()
        return perm and may(request.user, "change", statement.household_id, StatementImport)

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def wizard_upload(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if not self._may_write(request, None):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None, accounts=_importable_accounts(request))
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                statement = statement_imports.statement_import_upload(
                    account=form.cleaned_data["account"],
                    upload=upload,
                    original_name=upload.name or "",
                    declared_size=upload.size,
                    format=form.cleaned_data["format"] or None,
                    profile=form.cleaned_data["profile"] or None,
                    user=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if FORMATS[statement.format].maps_columns and not statement.mapping:
                    return HttpResponseRedirect(reverse("admin:uploads_import_wizard_map", args=[statement.pk]))
                return self._preview(request, statement)
        return render(
            request, "admin/uploads/wizard_upload.html", self._context(request, form=form, title="Import a statement")
        )

    def _preview(self, request: AuthenticatedHttpRequest, statement: StatementImport) -> HttpResponse:
        # A small file is previewed now; a larger one is queued, and the preview page follows its progress.
        try:
            tasks.statement_import_preview_start(statement_import=statement, user=request.user)
        except ConflictError as error:
            messages.error(request, error.message)
        return HttpResponseRedirect(reverse("admin:uploads_import_wizard_preview", args=[statement.pk]))

    def wizard_map(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        statement = self._import(request, pk, "change")  # every visit may save a mapping or re-run the preview
        if statement.status == ImportStatus.COMMITTED:
            # Its rows are in the books: no new mapping, no second preview, no second commit.
            messages.error(request, "This import is committed; its mapping and preview are final.")
            return HttpResponseRedirect(reverse("admin:uploads_import_wizard_preview", args=[statement.pk]))
        with default_storage.open(statement.file.name or "", "rb") as stream:
            head = read_head(stream, statement.mapping)
        columns = head["rows"][0] if head["rows"] and head["header_row"] is not None else []
        # What detection found is pre-selected; the page says how sure it is.
        detected = head["detected"]
        initial: dict[str, Any] = {"delimiter": head["delimiter"], "decimal": head["decimal"]}
        for field in MAPPING_FIELDS:
            value = detected.get(field)
            if isinstance(value, list):
                value = value[0] if value else None
            if value not in (None, "") and value in columns:
                initial[field] = value
        form = MappingForm(request.POST or None, columns=columns, initial=initial)
        if request.method == "POST" and form.is_valid():
            statement.mapping = form.mapping()
            statement.save(update_fields=["mapping"])
            if form.cleaned_data["save_profile"]:
                statement_imports.csv_profile_save(
                    account=statement.account, name=form.cleaned_data["save_profile"], mapping=statement.mapping
                )
            return self._preview(request, statement)
        if request.method == "GET" and "auto" in request.GET:
            return self._preview(request, statement)
        return render(
            request,
            "admin/uploads/wizard_map.html",
            self._context(
                request,
                statement=statement,
                form=form,
                head=head["rows"],
                encoding=head["encoding"],
                confidence=round(head["overall"] * 100),
                notes=head["notes"],
                title="Map columns",
            ),
        )

    def wizard_preview(self, request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
        statement = self._import(request, pk, "change" if request.method == "POST" else "view")
        form_error = ""
        decisions: dict[int, str] = {}
        undecided: set[int] = set()
        if request.method == "POST":
            if "_retry" in request.POST:
                return self._preview(request, statement)
            if "_discard" in request.POST:
                try:
                    statement_imports.statement_import_discard(statement_import=statement)
                except ConflictError as error:
                    messages.error(request, error.message)
                    return HttpResponseRedirect(request.get_full_path())
                messages.success(request, f"Discarded {statement.original_name}: its rows and file are gone.")
                return HttpResponseRedirect(reverse("admin:uploads_statementimport_changelist"))
            decisions = _near_match_decisions(request)
            chosen = {choice: [row for row, value in decisions.items() if value == choice] for choice in NEAR_CHOICES}
            try:
                statement = tasks.statement_import_commit_start(
                    statement_import=statement,
                    user=request.user,
                    merge=_row_ids(request.POST.getlist("merge")) + chosen["merge"],
                    keep=chosen["keep"],
                    ignore=_row_ids(request.POST.getlist("ignore")) + chosen["ignore"],
                    accept=_row_ids(request.POST.getlist("accept")),
                )
            except statement_imports.UndecidedNearMatchesError as error:
                form_error = (
                    f"{len(error.row_ids)} near match(es) still need a decision: choose merge, keep as new or "
                    "ignore for each row marked below, then commit again."
                )
                undecided = set(error.row_ids)
            except (ValidationError, ConflictError, ImportFileError) as error:
                form_error = getattr(error, "message", None) or "; ".join(getattr(error, "messages", [str(error)]))
                messages.error(request, form_error)
            else:
                if tasks.import_state(statement) == "queued":
                    messages.info(request, f"Committing {statement.original_name} in the background.")
                    return HttpResponseRedirect(request.get_full_path())
                counts = statement.counts
                messages.success(
                    request,
                    f"Committed {statement.original_name}: {counts.get('imported', 0)} imported, "
                    f"{counts.get('duplicate', 0)} already in the books, {counts.get('merged', 0)} merged, "
                    f"{counts.get('ignored', 0)} ignored.",
                )
                return HttpResponseRedirect(reverse("admin:uploads_statementimport_changelist"))
            statement.refresh_from_db()
        near = [
            NearMatchLine(row=row, decision=decisions.get(row.pk, ""), undecided=row.pk in undecided)
            for row in statement.rows.filter(row_shows(RowStatus.NEAR_MATCH)).order_by("line_number")[:500]
        ]
        listed = statement.rows.exclude(row_shows(RowStatus.DUPLICATE, RowStatus.NEAR_MATCH))
        shown = list(listed.order_by("line_number")[:500])
        names = dict(
            Category.objects.filter(
                household_id=statement.household_id,
                pk__in={row.suggested_category_id for row in shown if row.suggested_category_id},
            ).values_list("pk", "name")
        )
        lines = [
            PreviewLine(
                row=row,
                suggested_category=names.get(row.suggested_category_id or 0, ""),
                suggestion_percent=round((row.suggestion_confidence or 0) * 100),
            )
            for row in shown
        ]
        # While the worker has it (its task queued or running) or an inline preview runs, the page reloads
        # itself to show the progress (no script: CSP allows none).
        current = tasks.task_of(statement)
        busy = (current is not None and current.state in tasks.ACTIVE) or (
            statement.status == ImportStatus.PREVIEWING
            and not statement_imports.statement_import_is_interrupted(statement)
        )
        return render(
            request,
            "admin/uploads/wizard_preview.html",
            self._context(
                request,
                statement=statement,
                state_label=tasks.import_state_label(statement),
                busy=busy,
                progress=tasks.task_of(statement),
                near_matches=near,
                form_error=form_error,
                rows=lines,
                can_commit=statement.status == ImportStatus.PREVIEWED
                and not busy
                and self._may_write(request, statement),
                interrupted=statement_imports.statement_import_is_interrupted(statement),
                can_retry=statement.status != ImportStatus.COMMITTED
                and not busy
                and self._may_write(request, statement),
                title="Preview and commit",
            ),
        )


# --- receipts on the transaction page ---------------------------------------------------------------


class AttachmentInlineForm(forms.ModelForm):
    """No model field is edited here: a new row is an upload, which the uploads service checks and stores."""

    upload = forms.FileField(required=False, help_text="A receipt or invoice (PDF, PNG, JPEG, WebP, HEIC, …).")

    class Meta:
        model = Attachment
        fields: list[str] = []


class AttachmentInlineFormSet(forms.BaseInlineFormSet):
    def save_for_transaction(self, request: HttpRequest, transaction_obj: Transaction) -> None:
        """Called by TransactionAdmin once the transaction is saved; refusals surface as form errors."""
        user = request.user if isinstance(request.user, User) else None
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if form.instance.pk and data.get("DELETE"):
                attachments.attachment_delete(attachment=form.instance)
            elif not form.instance.pk and data.get("upload"):
                upload = data["upload"]
                try:
                    attachments.attachment_create(
                        household=transaction_obj.household,
                        upload=upload,
                        original_name=upload.name,
                        declared_size=upload.size,
                        transaction_obj=transaction_obj,
                        user=user,
                    )
                except attachments.DuplicateAttachmentError as error:
                    raise ValidationError(
                        f"{upload.name} was uploaded before (as {error.existing.original_name})."
                    ) from None

    def save(self, commit: bool = True) -> list[Any]:
        return []  # save_for_transaction did the writing


class AttachmentInline(HouseholdScopedInline):
    model = Attachment
    form = AttachmentInlineForm
    formset = AttachmentInlineFormSet
    fields = ("download", "content_type", "size", "created_at", "upload")
    readonly_fields = ("download", "content_type", "size", "created_at")
    verbose_name = "receipt or attachment"
    verbose_name_plural = "receipts and attachments"
    extra = 1

    @admin.display(description="File")
    def download(self, obj: Attachment) -> str:
        if not obj.pk:
            return "—"
        # The API's download view checks membership of the owning household on every request.
        url = reverse("attachment-download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name)


# django-tasks-db registers its queue table (every household's tasks, unscoped). The import pages show each
# import's task, state, progress and error inside the household walls; the raw queue is not an admin page.
def _unregister_task_queue_admin() -> None:
    from django_tasks_db.models import DBTaskResult

    if admin.site.is_registered(DBTaskResult):
        admin.site.unregister(DBTaskResult)


_unregister_task_queue_admin()
