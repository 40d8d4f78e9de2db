from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from financetracker import health, metrics_view

# What a person reads in every admin page's title and header: the product, not the framework.
admin.site.site_header = "financetracker"
admin.site.site_title = "financetracker"
admin.site.index_title = "Your money"
# "View site" leads to the dashboard rather than to a page that does not exist.
admin.site.site_url = "/"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:budgets_dashboard"), name="home"),
    path("favicon.ico", RedirectView.as_view(url=static("ledger/favicon.svg"), permanent=True), name="favicon"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("financetracker.api_urls")),
]
