"""Failed logins are counted. (A person's household is made by `user_sign_up`, not by a signal on User.)"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver


@receiver(user_login_failed, dispatch_uid="ledger.count_login_failures")
def count_login_failure(sender: object, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # By channel only: never the username (a label per guessed name would be unbounded and personal).
    from financetracker.core.metrics import login_failures

    path = getattr(request, "path", "") or ""
    channel = "api" if path.startswith("/api/") else "admin" if path.startswith("/admin/") else "other"
    login_failures.labels(channel=channel).inc()
