"""History: who changed which row, from which request, and what it was before. Kept after deletes."""

from __future__ import annotations

from django.db import models

from financetracker.core.tenancy import HouseholdQuerySet
from ledger.models.households import Household, User


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    IMPORT = "import", "Imported"


class AuditEntry(models.Model):
    # SET_NULL on both: an entry outlives the row, the person and even the household it describes.
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    request_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60, help_text="app_label.model")
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=200, blank=True)
    # {"field": [before, after]} for updates; the full row for creates and deletes.
    changes = models.JSONField(default=dict)
    at = models.DateTimeField(auto_now_add=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["household", "object_type", "object_id", "-at"], name="audit_object_idx"),
            models.Index(fields=["household", "-at"], name="audit_household_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"
