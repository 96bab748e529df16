"""The patient record core: who the patient is, their history, consents, visits, diagnoses and notes.

Every model keeps full version history (simple-history) and is never hard-deleted: corrections are
new versions, and mistakes are marked entered-in-error with who and why (see `ClinicalRecord`).
Later issues (pathways, toxin sessions, labs, images) hang off `Patient` and `Encounter`.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from dermatox.accounts.models import Clinic
from dermatox.common.records import ClinicalRecord, RecordedClinicalRecord
from dermatox.common.validators import validate_not_future, validate_plausible_date
from dermatox.patients.validators import phone_validator, validate_birth_date, validate_has_letter


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    INTERSEX = "intersex", _("Intersex")
    UNKNOWN = "unknown", _("Unknown")


class Language(models.TextChoices):
    EN = "en", "English"
    TR = "tr", "Türkçe"


class Patient(ClinicalRecord):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField(_("record number"), max_length=32, editable=False)
    given_name = models.CharField(_("given name"), max_length=100, validators=[validate_has_letter])
    family_name = models.CharField(_("family name"), max_length=100, validators=[validate_has_letter])
    sex_at_birth = models.CharField(_("sex at birth"), max_length=10, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"), validators=[validate_birth_date])
    phone = models.CharField(_("phone"), max_length=32, blank=True, validators=[phone_validator])
    email = models.EmailField(_("email"), max_length=254, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=Language.choices, default=Language.TR
    )
    # Case- and accent-folded "given family" name, kept by the service, so search works for Turkish names
    # on SQLite and PostgreSQL alike.
    search_name = models.CharField(max_length=210, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "mrn"], name="mrn_unique_per_clinic")]
        # The clinic's current patients in list order (name, record number) and most recently changed first:
        # a page of them reads a few index entries, however many patients the chain has. Name search
        # (`search_name` contains) has a trigram index on PostgreSQL (migration 0005).
        indexes = [
            models.Index(fields=["clinic", "birth_date"], name="patient_clinic_dob"),
            models.Index(
                fields=["clinic", "family_name", "given_name", "mrn"],
                condition=models.Q(entered_in_error_at__isnull=True),
                name="patient_clinic_name",
            ),
            models.Index(
                fields=["clinic", "-updated_at"],
                condition=models.Q(entered_in_error_at__isnull=True),
                name="patient_clinic_updated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class IdentifierSystem(models.TextChoices):
    NATIONAL_ID = "national_id", _("National ID")
    PASSPORT = "passport", _("Passport")
    INSURANCE = "insurance", _("Insurance number")
    OTHER = "other", _("Other")


class PatientIdentifier(ClinicalRecord):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="identifiers")
    system = models.CharField(_("type"), max_length=20, choices=IdentifierSystem.choices)
    value = models.CharField(_("value"), max_length=64)
    history = HistoricalRecords()

    class Meta:
        indexes = [models.Index(fields=["value"], name="identifier_value")]

    def __str__(self) -> str:
        return f"{self.get_system_display()}: {self.value}"


class Encounter(ClinicalRecord):
    class Kind(models.TextChoices):
        CONSULTATION = "consultation", _("Consultation")
        TREATMENT = "treatment", _("Treatment session")
        FOLLOW_UP = "follow_up", _("Follow-up")
        LAB = "lab", _("Lab / measurement")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ARRIVED = "arrived", _("Arrived")
        IN_PROGRESS = "in_progress", _("In progress")
        FINISHED = "finished", _("Finished")
        CANCELLED = "cancelled", _("Cancelled")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="encounters")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="encounters")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.FINISHED)
    start = models.DateTimeField(_("start"), validators=[validate_plausible_date])
    end = models.DateTimeField(_("end"), null=True, blank=True, validators=[validate_plausible_date])
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("practitioner"),
    )
    reason = models.CharField(_("reason for visit"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-start"]
        indexes = [models.Index(fields=["patient", "-start"], name="encounter_patient_start")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start:%Y-%m-%d}"


class Condition(RecordedClinicalRecord):
    """A past or current condition (history) or a coded diagnosis made at a visit."""

    class Category(models.TextChoices):
        HISTORY = "history", _("Medical history")
        DIAGNOSIS = "diagnosis", _("Diagnosis")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RESOLVED = "resolved", _("Resolved")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="conditions")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    code = models.CharField(_("code"), max_length=64, blank=True, help_text=_("Dermatox condition id"))
    text = models.CharField(_("description"), max_length=200)
    icd10 = models.CharField("ICD-10", max_length=10, blank=True)
    snomed = models.CharField("SNOMED CT", max_length=20, blank=True)
    clinical_status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    onset_date = models.DateField(_("onset"), null=True, blank=True, validators=[validate_not_future])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return self.text


class MedicationStatement(RecordedClinicalRecord):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Taking")
        STOPPED = "stopped", _("Stopped")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="medications")
    code = models.CharField(_("code"), max_length=64, blank=True, help_text=_("Dermatox medication class id"))
    name = models.CharField(_("medication"), max_length=200)
    dose = models.CharField(_("dose and frequency"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    start_date = models.DateField(_("started"), null=True, blank=True, validators=[validate_not_future])
    end_date = models.DateField(_("stopped"), null=True, blank=True, validators=[validate_plausible_date])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.dose}".strip()


class Allergy(RecordedClinicalRecord):
    class Criticality(models.TextChoices):
        LOW = "low", _("Low")
        HIGH = "high", _("High")
        UNKNOWN = "unknown", _("Unknown")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="allergies")
    code = models.CharField(_("code"), max_length=64, blank=True, help_text=_("Dermatox substance id"))
    substance = models.CharField(_("substance"), max_length=200)
    reaction = models.CharField(_("reaction"), max_length=200, blank=True)
    criticality = models.CharField(
        _("criticality"), max_length=10, choices=Criticality.choices, default=Criticality.UNKNOWN
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name_plural = "allergies"

    def __str__(self) -> str:
        return self.substance


class YesNoUnknown(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class PregnancyStatus(RecordedClinicalRecord):
    """Pregnancy and breastfeeding as stated on a date: toxin rules need to know how fresh it is."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="pregnancy_statuses")
    pregnant = models.CharField(_("pregnant"), max_length=10, choices=YesNoUnknown.choices)
    breastfeeding = models.CharField(_("breastfeeding"), max_length=10, choices=YesNoUnknown.choices)
    # Unknown: the rules assume it from age (12-55, shown as an assumption); "no" after menopause, a
    # hysterectomy or similar. Tubal ligation does not remove it (clinical.md §12.3).
    can_become_pregnant = models.CharField(
        _("can become pregnant"), max_length=10, choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN
    )
    trimester = models.PositiveSmallIntegerField(
        _("trimester"), null=True, blank=True, choices=[(1, "1"), (2, "2"), (3, "3")]
    )
    recorded_on = models.DateField(_("recorded on"), validators=[validate_not_future])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-recorded_on", "-recorded_at"]

    def clean(self):
        super().clean()
        if self.trimester and self.pregnant != YesNoUnknown.YES:
            raise ValidationError({"trimester": _("A trimester is given only when the patient is pregnant.")})
        if self.pregnant == YesNoUnknown.YES and self.can_become_pregnant == YesNoUnknown.NO:
            raise ValidationError(
                {"can_become_pregnant": _("A pregnant patient can become pregnant: answer yes or unknown.")}
            )

    def __str__(self) -> str:
        return f"pregnant: {self.pregnant}, breastfeeding: {self.breastfeeding} ({self.recorded_on})"


