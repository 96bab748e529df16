"""Appointments (the clinic's calendar) and the record of every reminder sent about them or about a recall.

An appointment is a clinical record like the others: versioned (simple-history), never hard-deleted; a
cancellation is a status with a reason. A reminder row is append-only: what was sent, to whom, in which
language, or why nothing was sent.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from dermatox.accounts.models import Clinic
from dermatox.common.errors import Conflict
from dermatox.common.records import ClinicalRecord
from dermatox.common.validators import validate_plausible_date
from dermatox.patients.models import Encounter, Patient
from dermatox.scheduling.error_codes import ScheduleCode
from dermatox.treatments.models import FollowUp


class Appointment(ClinicalRecord):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        ARRIVED = "arrived", _("Arrived")
        FULFILLED = "fulfilled", _("Seen")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")

    # Calendar slots a practitioner cannot be double-booked into.
    ACTIVE = (Status.BOOKED, Status.ARRIVED)

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("practitioner"),
    )
    start = models.DateTimeField(_("start"), validators=[validate_plausible_date])
    end = models.DateTimeField(_("end"), validators=[validate_plausible_date])
    kind = models.CharField(_("type"), max_length=20, choices=Encounter.Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.BOOKED)
    reason = models.CharField(_("reason for visit"), max_length=200, blank=True)
    follow_up = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    # iCalendar SEQUENCE: goes up with every change a patient's calendar must pick up.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["clinic", "start"], name="appointment_clinic_start"),
            models.Index(fields=["practitioner", "start"], name="appointment_practitioner_start"),
            models.Index(fields=["patient", "start"], name="appointment_patient_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}"

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


class ReminderQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise Conflict("Reminders are an append-only record", code=ScheduleCode.APPEND_ONLY)

    def delete(self):
        raise Conflict("Reminders are an append-only record", code=ScheduleCode.APPEND_ONLY)


class Reminder(models.Model):
    """One reminder sent (or deliberately not sent). Append-only. The unique constraints make a repeated
    sweep idempotent: one reminder per appointment per start time (a rescheduled appointment gets a new
    one), one per follow-up per due date. A failed send does not count, so the next sweep tries again."""

    class Kind(models.TextChoices):
        APPOINTMENT = "appointment", _("Appointment")
        RECALL = "recall", _("Recall")

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED_NO_EMAIL = "skipped_no_email", _("Not sent: no email address")
        SKIPPED_CANCELLED = "skipped_cancelled", _("Not sent: cancelled")

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="reminders")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="reminders"
    )
    follow_up = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.PROTECT, related_name="reminders"
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=20, default="email")
    to_address = models.CharField(_("to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=5)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    for_start = models.DateTimeField(null=True, blank=True)
    for_due = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField()

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "for_start"],
                condition=Q(appointment__isnull=False) & ~Q(status="failed"),
                name="reminder_once_per_appointment_start",
            ),
            models.UniqueConstraint(
                fields=["follow_up", "for_due"],
                condition=Q(follow_up__isnull=False) & ~Q(status="failed"),
                name="reminder_once_per_follow_up_due",
            ),
        ]
        indexes = [models.Index(fields=["clinic", "-sent_at"], name="reminder_clinic_sent")]

    def __str__(self) -> str:
        return f"{self.kind} reminder {self.status} {self.sent_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise Conflict("Reminders are an append-only record", code=ScheduleCode.APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Conflict("Reminders are an append-only record", code=ScheduleCode.APPEND_ONLY)
