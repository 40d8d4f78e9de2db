from django.urls import path
from rest_framework.routers import DefaultRouter

from uploads.api import views

# The API root lists every app's routes: financetracker/api_urls.py serves it, not each router.
router = DefaultRouter()
router.include_root_view = False
router.register("attachments", views.AttachmentViewSet, basename="attachment")
router.register("imports", views.StatementImportViewSet, basename="statementimport")

urlpatterns = [
    path("exports/transactions.csv", views.TransactionsCsvExportView.as_view(), name="export-transactions-csv"),
    *router.urls,
]
