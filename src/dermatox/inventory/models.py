"""Toxin stock: lots, vials, and every unit taken from a vial (administered or wasted).

A vial's remaining units never go below zero and a vial is never used after its lot's expiry or its
beyond-use time: both are enforced in `services.vial_deduct` under a row lock, and by a database check.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from dermatox.accounts.models import Clinic
from dermatox.common.records import ClinicalRecord
from dermatox.patients.models import Patient

LABEL_BEYOND_USE_HOURS = 24  # labels: use within 24 h of reconstitution (clinical.md §8.1)
CONSENSUS_MAX_BEYOND_USE_HOURS = 4 * 7 * 24  # ASDS consensus (Alam 2015): >= 4 weeks refrigerated (§8.2)


class InventoryPolicy(models.Model):
    """A clinic's rule for how long a reconstituted vial may be used."""

    clinic = models.OneToOneField(Clinic, on_delete=models.PROTECT, related_name="inventory_policy")
    beyond_use_hours = models.PositiveIntegerField(
        _("use reconstituted vials for (hours)"),
        default=LABEL_BEYOND_USE_HOURS,
        validators=[MinValueValidator(1), MaxValueValidator(CONSENSUS_MAX_BEYOND_USE_HOURS)],
        help_text=_("Label: 24 h. The ASDS consensus (Alam 2015) supports up to 4 weeks refrigerated."),
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.clinic}: {self.beyond_use_hours} h"


class Lot(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="toxin_lots")
    product = models.CharField(_("product"), max_length=40)
    lot_number = models.CharField(_("lot number"), max_length=40)
    expiry = models.DateField(_("expiry"))
    received_at = models.DateTimeField(auto_now_add=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "product", "lot_number"], name="lot_unique_per_clinic")
        ]
        indexes = [models.Index(fields=["lot_number"], name="lot_number_idx")]

    def __str__(self) -> str:
        return f"{self.product} lot {self.lot_number} (exp. {self.expiry})"


class Vial(models.Model):
    class State(models.TextChoices):
        SEALED = "sealed", _("Sealed")
        OPEN = "open", _("Open (reconstituted)")
        EMPTY = "empty", _("Empty")
        DISCARDED = "discarded", _("Discarded")

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="vials")
    vial_units = models.PositiveIntegerField(_("units in the vial"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.SEALED)
    diluent_ml = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    beyond_use_at = models.DateTimeField(null=True, blank=True)
    remaining_units = models.DecimalField(max_digits=8, decimal_places=3)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remaining_units__gte=0), name="vial_units_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Vial #{self.pk} of {self.lot} ({self.remaining_units} U left)"

    @property
    def units_per_0_1_ml(self) -> Decimal | None:
        return None if not self.diluent_ml else Decimal(self.vial_units) / self.diluent_ml / 10


class Withdrawal(ClinicalRecord):
    """Units taken from a vial: given to a patient, or wasted."""

    class Reason(models.TextChoices):
        ADMINISTERED = "administered", _("Administered")
        WASTED = "wasted", _("Wasted")

    vial = models.ForeignKey(Vial, on_delete=models.PROTECT, related_name="withdrawals")
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="toxin_withdrawals"
    )
    units = models.DecimalField(max_digits=8, decimal_places=3)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        indexes = [models.Index(fields=["vial", "patient"], name="withdrawal_vial_patient")]

    def __str__(self) -> str:
        return f"{self.units} U {self.reason}"
