"""The base of every clinical record: never hard-deleted, only marked entered-in-error."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dermatox.common.errors import CommonCode, Conflict


class ClinicalQuerySet(models.QuerySet):
    def current(self):
        return self.filter(entered_in_error_at__isnull=True)

    def delete(self):
        raise Conflict(
            "Clinical records are never deleted; mark them entered in error", code=CommonCode.NO_DELETE
        )


class ClinicalRecord(models.Model):
    entered_in_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    entered_in_error_reason = models.CharField(_("reason"), max_length=500, blank=True, editable=False)

    objects = ClinicalQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None

    def delete(self, *args, **kwargs):
        raise Conflict(
            "Clinical records are never deleted; mark them entered in error", code=CommonCode.NO_DELETE
        )


class RecordedClinicalRecord(ClinicalRecord):
    """A clinical record that keeps who entered it and when it was entered (not when it happened)."""

    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
