"""The back office. Every page is scoped to the signed-in person's households (see `scoping`).

Non-superusers need `is_staff` and the "Household members" group (model permissions); their household
role then decides: viewers read, editors write, owners also invite people, manage memberships and delete households.
"""

from ledger.admin import accounts_and_rules, invitations, people, transactions
from ledger.admin.scoping import HOUSEHOLD_MEMBERS_GROUP, HouseholdScopedAdmin, household_members_group

__all__ = [
    "HOUSEHOLD_MEMBERS_GROUP",
    "HouseholdScopedAdmin",
    "accounts_and_rules",
    "household_members_group",
    "invitations",
    "people",
    "transactions",
]
