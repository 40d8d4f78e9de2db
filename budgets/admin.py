"""Back office for budgets, schedules and rates, scoped exactly like the ledger admin (its
`HouseholdScopedAdmin`): rows and foreign-key choices from the person's households unless superuser, the
household role decides writes, and writes go through services.

Custom pages hang off the budget admin: the month view (every category of a month with an amount input), the
dashboard (`budgets/admin_dashboard.py`), linked from the index, and the reports (`budgets/admin_reports.py`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from unfold.admin import ModelAdmin, TabularInline

from budgets import admin_dashboard, admin_reports
from budgets.admin_forms import ExchangeRateForm, ScheduledTransactionForm
from budgets.admin_month import month_rows, month_totals
from budgets.models import Budget, ExchangeRate, ScheduledOccurrence, ScheduledTransaction
from budgets.months import add_months, budget_month_of, parse_month
from budgets.recurrence import describe as describe_recurrence
from budgets.selectors import (
    budget_report_for_month,
    scheduled_occurrences,
)
from budgets.selectors.scheduled import day_before
from budgets.services import budget_lines, schedules
from financetracker.core.admin.changelists import BoundedDateHierarchyMixin
from financetracker.core.admin.fields import AmountFormField
from financetracker.core.money import display_rate, money_html
from financetracker.core.tenancy import may, may_on_shared_data
from ledger.admin.scoping import HouseholdScopedAdmin, ScopedFilter, scoped_queryset
from ledger.models import Category, CategoryKind, Household


def _can_write(request: HttpRequest, household_id: int) -> bool:
    return may(request.user, "change", household_id, Budget)


def _same_amount(text: str, amount: Decimal) -> bool:
    try:
        return Decimal(text) == amount
    except ArithmeticError:
        return False  # not a number: budget_set reports it


def _household_choice(request: HttpRequest) -> tuple[list[Household], Household | None]:
    households = list(scoped_queryset(Household, request).order_by("name", "id"))
    wanted = request.GET.get("household") or request.POST.get("household")
    chosen = next((h for h in households if str(h.pk) == wanted), households[0] if households else None)
    return households, chosen


@admin.register(Budget)
class BudgetAdmin(HouseholdScopedAdmin):
    list_display = ["month_label", "category", "amount_display", "rollover", "household"]
    list_filter = ("month", "rollover", ("household", ScopedFilter))
    search_fields = ["category__name"]
    date_hierarchy = "month"
    list_select_related = ["category", "category__parent", "household"]
    change_list_template = "admin/budgets/budget/change_list.html"

    @admin.display(description="Month", ordering="month")
    def month_label(self, obj: Budget) -> str:
        return f"{obj.month:%B %Y}"

    @admin.display(description="Budgeted", ordering="amount")
    def amount_display(self, obj: Budget) -> str:
        return money_html(obj.amount, obj.household.base_currency)

    fields = budget_lines.BUDGET_EDITABLE_FIELDS.admin_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        # A line is (category, month): change those by deleting and adding.
        return (*readonly, *budget_lines.BUDGET_EDITABLE_FIELDS.create_only) if obj is not None else readonly

    def create_with_service(self, request: HttpRequest, data: dict[str, Any]) -> Budget:
        return budget_lines.budget_set(**budget_lines.BUDGET_EDITABLE_FIELDS.pick(data, owner=True))

    def update_with_service(self, request: HttpRequest, current: Budget, changes: dict[str, Any]) -> Budget:
        return budget_lines.budget_update(budget=current, **budget_lines.BUDGET_EDITABLE_FIELDS.pick(changes))

    def delete_with_service(self, request: HttpRequest, obj: Budget) -> None:
        budget_lines.budget_delete(budget=obj)

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path("month/", self.admin_site.admin_view(self.month_view), name="budgets_budget_month"),
            path("dashboard/", self.admin_site.admin_view(self.dashboard_view), name="budgets_dashboard"),
            *(
                path(
                    f"reports/{key.replace('_', '-')}/",
                    self.admin_site.admin_view(self._report_view(key)),
                    name=f"budgets_report_{key}",
                )
                for key in admin_reports.REPORTS
            ),
        ]
        return custom + super().get_urls()

    def _report_view(self, report: str) -> Any:
        def view(request: HttpRequest) -> HttpResponse:
            if not self.has_view_permission(request):
                raise PermissionDenied
            households, household = _household_choice(request)
            # No `opts`: unfold's header would then read "Budgets and planning > Budgets" above a report.
            context = {**self.admin_site.each_context(request), "content_title": "Reports"}
            return admin_reports.report_view(
                request, report, households=households, household=household, context=context
            )

        return view

    # --- The month view ------------------------------------------------------------------------------

    def month_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        households, household = _household_choice(request)
        if household is None:
            messages.warning(request, "You belong to no household yet.")
            return HttpResponseRedirect(reverse("admin:index"))
        try:
            month = parse_month(request.GET.get("month") or request.POST.get("month") or "")
        except ValueError:
            month = budget_month_of(household, timezone.localdate())
        url = f"{reverse('admin:budgets_budget_month')}?household={household.pk}&month={month:%Y-%m}"
        can_write = _can_write(request, household.pk) and self.has_change_permission(request)
        categories = list(
            Category.objects.filter(household=household, kind=CategoryKind.EXPENSE, archived=False)
            .select_related("parent")
            .order_by("parent__name", "parent_id", "name")
        )
        lines = {line.category_id: line for line in Budget.objects.filter(household=household, month=month)}
        errors: dict[int, str] = {}
        if request.method == "POST":
            if not can_write:
                raise PermissionDenied("Your role in this household is read-only.")
            action = request.POST.get("action", "save")
            if action == "copy_previous":
                result = budget_lines.budget_copy_month(
                    household=household, from_month=add_months(month, -1), to_month=month
                )
                messages.success(request, f"Copied last month: {result.created} line(s) added.")
                return HttpResponseRedirect(url)
            if action == "fill_average":
                fill = budget_lines.budget_fill_from_average(household=household, month=month, months=3)
                if not fill.months:
                    messages.warning(request, "No budget month before this one is complete yet: nothing filled.")
                else:
                    used = ", ".join(f"{m:%B %Y}" for m in fill.months)
                    messages.success(
                        request,
                        f"Filled from the average of {len(fill.months)} complete month(s) ({used}): "
                        f"{fill.created} line(s) added, {fill.skipped} already set kept.",
                    )
                return HttpResponseRedirect(url)
            errors = self._save_month(request, household, month, categories, lines)
            if not errors:
                messages.success(request, f"Saved the budget of {month:%B %Y}.")
                return HttpResponseRedirect(url)
        report = budget_report_for_month(household, month)
        posted = {key: str(value) for key, value in request.POST.items()} if errors else None
        rows = month_rows(report, editable={c.pk for c in categories}, lines=lines, posted=posted, errors=errors)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Budget for {month:%B %Y}",
            "opts": self.model._meta,
            "households": households,
            "household": household,
            "currency": household.base_currency,
            "month": month,
            "month_text": f"{month:%Y-%m}",
            "previous_month": f"{add_months(month, -1):%Y-%m}",
            "next_month": f"{add_months(month, 1):%Y-%m}",
            "report": report,
            "rows": rows,
            "totals": month_totals(report),
            "can_write": can_write,
            "report_url": reverse("admin:budgets_report_cashflow") + f"?household={household.pk}",
        }
        return TemplateResponse(request, "admin/budgets/month.html", context)

    def _save_month(
        self,
        request: HttpRequest,
        household: Household,
        month: date,
        categories: list[Category],
        lines: dict[int, Budget],
    ) -> dict[int, str]:
        errors: dict[int, str] = {}
        try:
            with transaction.atomic():
                for category in categories:
                    text = (request.POST.get(f"amount_{category.pk}") or "").strip()
                    rollover = request.POST.get(f"rollover_{category.pk}") == "on"
                    try:
                        if not text:
                            if category.pk in lines:
                                budget_lines.budget_delete(budget=lines[category.pk])
                            continue
                        stored = lines.get(category.pk)
                        if stored is not None and stored.rollover == rollover and _same_amount(text, stored.amount):
                            continue  # unchanged: no write, no audit entry
                        budget_lines.budget_set(
                            household=household, category=category, month=month, amount=text, rollover=rollover
                        )
                    except ValidationError as error:
                        errors[category.pk] = "; ".join(error.messages)
                if errors:
                    raise ValidationError("the month has errors")  # roll back: all or nothing
        except ValidationError:
            messages.error(request, "Nothing was saved: correct the amounts marked below.")
        return errors

    # --- The dashboard (budgets/admin_dashboard.py) ---------------------------------------------------

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        households, household = _household_choice(request)
        site_context = self.admin_site.each_context(request)
        return admin_dashboard.dashboard_view(
            request, households=households, household=household, site_context=site_context
        )


class ScheduledOccurrenceInline(TabularInline):
    model = ScheduledOccurrence
    fields = ("occurrence_date", "transaction", "transfer", "posted_at")
    readonly_fields = ("occurrence_date", "transaction", "transfer", "posted_at")
    extra = 0
    can_delete = False
    ordering = ["-occurrence_date"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The schedule's "Repeats" group: the rule's helper fields (admin_forms.py) and the declared dates and flag.
_REPEATS = (
    "schedule",
    "frequency",
    "interval",
    "weekdays",
    "monthly_on",
    "month_day",
    "nth",
    "nth_weekday",
    "month",
    "start_date",
    "end_date",
    "occurrence_count",
    "recurrence",
    "next_dates",
    "active",
)


@admin.register(ScheduledTransaction)
class ScheduledTransactionAdmin(HouseholdScopedAdmin):
    form = ScheduledTransactionForm
    list_display = ["label", "account_display", "amount_display", "schedule", "next_dates", "active", "household"]
    list_filter = ("active", ("household", ScopedFilter))
    search_fields = ["payee", "description"]
    list_select_related = ["account", "to_account", "household", "category"]
    readonly_fields = ["schedule", "next_dates"]
    inlines = [ScheduledOccurrenceInline]
    fieldsets = (
        (
            None,
            {
                # The declared fields but those the "Repeats" group shows: a newly declared one lands here.
                "fields": tuple(
                    name for name in schedules.SCHEDULED_EDITABLE_FIELDS.admin_fields if name not in _REPEATS
                )
            },
        ),
        (
            "Repeats",
            {"fields": _REPEATS},
        ),
    )

    @admin.display(description="Payee", ordering="payee")
    def label(self, obj: ScheduledTransaction) -> str:
        return obj.payee or obj.description or "Scheduled"

    @admin.display(description="Account", ordering="account__name")
    def account_display(self, obj: ScheduledTransaction) -> str:
        # A transfer is marked with the account it goes to.
        return obj.account.name if obj.to_account is None else f"{obj.account.name} → {obj.to_account.name}"

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: ScheduledTransaction) -> str:
        if obj.to_account is not None:
            return money_html(-obj.amount, obj.account.currency, signed=True)
        return money_html(obj.amount, obj.account.currency, signed=True)

    @admin.display(description="Repeats")
    def schedule(self, obj: ScheduledTransaction) -> str:
        if not obj.pk:
            return "—"
        return describe_recurrence(obj.recurrence, obj.start_date)

    @admin.display(description="Next dates")
    def next_dates(self, obj: ScheduledTransaction) -> str:
        if not obj.pk:
            return "—"
        if obj.next_due is None:
            return "None: the schedule has ended"
        # From the next unposted one (overdue included), as the posting job will create them.
        upcoming = scheduled_occurrences(obj, after=day_before(obj.next_due), until=obj.end_date or date.max)
        return ", ".join(f"{day:%a %-d %b %Y}" for day in islice(upcoming, 3))

    def create_with_service(self, request: HttpRequest, data: dict[str, Any]) -> ScheduledTransaction:
        return schedules.scheduled_create(**schedules.SCHEDULED_EDITABLE_FIELDS.pick(data, owner=True))

    def update_with_service(
        self, request: HttpRequest, current: ScheduledTransaction, changes: dict[str, Any]
    ) -> ScheduledTransaction:
        return schedules.scheduled_update(scheduled=current, **schedules.SCHEDULED_EDITABLE_FIELDS.pick(changes))

    def delete_with_service(self, request: HttpRequest, obj: ScheduledTransaction) -> None:
        schedules.scheduled_delete(scheduled=obj)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(BoundedDateHierarchyMixin, ModelAdmin):
    """Global reference data: written only with the model's own permissions, granted explicitly (or a superuser)."""

    form = ExchangeRateForm
    # A rate is read as the API reads it, like every amount (unfold merges this into its widget overrides).
    formfield_overrides = {models.DecimalField: {"form_class": AmountFormField}}
    list_display = ["date", "base", "quote", "rate_display"]
    list_filter = ["base", "quote"]

    @admin.display(description="Rate", ordering="rate")
    def rate_display(self, obj: ExchangeRate) -> str:
        return f"1 {obj.base} = {display_rate(obj.rate)} {obj.quote}"

    date_hierarchy = "date"
    search_fields = ["quote", "base"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).restrict(request.user, "view")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and may_on_shared_data(request.user, "view", ExchangeRate)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may_on_shared_data(request.user, "add", ExchangeRate)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_on_shared_data(request.user, "change", ExchangeRate)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_on_shared_data(request.user, "delete", ExchangeRate)
