"""Transactions: the list, the form with split lines and tags (saved by one service call), and bulk actions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import InlineModelAdmin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from financetracker.authenticated import AuthenticatedHttpRequest, authenticated
from financetracker.core.admin.theme import ThemedFormMixin
from financetracker.core.money import money_html
from financetracker.core.registries import transaction_admin_actions, transaction_admin_inlines
from ledger.admin.register import RegisterAdminMixin
from ledger.admin.scoping import (
    HouseholdScopedAdmin,
    HouseholdScopedInline,
    ScopedFilter,
    ScopedModelForm,
    adopt,
    model_choice_field,
    scoped_queryset,
)
from ledger.models import Category, Household, Split, Tag, Transaction, TransactionStatus, TransactionTag
from ledger.services.transactions import (
    TRANSACTION_EDITABLE_FIELDS,
    SplitLine,
    transaction_create,
    transaction_delete,
    transaction_unreconcile,
    transaction_update,
    transactions_mark_cleared,
    transactions_set_category,
)


class _OwnThenRegisteredActions(Sequence[Any]):
    """The list's own actions, then other apps' (the CSV export: financetracker.core.registries), read when the page asks:
    the admin is built before other apps register."""

    def __init__(self, *own: str) -> None:
        self.own = own

    def _all(self) -> tuple[Any, ...]:
        return (*self.own, *transaction_admin_actions)

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())


class SplitInline(HouseholdScopedInline):
    model = Split
    fields = ("category", "amount", "memo")
    verbose_name = "split line"
    verbose_name_plural = "split lines (several categories whose amounts sum to the transaction's amount)"

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        return 2 if obj is None else 1


class TagLinkInline(HouseholdScopedInline):
    model = TransactionTag
    fields = ("tag",)
    verbose_name = "tag"
    verbose_name_plural = "tags"
    extra = 1


class TransactionForm(ScopedModelForm):
    class Meta:
        model = Transaction
        fields = TRANSACTION_EDITABLE_FIELDS.admin_fields

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status = self.fields.get("status")
        if not isinstance(status, forms.ChoiceField):
            return
        if self.instance.status == TransactionStatus.RECONCILED:
            # Un-reconciling is its own deliberate step (the "Un-reconcile" action), never a side effect of an edit.
            status.choices = [(TransactionStatus.RECONCILED, "Reconciled")]
            status.help_text = "Use the “Un-reconcile” action on the list to change a reconciled transaction."
        else:
            # Only a reconciliation marks rows reconciled.
            status.choices = [c for c in TransactionStatus.choices if c[0] != TransactionStatus.RECONCILED]


class SetCategoryForm(ThemedFormMixin, forms.Form):
    category = forms.ModelChoiceField(queryset=Category.objects.none())

    def __init__(self, *args: Any, categories: QuerySet[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "category").queryset = categories


@admin.register(Transaction)
class TransactionAdmin(RegisterAdminMixin, HouseholdScopedAdmin):
    form = TransactionForm
    household_field = None  # follows the account
    list_display = ("date", "payee", "amount_display", "account", "category_display", "status", "tag_names")
    list_display_links = ("date", "payee")
    list_filter = (
        "status",
        ("account", ScopedFilter),
        ("category", ScopedFilter),
        ("tags", ScopedFilter),
        ("household", ScopedFilter),
    )
    list_select_related = ("account", "category__parent")
    search_fields = ("payee", "description")
    date_hierarchy = "date"
    autocomplete_fields = ("category",)
    inlines = (SplitInline, TagLinkInline)
    readonly_fields = ("transfer", "created_by", "created_at", "updated_by", "updated_at")
    actions = _OwnThenRegisteredActions("mark_cleared", "set_category", "apply_rules", "unreconcile")
    list_per_page = 50
    change_list_template = "admin/ledger/transaction/change_list.html"  # the register's header (register.py)

    def get_inlines(
        self, request: HttpRequest, obj: Transaction | None
    ) -> tuple[type[InlineModelAdmin[Any, Any]], ...]:
        return (
            *self.inlines,
            *transaction_admin_inlines,
        )  # then other apps' (receipts): financetracker.core.registries

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Two prefetches whatever the page size: split lines (with their categories) and tags.
        splits = Prefetch("splits", queryset=Split.objects.select_related("category__parent").order_by("id"))
        # And each transfer's two sides with their accounts, to name the other account ("→ Savings").
        sides = Prefetch("transfer__transactions", queryset=Transaction.objects.select_related("account"))
        return super().get_queryset(request).prefetch_related(splits, "tags", sides)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = TRANSACTION_EDITABLE_FIELDS.admin_fields
        return fields if obj is None else ("household", *fields, *self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else ("household", *self.readonly_fields)

    # --- list columns ------------------------------------------------------------------------------

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: Transaction) -> str:
        return money_html(obj.amount, obj.account.currency, signed=True)

    @admin.display(description="Category", ordering="category__name")
    def category_display(self, obj: Transaction) -> str:
        lines = obj.splits.all()
        if lines:
            return "Split: " + ", ".join(str(line.category) for line in lines)
        if obj.transfer_id is not None and obj.transfer is not None:
            other = next((side for side in obj.transfer.transactions.all() if side.pk != obj.pk), None)
            if other is not None:
                return f"Transfer → {other.account.name}" if obj.amount < 0 else f"Transfer ← {other.account.name}"
        return str(obj.category) if obj.category_id else "—"

    @admin.display(description="Tags")
    def tag_names(self, obj: Transaction) -> str:
        return ", ".join(tag.name for tag in obj.tags.all())

    # --- one service call with the split lines and tags -----------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Nothing yet: the row, its split lines and tags are written together in save_related."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Iterable[Any], change: bool) -> None:
        split_forms: list[Any] = []
        tag_forms: list[Any] = []
        splits_changed = tags_changed = False
        for formset in formsets:
            # Django's change message reads these; the service, not formset.save(), wrote the rows.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            live = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            if formset.model is Split:
                split_forms, splits_changed = live, formset.has_changed()
            elif formset.model is TransactionTag:
                tag_forms, tags_changed = live, formset.has_changed()
        split_lines = [
            SplitLine(
                category=f.cleaned_data["category"],
                amount=f.cleaned_data["amount"],
                memo=f.cleaned_data.get("memo", ""),
            )
            for f in split_forms
        ]
        tags: list[Tag] = [f.cleaned_data["tag"] for f in tag_forms if f.cleaned_data.get("tag")]
        data = form.cleaned_data
        fields = TRANSACTION_EDITABLE_FIELDS.pick(data)
        if change:
            extra: dict[str, Any] = {}
            if splits_changed:
                extra["splits"] = split_lines
            if tags_changed:
                extra["tags"] = tags
            saved = transaction_update(
                transaction_obj=form.instance, user=authenticated(request).user, **extra, **fields
            )
        else:
            saved = transaction_create(user=authenticated(request).user, tags=tags, splits=split_lines, **fields)
        # Other apps' inlines (receipts from uploads) save through their own services once the row exists.
        for formset in formsets:
            save_for_transaction = getattr(formset, "save_for_transaction", None)
            if save_for_transaction is not None:
                save_for_transaction(request, saved)
        adopt(form.instance, saved)

    def delete_with_service(self, request: AuthenticatedHttpRequest, obj: Transaction) -> None:
        transaction_delete(transaction_obj=obj, user=request.user)

    # --- actions ---------------------------------------------------------------------------------------

    def _writable(self, request: HttpRequest, queryset: QuerySet[Transaction]) -> QuerySet[Transaction]:
        """The selected rows the person may change, as a plain queryset the bulk services can lock."""
        return Transaction.objects.filter(pk__in=queryset.order_by().values("pk")).restrict(request.user, "change")

    def _report(self, request: HttpRequest, verb: str, changed: int, skipped_reconciled: int) -> None:
        message = f"{verb} {changed} transaction(s)."
        if skipped_reconciled:
            message += f" {skipped_reconciled} reconciled transaction(s) were left unchanged."
        self.message_user(request, message, messages.WARNING if skipped_reconciled else messages.SUCCESS)

    @admin.action(description="Mark selected transactions cleared", permissions=["change"])
    def mark_cleared(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Transaction]) -> None:
        result = transactions_mark_cleared(queryset=self._writable(request, queryset), user=request.user)
        self._report(request, "Marked cleared", result.changed, result.skipped_reconciled)

    @admin.action(description="Set category of selected transactions…", permissions=["change"])
    def set_category(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Transaction]
    ) -> TemplateResponse | None:
        categories = scoped_queryset(Category, request, "change", Transaction)
        form = SetCategoryForm(request.POST if "apply" in request.POST else None, categories=categories)
        if form.is_valid():
            result = transactions_set_category(
                queryset=self._writable(request, queryset),
                category=form.cleaned_data["category"],
                user=request.user,
            )
            self._report(request, "Set the category of", result.changed, result.skipped_reconciled)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Set the category of the selected transactions",
            "opts": self.model._meta,
            "form": form,
            "transactions": queryset[:20],
            "count": queryset.count(),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/ledger/transaction/set_category.html", context)

    @admin.action(description="Un-reconcile selected transactions", permissions=["change"])
    def unreconcile(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Transaction]) -> None:
        reconciled = self._writable(request, queryset).filter(status=TransactionStatus.RECONCILED)
        count = 0
        for tx in reconciled:
            transaction_unreconcile(transaction_obj=tx, user=request.user)
            count += 1
        self.message_user(request, f"Un-reconciled {count} transaction(s).", messages.SUCCESS)

    @admin.action(description="Apply rules to selected transactions", permissions=["change"])
    def apply_rules(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Transaction]) -> None:
        from ledger.rules import rules_apply

        writable = self._writable(request, queryset)
        changed = 0
        for household in Household.objects.filter(pk__in=writable.values("household_id")):
            result = rules_apply(
                household=household,
                queryset=writable.filter(household=household),
                user=request.user,
            )
            changed += result.changed
        self.message_user(request, f"Rules changed {changed} transaction(s).", messages.SUCCESS)
