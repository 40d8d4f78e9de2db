"""The /api/v1/ surface: each app contributes its own routes."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import APIRootView

from budgets.api import urls as budgets_urls
from ledger.api import urls as ledger_urls
from uploads.api import urls as uploads_urls

# /api/v1/ names every collection of every app (each router's own root listed only its app's), the reports,
# the CSV export and the documentation. tests/ledger/test_api_root.py checks it against the URL configuration.
API_ROOT = {
    **{
        prefix: f"{basename}-list"
        for router in (ledger_urls.router, budgets_urls.router, uploads_urls.router)
        for prefix, _viewset, basename in router.registry
    },
    "reports/budget": "report-budget",
    "reports/cashflow": "report-cashflow",
    "reports/spending": "report-spending",
    "reports/net-worth": "report-net-worth",
    "reports/forecast": "report-forecast",
    "exports/transactions.csv": "export-transactions-csv",
    "auth/token": "api-token-obtain",
    "schema": "api-schema",
    "docs": "api-docs",
}

urlpatterns = [
    path("", APIRootView.as_view(api_root_dict=API_ROOT), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's initialiser as a script URL: no inline script for the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Redoc's bundled styled-components injects <style> elements it cannot give our nonce: this third-party
    # page alone may apply inline styles. Its scripts stay under the strict script-src.
    path(
        "redoc/",
        csp_replace({"style-src": [SELF, UNSAFE_INLINE]})(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
    path("", include("ledger.api.urls")),
    path("", include("budgets.api.urls")),
    path("", include("uploads.api.urls")),
]