class Consent(RecordedClinicalRecord):
    """One decision on one kind of consent. The current state of a kind is its latest decision."""

    class Kind(models.TextChoices):
        TREATMENT = "treatment", _("Treatment")
        PHOTOGRAPHY = "photography", _("Clinical photography")
        PHOTO_TEACHING_MARKETING = "photo_teaching_marketing", _("Use of photos for teaching / marketing")

    class Decision(models.TextChoices):
        GRANTED = "granted", _("Granted")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(_("consent for"), max_length=30, choices=Kind.choices)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    scope = models.CharField(_("scope / treatment"), max_length=200, blank=True)
    signed_at = models.DateTimeField(_("signed at"), validators=[validate_not_future])
    signer_name = models.CharField(_("signed by"), max_length=150)
    document = models.FileField(_("signed document"), upload_to="consents/%Y/%m/", blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_decision_display()}"


class Note(ClinicalRecord):
    class Kind(models.TextChoices):
        PROGRESS = "progress", _("Progress note")
        ASSESSMENT = "assessment", _("Assessment")
        PLAN = "plan", _("Plan")
        ADMIN = "admin", _("Administrative")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="notes")
    encounter = models.ForeignKey(
        Encounter, null=True, blank=True, on_delete=models.PROTECT, related_name="notes"
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.PROGRESS)
    text = models.TextField(_("note"), max_length=10000, validators=[MaxLengthValidator(10000)])
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    written_at = models.DateTimeField(_("written at"), validators=[validate_not_future])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-written_at"]
        indexes = [models.Index(fields=["patient", "-written_at"], name="note_patient_written")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.written_at:%Y-%m-%d %H:%M}"


class EmergencyAccess(models.Model):
    """Break-the-glass: a physician reads a patient of another clinic of the same chain, for a stated reason
    and a limited time (docs/security/emergency-access.md).

    Append-only in spirit: rows are created by `emergency_access_begin` and only ever touched again to
    end a grant early (`ended_at`); the reason is never edited. The audit entry written with each grant
    (hash-chained) is the tamper-evident copy."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="+", help_text=_("The physician's clinic")
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="emergency_accesses")
    reason = models.TextField(_("reason"), max_length=500)
    started_at = models.DateTimeField(_("started at"))
    ends_at = models.DateTimeField(_("ends at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["user", "patient", "ends_at"], name="emergency_access_grant")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("started_at")),
                name="emergency_access_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.patient_id} ({self.started_at:%Y-%m-%d %H:%M})"

    @property
    def running(self) -> bool:
        return self.ended_at is None and self.started_at <= timezone.now() < self.ends_at
