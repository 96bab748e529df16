"""A patient intake: a questionnaire the patient fills in on a tablet, reviewed and confirmed by staff.

The patient reaches it through a one-time link (a random token; only its hash is stored) that expires.
The answers stay here, as submitted, with the signed consent PDF; only a nurse's or physician's
confirmation turns them into record entries, each attributed to the person who confirmed.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from dermatox.accounts.models import Clinic
from dermatox.common.records import ClinicalRecord
from dermatox.patients.models import Patient


class IntakeForm(ClinicalRecord):
    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the patient")
        SUBMITTED = "submitted", _("Submitted, to review")
        CONFIRMED = "confirmed", _("Confirmed into the record")
        CANCELLED = "cancelled", _("Cancelled")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="intakes")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    language = models.CharField(max_length=5, default="tr")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    answers = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    consent_pdf = models.FileField(upload_to="consents/%Y/%m/", blank=True)
    consent_pdf_sha256 = models.CharField(max_length=64, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["clinic", "status"], name="intake_clinic_status")]

    def __str__(self) -> str:
        return f"Intake {self.created_at:%Y-%m-%d} ({self.get_status_display()})"
