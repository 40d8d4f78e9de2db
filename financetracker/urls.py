from django.contrib import admin
from django.urls import include, path

from financetracker import health, metrics_view

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("financetracker.api_urls")),
]
