from django.urls import path
from rest_framework.routers import DefaultRouter

from ledger.api import views
from ledger.api.audit import AuditEntryViewSet
from ledger.api.invitations import ReceivedInvitationViewSet
from ledger.api.rules import RuleViewSet

# The API root lists every app's routes: financetracker/api_urls.py serves it, not each router.
router = DefaultRouter()
router.include_root_view = False
router.register("households", views.HouseholdViewSet, basename="household")
router.register("accounts", views.AccountViewSet, basename="account")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("tags", views.TagViewSet, basename="tag")
router.register("transactions", views.TransactionViewSet, basename="transaction")
router.register("transfers", views.TransferViewSet, basename="transfer")
router.register("audit", AuditEntryViewSet, basename="audit")
router.register("invitations", ReceivedInvitationViewSet, basename="invitation")
router.register("rules", RuleViewSet, basename="rule")

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="api-token-obtain"),
    *router.urls,
]
