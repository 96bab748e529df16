"""Treatment work. For now: follow-ups (recalls). Plans, sessions, injection points and adverse events
arrive with the toxin issue and attach to `Patient` and `Encounter` the same way."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
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
    # The signed session whose protocol scheduled this review: withdrawing the session withdraws its open
    # reviews with it.
    session = models.ForeignKey(
        "TreatmentSession", null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    # blank: follow-ups made by the system or the demo loader have no author, and must still validate
    # when their status changes (booked from the recall list).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date"]
        # followup_open_due: the recall worklist reads open follow-ups in due order and stops at a page.
        indexes = [
            models.Index(fields=["patient", "status", "due_date"], name="followup_patient_due"),
            models.Index(
                fields=["status", "due_date", "id"],
                condition=models.Q(entered_in_error_at__isnull=True),
                name="followup_open_due",
            ),
        ]

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


class StockCorrection(models.TextChoices):
    RETURNED = "returned", _("Returned to the vial")
    WASTED = "wasted", _("Recorded as waste")


class TreatmentSession(ClinicalRecord):
    """A toxin session: protocol, product and vial chosen, points charted, then signed once.
    Signing deducts the units from the vial, records each point as an administration with its lot,
    and schedules the protocol's reviews."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SIGNED = "signed", _("Signed")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="toxin_sessions")
    protocol = models.CharField(_("protocol"), max_length=60)
    product = models.CharField(_("product"), max_length=40)
    vial = models.ForeignKey(
        "inventory.Vial", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = models.CharField(_("note"), max_length=500, blank=True)
    plan_check = models.JSONField(default=dict, blank=True)
    # The plan check's warnings the signer went ahead despite, each with their reason:
    # [{warning, text, params, reason, by, by_name, at}] (treatments.services.session_sign).
    acknowledgements = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    # After a signed session is withdrawn (entered in error), what was done with the units its doses took
    # from the vial: they are never returned automatically (treatments.actions.SessionStockCorrection).
    stock_correction = models.CharField(max_length=10, choices=StockCorrection.choices, blank=True)
    history = HistoricalRecords()

    error_permission = "chart_administration"

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="signed")
                | models.Q(signed_by__isnull=False, signed_at__isnull=False, vial__isnull=False),
                name="session_signed_has_signer_time_vial",
            ),
            models.CheckConstraint(
                condition=models.Q(stock_correction="")
                | models.Q(status="signed", entered_in_error_at__isnull=False),
                name="session_stock_correction_after_withdrawal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol} ({self.get_status_display()})"


class InjectionPoint(ClinicalRecord):
    """One point on a map view: position in percent of the view, so it survives zoom and screen size."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="points")
    view = models.CharField(max_length=20)
    region = models.CharField(max_length=60)
    x = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    y = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    depth = models.CharField(max_length=20)
    units = models.DecimalField(max_digits=7, decimal_places=3)
    withdrawal = models.OneToOneField(
        "inventory.Withdrawal", null=True, blank=True, on_delete=models.PROTECT, related_name="point"
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.region}: {self.units} U"


class AdverseEvent(RecordedClinicalRecord):
    class Kind(models.TextChoices):
        PTOSIS = "ptosis", _("Ptosis (eyelid or brow)")
        BRUISING = "bruising", _("Bruising")
        HEADACHE = "headache", _("Headache")
        ASYMMETRY = "asymmetry", _("Asymmetry")
        INFECTION = "infection", _("Infection")
        DISTANT_SPREAD = "distant_spread", _("Distant spread of toxin effect")
        OTHER = "other", _("Other")

    class Severity(models.TextChoices):
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")

    class Outcome(models.TextChoices):
        ONGOING = "ongoing", _("Ongoing")
        RESOLVING = "resolving", _("Resolving")
        RESOLVED = "resolved", _("Resolved")
        UNKNOWN = "unknown", _("Unknown")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="adverse_events")
    session = models.ForeignKey(
        TreatmentSession, null=True, blank=True, on_delete=models.PROTECT, related_name="adverse_events"
    )
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    onset = models.DateField(_("onset"), validators=[validate_not_future])
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.ONGOING)
    note = models.CharField(_("note"), max_length=500, blank=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display()})"


class ExternalToxinDose(RecordedClinicalRecord):
    """Botulinum toxin given outside this clinic, as the patient reported it (intake) and staff confirmed.
    Counts toward the 12-week interval and, when product and units are known, the dose limits."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="external_toxin_doses")
    given_on = models.DateField(_("given on"), validators=[validate_not_future])
    area = models.CharField(_("area"), max_length=20)
    product = models.CharField(_("product"), max_length=40, help_text=_("product id, or 'unknown'"))
    units = models.DecimalField(_("units"), max_digits=7, decimal_places=2, null=True, blank=True)
    source = models.CharField(_("source"), max_length=40, default="intake")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-given_on"]

    def __str__(self) -> str:
        return f"{self.product} {self.units or '?'} U on {self.given_on} ({self.area})"
