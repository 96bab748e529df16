"""One bulk export request and what it produced. Files live in the default storage under exports/<job>/."""

import uuid

from django.db import models

from dermatox.accounts.models import ApiToken, Clinic, User


class BulkExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"
        EXPIRED = "expired"  # its files were deleted (retention over, or the client said it was done)

    class Level(models.TextChoices):
        SYSTEM = "system"
        PATIENT = "patient"
        GROUP = "group"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    # The job belongs to the token that started it, acting as this user in this role: only that token may
    # poll, download or delete it, and only while the user still holds the role (bulk/services.py).
    token = models.ForeignKey(ApiToken, null=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, blank=True)
    level = models.CharField(max_length=10, choices=Level.choices)
    group = models.CharField(max_length=40, blank=True)
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    # The kick-off's `patient` parameter: only these patients' records are exported (empty: every patient of
    # the level). `ignored`: parameters set aside under `Prefer: handling=lenient`, each reported in the
    # manifest's `error` file as an OperationOutcome.
    patients = models.JSONField(default=list)
    ignored = models.JSONField(default=list)
    request_url = models.CharField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=100, blank=True)
    transaction_time = models.DateTimeField()
    output = models.JSONField(default=list)  # [{"type", "file", "count", "patient_ids", "error"?}]
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"$export {self.level} {self.status}"
