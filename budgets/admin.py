"""Back office for budgets, schedules and rates, scoped like every admin page: querysets and foreign-key
choices come from `visible_to(request.user)` unless the person is a superuser; writes go through services.

Two custom pages hang off the budget admin: the month view (every category of a month with an amount input)
and the dashboard (balances, this month's budget progress, spending by category), linked from the index.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from budgets import services
from budgets.models import Budget, ExchangeRate, ScheduledOccurrence, ScheduledTransaction
from budgets.months import add_months, budget_month_of, parse_month
from budgets.selectors import budget_report_for_month, spending_by_category
from ledger.models import Account, Category, CategoryKind, Household
from ledger.money import format_amount
from ledger.selectors import accounts_with_balance


def _visible(queryset: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
    if request.user.is_superuser:
        return queryset
    return queryset.visible_to(request.user)  # type: ignore[attr-defined]


def _can_write(request: HttpRequest, household_id: int) -> bool:
    if request.user.is_superuser:
        return True
    return Household.objects.writable_by(request.user).filter(pk=household_id).exists()


class HouseholdScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows and foreign-key choices limited to the person's households; writes need an editor role."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return _visible(super().get_queryset(request), request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        if hasattr(related.objects, "visible_to") or related is Household:
            kwargs["queryset"] = _visible(related.objects.all(), request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or _can_write(request, obj.household_id))  # type: ignore[attr-defined]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or _can_write(request, obj.household_id))  # type: ignore[attr-defined]

    def _require_write(self, request: HttpRequest, household_id: int) -> None:
        if not _can_write(request, household_id):
            raise PermissionDenied("Your role in this household is read-only.")


def _household_choice(request: HttpRequest) -> tuple[list[Household], Household | None]:
    households = list(_visible(Household.objects.order_by("name", "id"), request))
    wanted = request.GET.get("household") or request.POST.get("household")
    chosen = next((h for h in households if str(h.pk) == wanted), households[0] if households else None)
    return households, chosen


@admin.register(Budget)
class BudgetAdmin(HouseholdScopedAdmin):
    list_display = ["month_label", "category", "amount", "rollover", "household"]
    list_filter = ["month", "rollover", "household"]
    search_fields = ["category__name"]
    date_hierarchy = "month"
    list_select_related = ["category", "category__parent", "household"]
    change_list_template = "admin/budgets/budget/change_list.html"

    @admin.display(description="Month", ordering="month")
    def month_label(self, obj: Budget) -> str:
        return f"{obj.month:%Y-%m}"

    def save_model(self, request: HttpRequest, obj: Budget, form: Any, change: bool) -> None:
        self._require_write(request, obj.household_id)
        saved = services.budget_set(
            household=obj.household, category=obj.category, month=obj.month, amount=obj.amount, rollover=obj.rollover
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Budget) -> None:
        self._require_write(request, obj.household_id)
        services.budget_delete(budget=obj)

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path("month/", self.admin_site.admin_view(self.month_view), name="budgets_budget_month"),
            path("dashboard/", self.admin_site.admin_view(self.dashboard_view), name="budgets_dashboard"),
        ]
        return custom + super().get_urls()

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
                result = services.budget_copy_month(
                    household=household, from_month=add_months(month, -1), to_month=month
                )
                messages.success(request, f"Copied last month: {result.created} line(s) added.")
                return HttpResponseRedirect(url)
            if action == "fill_average":
                result = services.budget_fill_from_average(household=household, month=month, months=3)
                messages.success(request, f"Filled from the last 3 months' average: {result.created} line(s) added.")
                return HttpResponseRedirect(url)
            errors = self._save_month(request, household, month, categories, lines)
            if not errors:
                messages.success(request, f"Saved the budget of {month:%B %Y}.")
                return HttpResponseRedirect(url)
        rows = [
            {
                "category": category,
                "amount": request.POST.get(f"amount_{category.pk}")
                if errors
                else (f"{lines[category.pk].amount:.2f}" if category.pk in lines else ""),
                "rollover": lines[category.pk].rollover if category.pk in lines else False,
                "error": errors.get(category.pk),
            }
            for category in categories
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Budget for {month:%B %Y}",
            "opts": self.model._meta,
            "households": households,
            "household": household,
            "month": month,
            "month_text": f"{month:%Y-%m}",
            "previous_month": f"{add_months(month, -1):%Y-%m}",
            "next_month": f"{add_months(month, 1):%Y-%m}",
            "rows": rows,
            "can_write": can_write,
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
                                services.budget_delete(budget=lines[category.pk])
                            continue
                        services.budget_set(
                            household=household, category=category, month=month, amount=text, rollover=rollover
                        )
                    except ValidationError as error:
                        errors[category.pk] = "; ".join(error.messages)
                if errors:
                    raise ValidationError("the month has errors")  # roll back: all or nothing
        except ValidationError:
            messages.error(request, "Nothing was saved: correct the amounts marked below.")
        return errors

    # --- The dashboard -------------------------------------------------------------------------------

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        households, household = _household_choice(request)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Dashboard",
            "households": households,
            "household": household,
        }
        if household is not None:
            currency = household.base_currency
            month = budget_month_of(household, timezone.localdate())
            accounts = list(
                accounts_with_balance(Account.objects.filter(household=household, archived=False)).order_by("name")
            )
            report = budget_report_for_month(household, month)
            spending = spending_by_category(household, month, month)
            largest = max((line.spent for line in spending.categories), default=Decimal(0))
            budget_rows = []
            for line in report.categories:
                funds = line.budgeted + line.carried_over
                width = 0 if funds <= 0 else min(100, int(line.spent * 100 / funds)) if line.spent > 0 else 0
                budget_rows.append(
                    {
                        "name": line.name,
                        "spent": format_amount(line.spent, currency),
                        "funds": format_amount(funds, currency),
                        "available": format_amount(line.available, currency),
                        "percent": line.percent_used,
                        "width": 100 if line.over_budget else width,
                        "state": "over" if line.over_budget else ("near" if line.near_limit else "ok"),
                    }
                )
            bar_height = 22
            spending_rows = [
                {
                    "name": line.name,
                    "amount": format_amount(line.spent, currency),
                    "width": 0 if largest <= 0 or line.spent <= 0 else int(line.spent * 300 / largest),
                    "y": index * bar_height,
                    "text_y": index * bar_height + 15,
                }
                for index, line in enumerate(sorted(spending.categories, key=lambda x: -x.spent))
                if line.spent > 0
            ]
            context.update(
                {
                    "currency": currency,
                    "month": month,
                    "report": report,
                    "totals": report.as_dict()["totals"],
                    "missing_rates": report.missing_rates,
                    "accounts": [
                        {"name": a.name, "currency": a.currency, "balance": format_amount(a.balance, a.currency)}  # type: ignore[attr-defined]
                        for a in accounts
                    ],
                    "budget_rows": budget_rows,
                    "spending_rows": spending_rows,
                    "chart_height": max(bar_height, bar_height * len(spending_rows)),
                    "month_url": f"{reverse('admin:budgets_budget_month')}?household={household.pk}&month={month:%Y-%m}",
                }
            )
        return TemplateResponse(request, "admin/budgets/dashboard.html", context)


class ScheduledOccurrenceInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ScheduledOccurrence
    fields = ("occurrence_date", "transaction", "transfer", "posted_at")
    readonly_fields = ("occurrence_date", "transaction", "transfer", "posted_at")
    extra = 0
    can_delete = False
    ordering = ["-occurrence_date"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScheduledTransaction)
class ScheduledTransactionAdmin(HouseholdScopedAdmin):
    list_display = ["__str__", "account", "amount", "next_due", "active", "household"]
    list_filter = ["active", "household"]
    search_fields = ["payee", "description"]
    list_select_related = ["account", "household"]
    readonly_fields = ["next_due"]
    inlines = [ScheduledOccurrenceInline]

    def save_model(self, request: HttpRequest, obj: ScheduledTransaction, form: Any, change: bool) -> None:
        self._require_write(request, obj.household_id)
        fields = {name: form.cleaned_data[name] for name in services.SCHEDULED_FIELDS if name in form.cleaned_data}
        if change:
            saved = services.scheduled_update(scheduled=obj, **fields)
        else:
            saved = services.scheduled_create(household=obj.household, **fields)
        obj.pk, obj.next_due = saved.pk, saved.next_due

    def delete_model(self, request: HttpRequest, obj: ScheduledTransaction) -> None:
        self._require_write(request, obj.household_id)
        services.scheduled_delete(scheduled=obj)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Global reference data: managed by staff with the model permissions."""

    list_display = ["date", "base", "quote", "rate"]
    list_filter = ["base", "quote"]
    date_hierarchy = "date"
    search_fields = ["quote", "base"]
