"""A schedule repeats by the day at the finest. A rule by the hour, minute or second was saved, and then every
upcoming list and forecast walked its moments (FREQ=SECONDLY: 86,400 a day since the start date): a request that
never answered, pinning a worker. Such a rule is refused on every way a schedule is written (API create and
update, the admin form posting the rule itself), with the recurrence field's message."""

from __future__ import annotations

import pytest

from budgets.models import ScheduledTransaction
from tests.factories import staff_client

pytestmark = pytest.mark.django_db

SUB_DAILY_RULES = [
    "FREQ=SECONDLY",
    "FREQ=MINUTELY;INTERVAL=5",
    "FREQ=HOURLY",
    "RRULE:FREQ=hourly",
    "FREQ=DAILY;BYHOUR=0,12",
    "FREQ=WEEKLY;BYDAY=MO;BYMINUTE=0,30",
    "FREQ=MONTHLY;BYSECOND=1",
    "RRULE:FREQ=MONTHLY\nRRULE:FREQ = MINUTELY",
]
DAY_RULES = [
    "FREQ=DAILY",
    "FREQ=WEEKLY;BYDAY=MO,TH",
    "FREQ=MONTHLY;BYMONTHDAY=-1",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
]


# The admin page's inline of posted occurrences: its management form, empty.
OCCURRENCES = {"occurrences-TOTAL_FORMS": "0", "occurrences-INITIAL_FORMS": "0"}


def schedule_body(account, recurrence: str) -> dict:
    return {"account": account.pk, "amount": "-9.99", "recurrence": recurrence, "start_date": "2024-01-01"}


@pytest.mark.parametrize("recurrence", SUB_DAILY_RULES, ids=repr)
def test_a_sub_daily_rule_is_refused_through_the_api(api, account, recurrence):
    created = api.post("/api/v1/scheduled/", schedule_body(account, recurrence), format="json")
    assert created.status_code == 400, created.content[:300]
    assert "daily at the finest" in created.json()["recurrence"][0]
    assert not ScheduledTransaction.objects.exists()
    monthly = api.post("/api/v1/scheduled/", schedule_body(account, "FREQ=MONTHLY"), format="json").json()
    changed = api.patch(f"/api/v1/scheduled/{monthly['id']}/", {"recurrence": recurrence}, format="json")
    assert changed.status_code == 400 and "daily at the finest" in changed.json()["recurrence"][0]
    assert ScheduledTransaction.objects.get().recurrence == "FREQ=MONTHLY"


def post_admin_form(owner, household, account, recurrence: str):
    form = {
        **schedule_body(account, recurrence),
        "household": household.pk,
        "frequency": "",
        "active": "on",
        **OCCURRENCES,
    }
    return staff_client(owner).post("/admin/budgets/scheduledtransaction/add/", form)


@pytest.mark.parametrize("recurrence", SUB_DAILY_RULES[:3], ids=repr)
def test_a_sub_daily_rule_posted_to_the_admin_form_is_refused(owner, household, account, recurrence):
    response = post_admin_form(owner, household, account, recurrence)
    assert response.status_code == 200 and "daily at the finest" in response.content.decode()
    assert not ScheduledTransaction.objects.exists()


@pytest.mark.parametrize("recurrence", DAY_RULES, ids=repr)
def test_rules_by_the_day_week_month_and_year_are_saved(api, account, recurrence):
    created = api.post("/api/v1/scheduled/", schedule_body(account, recurrence), format="json")
    assert created.status_code == 201, created.content[:300]


def test_the_same_admin_form_with_a_daily_rule_saves(owner, household, account):
    response = post_admin_form(owner, household, account, "FREQ=DAILY")
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ScheduledTransaction.objects.get().recurrence == "FREQ=DAILY"
