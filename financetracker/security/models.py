from __future__ import annotations

from django.db import models


class RateLimitWindow(models.Model):
    """One fixed-window counter a row: kept in PostgreSQL so a rate limit holds while Redis is down."""

    key = models.CharField(max_length=200, primary_key=True)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["window_start"], name="security_ratelimit_window_idx")]

    def __str__(self) -> str:
        return f"{self.key}: {self.hits} since {self.window_start:%Y-%m-%d %H:%M:%S}"
