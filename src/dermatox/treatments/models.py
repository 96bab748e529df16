"""Treatment work. For now: follow-ups (recalls). Plans, sessions, injection points and adverse events
arrive with the toxin issue and attach to `Patient` and `Encounter` the same way."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from dermatox.common.records import ClinicalRecord, RecordedClinicalRecord
from dermatox.common.validators import validate_not_future, validate_plausible_date
from dermatox.patients.models import Patient


class FollowUp(ClinicalRecord):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        BOOKED = "booked", _("Booked")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="follow_ups")
    due_date = models.DateField(_("due"), validators=[validate_plausible_date])
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(_("source"), max_length=100, blank=True, help_text=_("protocol or pathway"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date"]
        indexes = [models.Index(fields=["patient", "status", "due_date"], name="followup_patient_due")]

    def __str__(self) -> str:
        return f"{self.reason} (due {self.due_date})"


class TreatmentCourse(RecordedClinicalRecord):
    """A course of acne treatment already tried: how long and how it went (the pathways' "tried and failed")."""

    class Outcome(models.TextChoices):
        INADEQUATE = "inadequate", _("Inadequate")
        PARTIAL = "partial", _("Partial")
        GOOD = "good", _("Good")
        NOT_TOLERATED = "not_tolerated", _("Not tolerated")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatment_courses")
    treatment = models.CharField(_("treatment"), max_length=40)
    weeks = models.PositiveIntegerField(_("weeks"), validators=[MaxValueValidator(520)])
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    ended_on = models.DateField(_("ended on"), null=True, blank=True, validators=[validate_not_future])
    note = models.CharField(_("note"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.treatment}: {self.weeks} weeks, {self.outcome}"
