from django.urls import path
from rest_framework.routers import DefaultRouter

from ledger.api.rules import RuleViewSet
from uploads.api import views

router = DefaultRouter()
router.register("attachments", views.AttachmentViewSet, basename="attachment")
router.register("imports", views.StatementImportViewSet, basename="statementimport")
router.register("rules", RuleViewSet, basename="rule")

urlpatterns = [
    path("exports/transactions.csv", views.TransactionsCsvExportView.as_view(), name="export-transactions-csv"),
    *router.urls,
]
