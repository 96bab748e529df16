"""One appointment (its page), a patient's upcoming appointments, the reviews a toxin session booked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound
from dermatox.scheduling import hours
from dermatox.scheduling.models import Appointment, Reminder
from dermatox.scheduling.selectors.scope import appointments_in_scope
from dermatox.treatments.selectors import FollowUpShown, appointment_reason_shown, follow_up_shown


@dataclass
class AppointmentView:
    appointment: Appointment
    versions: list
    reminders: list[Reminder]
    reason: str = ""  # as this reader may see it (appointment_reason_shown)
    follow_up: FollowUpShown | None = None


def appointment_get(
    *, actor: Actor, appointment_id, audit_as: str | None = "appointment.view"
) -> Appointment:
    """One appointment of the actor's clinic, or NotFound (also for another clinic's)."""
    try:
        pk = int(appointment_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such appointment") from exc
    appointment = (
        appointments_in_scope(actor)
        .select_related("patient", "practitioner", "clinic", "follow_up", "created_by")
        .filter(pk=pk)
        .first()
    )
    if appointment is None:
        raise NotFound("No such appointment")
    if audit_as:
        audit_record(actor=actor, action=audit_as, obj=appointment)
    return appointment


def appointment_page(*, actor: Actor, appointment_id) -> AppointmentView:
    appointment = appointment_get(actor=actor, appointment_id=appointment_id)
    versions = list(
        appointment.history.select_related("history_user", "practitioner").order_by(
            "-history_date", "-history_id"
        )[:20]
    )
    reminders = list(appointment.reminders.order_by("-sent_at")[:20])
    follow_up = follow_up_shown(actor, appointment.follow_up) if appointment.follow_up_id else None
    return AppointmentView(
        appointment, versions, reminders, appointment_reason_shown(actor, appointment), follow_up
    )


def patient_upcoming(*, actor: Actor, patient, limit: int = 5) -> list[Appointment]:
    """The patient's next appointments (booked or arrived, from the start of today)."""
    if not actor.can(Perm.VIEW_APPOINTMENTS):
        return []
    tz = hours.clinic_tz(actor.clinic)
    since = hours.at(timezone.localdate(timezone=tz), dt.time(0), tz)
    return list(
        Appointment.objects.current()
        .filter(patient=patient, clinic_id=patient.clinic_id, status__in=Appointment.ACTIVE, start__gte=since)
        .select_related("practitioner")
        .order_by("start")[:limit]
    )


def review_appointments(session) -> list[Appointment]:
    """Appointments still booked or arrived for the reviews a toxin session scheduled: a withdrawn
    session's page lists them, for front desk to cancel (the session is already read in scope)."""
    return list(
        Appointment.objects.current()
        .filter(follow_up__session=session, status__in=Appointment.ACTIVE)
        .select_related("practitioner")
        .order_by("start")
    )
