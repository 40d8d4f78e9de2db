"""The shared core every app builds on: what ledger, budgets and uploads all need, and nothing domain-specific.

What belongs here (and only this):

- `tenancy`: the one restriction mechanism — roles, policies, `may`, `HouseholdQuerySet.restrict`, `GlobalQuerySet`
  for shared reference data, the abstract `HouseholdOwned` base;
- `money` (currencies, exact amounts, display) and `dates` (the accepted date range);
- `maintenance` (upkeep after bulk writes that autovacuum would otherwise owe: GIN pending lists);
- `errors` (`ConflictError`), `request_context` (request id, user and household bound to logs and audit);
- `metrics` (every business metric, whichever app counts it) and `registries` (the declared cross-app hooks,
  filled in each app's `AppConfig.ready()`);
- `api/`: the bases of every API view and serializer (`HouseholdScopedViewSet`, strict serializers, bounded
  parsers and fields, permissions, pagination, the error handler and middleware); `admin/`: the admin theme's form
  mixin and the change lists' bounded date hierarchy; `templatetags/money.py` (`{% load money %}`).

Rules: the core imports no app (`ledger`, `budgets`, `uploads`), not even inside a function; where it needs a
concrete model it names it by label (`"ledger.Household"`) as Django names `AUTH_USER_MODEL`. It has no models
and no migrations: models live in their apps. `tests/test_app_dependencies.py` enforces both.
"""
