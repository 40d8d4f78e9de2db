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


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico; the icon is a static file, whose hashed name is known only at run time."""

    permanent = True

    def get_redirect_url(self, *args: object, **kwargs: object) -> str:
        return static("ledger/favicon.svg")


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:budgets_dashboard"), name="home"),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("financetracker.api_urls")),
]
