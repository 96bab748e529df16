"""Reminder emails: appointments (DERMATOX_REMINDER_HOURS before the start) and recalls (follow-ups due
within DERMATOX_RECALL_LEAD_DAYS that nobody has booked yet).

Each one is written in the patient's preferred language. Privacy: the email says when and where (clinic
name, address, phone) and nothing else: no visit type, reason, practitioner or treatment, because email is
read on shared phones and screens. Appointment reminders carry the `.ics` invite.

Every reminder, sent or not, leaves one append-only `Reminder` row; the unique constraints on those rows
make a repeated or concurrent sweep send nothing twice (the row being reminded is locked while it is sent).
A failed send is recorded and retried by later sweeps, at most MAX_ATTEMPTS times.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from dermatox.audit.actions import action as audit_action
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.scheduling.hours import clinic_tz
from dermatox.scheduling.ics import appointment_ics, ics_filename
from dermatox.scheduling.models import Appointment, Reminder
from dermatox.treatments.models import FollowUp

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
SWEEP_LIMIT = 1000  # per kind and sweep; the next sweep takes the rest


def _language(patient) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return patient.preferred_language if patient.preferred_language in codes else settings.LANGUAGE_CODE


def _not_failed(**match):
    return Reminder.objects.filter(**match).exclude(status=Reminder.Status.FAILED)


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Send every reminder that is due at `now` and not sent yet. Returns counts such as
    {"appointment_sent": 3, "recall_skipped_no_email": 1}."""
    now = now or timezone.now()
    counts: Counter[str] = Counter()
    window_end = now + dt.timedelta(hours=settings.DERMATOX_REMINDER_HOURS)
    appointments = (
        Appointment.objects.current()
        .filter(
            status=Appointment.Status.BOOKED,
            start__gt=now,
            start__lte=window_end,
            patient__entered_in_error_at__isnull=True,
        )
        .exclude(Exists(_not_failed(appointment=OuterRef("pk"), for_start=OuterRef("start"))))
        .order_by("start")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for pk in list(appointments):
        counts[f"appointment_{appointment_remind(pk, now=now) or 'nothing'}"] += 1
    today = timezone.localdate(now)
    follow_ups = (
        FollowUp.objects.current()
        .filter(
            status=FollowUp.Status.OPEN,
            due_date__gte=today,
            due_date__lte=today + dt.timedelta(days=settings.DERMATOX_RECALL_LEAD_DAYS),
            patient__entered_in_error_at__isnull=True,
        )
        .exclude(Exists(_not_failed(follow_up=OuterRef("pk"), for_due=OuterRef("due_date"))))
        .order_by("due_date")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for pk in list(follow_ups):
        counts[f"recall_{recall_remind(pk, now=now) or 'nothing'}"] += 1
    counts.pop("appointment_nothing", None)
    counts.pop("recall_nothing", None)
    return dict(sorted(counts.items()))


def appointment_remind(
    appointment_id: int, *, for_start: dt.datetime | None = None, now: dt.datetime | None = None
) -> str | None:
    """Remind the patient of one appointment (the status recorded), or None when there is nothing to do:
    already reminded for this start, moved since (`for_start` differs: the new start has its own
    reminder), over, or no longer booked."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("patient", "clinic")
            .filter(pk=appointment_id)
            .first()
        )
        if appointment is None or appointment.is_entered_in_error or appointment.patient.is_entered_in_error:
            return None
        if for_start is not None and appointment.start != for_start:
            return None
        if _not_failed(appointment=appointment, for_start=appointment.start).exists():
            return None
        if appointment.status == Appointment.Status.CANCELLED:
            return _record(
                appointment.patient,
                Reminder.Kind.APPOINTMENT,
                Reminder.Status.SKIPPED_CANCELLED,
                now,
                appointment=appointment,
                for_start=appointment.start,
            )
        if appointment.status != Appointment.Status.BOOKED or appointment.start <= now:
            return None
        failed = appointment.reminders.filter(for_start=appointment.start, status=Reminder.Status.FAILED)
        if failed.count() >= MAX_ATTEMPTS:
            return None
        return _deliver(
            appointment.patient,
            Reminder.Kind.APPOINTMENT,
            now,
            compose=lambda: _appointment_message(appointment, now),
            appointment=appointment,
            for_start=appointment.start,
        )


def recall_remind(follow_up_id: int, *, now: dt.datetime | None = None) -> str | None:
    """Ask the patient to book a follow-up that falls due soon and is not booked."""
    now = now or timezone.now()
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("patient__clinic")
            .filter(pk=follow_up_id)
            .first()
        )
        if follow_up is None or follow_up.is_entered_in_error or follow_up.patient.is_entered_in_error:
            return None
        if follow_up.status != FollowUp.Status.OPEN:
            return None
        if _not_failed(follow_up=follow_up, for_due=follow_up.due_date).exists():
            return None
        failed = follow_up.reminders.filter(for_due=follow_up.due_date, status=Reminder.Status.FAILED)
        if failed.count() >= MAX_ATTEMPTS:
            return None
        return _deliver(
            follow_up.patient,
            Reminder.Kind.RECALL,
            now,
            compose=lambda: _recall_message(follow_up),
            follow_up=follow_up,
            for_due=follow_up.due_date,
        )


def _deliver(patient, kind: str, now: dt.datetime, *, compose, **about) -> str | None:
    if not patient.email:
        return _record(patient, kind, Reminder.Status.SKIPPED_NO_EMAIL, now, **about)
    language = _language(patient)
    with translation.override(language):
        subject, body, attachment = compose()
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[patient.email]
    )
    if attachment:
        message.attach(*attachment)
    try:
        message.send()
    except Exception as exc:  # SMTP refusal, network, bad address: recorded, retried by the next sweep
        logger.warning("reminder to patient %s failed: %s", patient.pk, exc)
        return _record(
            patient,
            kind,
            Reminder.Status.FAILED,
            now,
            to_address=patient.email,
            subject=subject,
            language=language,
            detail=f"{type(exc).__name__}: {exc}"[:500],
            **about,
        )
    return _record(
        patient,
        kind,
        Reminder.Status.SENT,
        now,
        to_address=patient.email,
        subject=subject,
        language=language,
        **about,
    )


def _record(patient, kind: str, status: str, now: dt.datetime, **fields) -> str | None:
    fields.setdefault("language", _language(patient))
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(
                clinic_id=patient.clinic_id,
                patient=patient,
                kind=kind,
                status=status,
                sent_at=now,
                **{k: (v[:200] if k == "subject" else v) for k, v in fields.items()},
            )
    except IntegrityError:  # another worker recorded it first
        return None
    audit_record(
        actor=Actor.system(clinic=patient.clinic, channel="system"),
        action=audit_action("reminder.{0}.{1}", kind, status),
        obj=reminder,
        detail={
            "appointment": reminder.appointment_id,
            "follow_up": reminder.follow_up_id,
            "language": reminder.language,
        },
    )
    return status


def _contact_lines(clinic) -> list[str]:
    lines = [clinic.name]
    if clinic.address:
        lines.append(clinic.address)
    if clinic.phone:
        lines.append(_("Phone: %(phone)s") % {"phone": clinic.phone})
    return lines


def _appointment_message(appointment: Appointment, now: dt.datetime):
    clinic, patient = appointment.clinic, appointment.patient
    local = appointment.start.astimezone(clinic_tz(clinic))
    when = {
        "clinic": clinic.name,
        "weekday": formats.date_format(local, "l"),
        "date": formats.date_format(local, "DATE_FORMAT"),
        "time": local.strftime("%H:%M"),
    }
    subject = _("Reminder: your appointment at %(clinic)s on %(date)s at %(time)s") % when
    body = "\n".join(
        [
            _("Hello %(name)s,") % {"name": patient.given_name},
            "",
            _("This is a reminder of your appointment at %(clinic)s on %(weekday)s, %(date)s at %(time)s.")
            % when,
            "",
            *_contact_lines(clinic),
            "",
            _("If you cannot come, please let us know so that we can offer the time to someone else."),
            _("The attached calendar file adds the appointment to your calendar."),
            "",
            _("This message was sent automatically; it contains no medical information."),
        ]
    )
    attachment = (ics_filename(appointment), appointment_ics(appointment, now=now), "text/calendar")
    return subject, body, attachment


def _recall_message(follow_up: FollowUp):
    patient = follow_up.patient
    clinic = patient.clinic
    values = {"clinic": clinic.name, "date": formats.date_format(follow_up.due_date, "DATE_FORMAT")}
    subject = _("Time to book your follow-up visit at %(clinic)s") % values
    body = "\n".join(
        [
            _("Hello %(name)s,") % {"name": patient.given_name},
            "",
            _("Your follow-up visit at %(clinic)s is due around %(date)s. Please contact us to book a time.")
            % values,
            "",
            *_contact_lines(clinic),
            "",
            _("This message was sent automatically; it contains no medical information."),
        ]
    )
    return subject, body, None
