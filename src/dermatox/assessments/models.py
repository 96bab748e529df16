"""Observations: every typed measurement of this domain (shedding counts, scales, sebum, later labs).

What an observation code means (its value type, unit, range, LOINC) lives in the clinical package's
data file `observation_types.toml`; the service validates against it before anything is written.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from dermatox.common.records import ClinicalRecord, RecordedClinicalRecord
from dermatox.common.validators import validate_not_future
from dermatox.patients.models import Encounter, Patient


class Observation(RecordedClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="observations")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="observations"
    )
    code = models.CharField(_("measurement"), max_length=64, db_index=True)
    loinc = models.CharField("LOINC", max_length=16, blank=True)
    value_number = models.DecimalField(_("value"), max_digits=12, decimal_places=4, null=True, blank=True)
    value_code = models.CharField(_("value"), max_length=32, blank=True)
    unit = models.CharField(_("unit (UCUM)"), max_length=32, blank=True)
    method = models.CharField(_("method"), max_length=100, blank=True)
    body_site = models.CharField(_("body site"), max_length=64, blank=True)
    device = models.CharField(_("device"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Parts of a composite score, e.g. GAGS region grades {"forehead": 2, ...} (FHIR Observation.component).
    components = models.JSONField(_("components"), default=dict, blank=True)
    effective_at = models.DateTimeField(_("measured at"), validators=[validate_not_future])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-effective_at"]
        indexes = [
            models.Index(fields=["patient", "-effective_at"], name="obs_patient_effective"),
            models.Index(fields=["patient", "code", "-effective_at"], name="obs_patient_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.value_number if self.value_number is not None else self.value_code}"


class AssessmentSnapshot(ClinicalRecord):
    """A physician-signed copy of one pathways assessment: the case as built from the record, the engine's
    result, the engine version and a content hash. Never edited; a new assessment is a new snapshot."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessment_snapshots")
    as_of = models.DateField(_("as of"))
    case = models.JSONField()
    result = models.JSONField()
    missing = models.JSONField(default=list)
    engine_version = models.CharField(max_length=20)
    content_hash = models.CharField(max_length=64)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    history = HistoricalRecords()

    error_permission = "sign_plan"  # only a physician may withdraw a signed assessment

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"Assessment {self.as_of} signed {self.signed_at:%Y-%m-%d %H:%M}"
