"""Change list behaviour every admin list shares, whichever app's model it shows."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpRequest

from financetracker.core.dates import DATE_RANGE_MESSAGE, EARLIEST_DATE, LATEST_DATE


class BoundedDateHierarchyMixin:
    """A date hierarchy's year (`?date__year=9999`) within the books' range. Django filters a year up to the
    start of the next one, and the year after 9999 does not exist (a 500); out of range it now answers the
    admin's own "incorrect lookup" redirect, as for any other unusable filter. Mixed in before ModelAdmin."""

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        field = getattr(self, "date_hierarchy", None)
        year = request.GET.get(f"{field}__year") if field else None
        if year is not None and year.strip().isdigit() and not EARLIEST_DATE.year <= int(year) <= LATEST_DATE.year:
            raise IncorrectLookupParameters(DATE_RANGE_MESSAGE)
        model_admin: Any = super()
        return model_admin.get_changelist_instance(request)
