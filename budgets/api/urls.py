from django.urls import path
from rest_framework.routers import DefaultRouter

from budgets.api import views

# The API root lists every app's routes: financetracker/api_urls.py serves it, not each router.
router = DefaultRouter()
router.include_root_view = False
router.register("budgets", views.BudgetViewSet, basename="budget")
router.register("scheduled", views.ScheduledTransactionViewSet, basename="scheduled")
router.register("exchange-rates", views.ExchangeRateViewSet, basename="exchange-rate")

urlpatterns = [
    path("reports/budget/", views.BudgetReportView.as_view(), name="report-budget"),
    path("reports/cashflow/", views.CashflowReportView.as_view(), name="report-cashflow"),
    path("reports/spending/", views.SpendingReportView.as_view(), name="report-spending"),
    path("reports/net-worth/", views.NetWorthReportView.as_view(), name="report-net-worth"),
    path("reports/forecast/", views.ForecastReportView.as_view(), name="report-forecast"),
    *router.urls,
]
