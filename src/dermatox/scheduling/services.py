"""Every write to the calendar: book, reschedule, cancel, mark arrived / no-show / seen, and book a recall
in one click. Keyword-only, atomic, permission-checked, versioned, audited."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dermatox.accounts.models import Membership, User
from dermatox.accounts.roles import Perm, Role
from dermatox.audit.writes import require, require_same_clinic, save_audited
from dermatox.common.context import Actor
from dermatox.common.errors import Conflict, InvalidInput
from dermatox.common.validators import validate_plausible_date
from dermatox.patients.models import Encounter, Patient
from dermatox.scheduling import hours
from dermatox.scheduling.error_codes import ScheduleCode
from dermatox.scheduling.models import Appointment
from dermatox.treatments.models import FollowUp
from dermatox.treatments.services import follow_up_set_status

logger = logging.getLogger(__name__)

MIN_MINUTES = 5
MAX_MINUTES = 8 * 60
MAX_ID = 2**63 - 1  # a larger number names no row (and SQLite cannot even bind it)
CLINICAL_ROLES = (Role.PHYSICIAN, Role.NURSE)
BOOK_FIELDS = ("practitioner", "start", "end", "kind", "reason")
RESCHEDULE_FIELDS = ("practitioner", "start", "end")
# Which status may follow which (a no-show who turns up late can still be marked arrived).
TRANSITIONS = {
    Appointment.Status.BOOKED: {
        Appointment.Status.ARRIVED,
        Appointment.Status.NO_SHOW,
        Appointment.Status.FULFILLED,
    },
    Appointment.Status.ARRIVED: {Appointment.Status.FULFILLED},
    Appointment.Status.NO_SHOW: {Appointment.Status.ARRIVED},
}
# What an appointment's status means for the follow-up (recall) it was booked for.
FOLLOW_UP_AFTER = {
    Appointment.Status.ARRIVED: FollowUp.Status.BOOKED,
    Appointment.Status.FULFILLED: FollowUp.Status.DONE,
    Appointment.Status.NO_SHOW: FollowUp.Status.OPEN,
}


def _accept(data: dict, allowed: tuple[str, ...]) -> dict:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"unknown field(s): {', '.join(unknown)}", fields={k: [_("unknown field")] for k in unknown}
        )
    return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise InvalidInput.from_fields(errors)


def clinical_members(clinic_id: int):
    """Who can be booked: active physicians and nurses of the clinic."""
    return (
        Membership.objects.filter(
            clinic_id=clinic_id, active=True, user__is_active=True, role__in=CLINICAL_ROLES
        )
        .select_related("user")
        .order_by("user__full_name", "user__username")
    )


def _practitioner(clinic_id: int, value, errors: dict) -> User | None:
    if value in (None, ""):
        return None
    try:
        pk = int(value.pk if isinstance(value, User) else value)
    except (TypeError, ValueError):
        pk = None
    membership = clinical_members(clinic_id).filter(user_id=pk).first() if pk and 0 < pk <= MAX_ID else None
    if membership is None:
        errors["practitioner"] = [_("must be a physician or nurse of this clinic")]
        return None
    return membership.user


def _when(value, tz, name: str, errors: dict) -> dt.datetime | None:
    if not isinstance(value, dt.datetime):
        return None
    try:  # before any arithmetic: a year 1 or 9999 time would overflow on conversion
        validate_plausible_date(value)
    except ValidationError as exc:
        errors[name] = list(exc.messages)
        return None
    return timezone.make_aware(value, tz) if timezone.is_naive(value) else value


def _check_times(start, end, *, tz, errors: dict) -> tuple[dt.datetime | None, dt.datetime | None]:
    start, end = _when(start, tz, "start", errors), _when(end, tz, "end", errors)
    if start is None:
        errors.setdefault("start", [_("give a date and time")])
    elif start.astimezone(tz).date() < timezone.localdate(timezone=tz):
        errors["start"] = [_("must not be in the past (earlier today is allowed)")]
    if end is None:
        errors.setdefault("end", [_("give an end time or a duration")])
    elif start is not None:
        minutes = (end - start).total_seconds() / 60
        if minutes <= 0:
            errors["end"] = [_("must be after the start")]
        elif not MIN_MINUTES <= minutes <= MAX_MINUTES:
            errors["end"] = [_("an appointment lasts from 5 minutes to 8 hours")]
    return start, end


def _check_free(practitioner: User | None, start, end, *, tz, exclude_pk=None) -> None:
    """No two booked (or arrived) appointments for one practitioner at the same time. The practitioner's
    row is locked first, so two desks booking the same slot at once are serialised (PostgreSQL; SQLite's
    IMMEDIATE transactions already are)."""
    if practitioner is None:
        return
    User.objects.select_for_update().filter(pk=practitioner.pk).first()
    clash = (
        Appointment.objects.current()
        .filter(practitioner=practitioner, status__in=Appointment.ACTIVE, start__lt=end, end__gt=start)
        .exclude(pk=exclude_pk)
        .order_by("start")
        .first()
    )
    if clash is not None:
        _raise(
            {
                "start": [
                    _("%(name)s already has an appointment from %(start)s to %(end)s")
                    % {
                        "name": practitioner,
                        "start": clash.start.astimezone(tz).strftime("%H:%M"),
                        "end": clash.end.astimezone(tz).strftime("%H:%M"),
                    }
                ]
            }
        )


def _enqueue_reminder(appointment: Appointment) -> None:
    """A reminder task deferred to (start - reminder window). It is written in this transaction, so it
    exists exactly when the booking does. The periodic sweep covers backends that cannot defer."""
    from dermatox.scheduling.tasks import appointment_reminder_send

    try:
        backend = appointment_reminder_send.get_backend()
        if not backend.supports_defer:
            return
        run_after = max(
            appointment.start - dt.timedelta(hours=settings.DERMATOX_REMINDER_HOURS), timezone.now()
        )
        appointment_reminder_send.using(run_after=run_after).enqueue(
            appointment.pk, appointment.start.isoformat()
        )
    except Exception:  # the sweep sends it anyway; a queue problem must not refuse a booking
        logger.exception("could not enqueue the reminder for appointment %s", appointment.pk)


def _tz_for(actor: Actor, patient: Patient):
    return hours.clinic_tz(actor.clinic if actor.clinic is not None else patient.clinic)


@transaction.atomic
def appointment_book(
    *, actor: Actor, patient: Patient, data: dict, follow_up: FollowUp | None = None
) -> Appointment:
    """Book a patient of the actor's clinic. `data`: start, end (aware datetimes), kind, practitioner
    (a physician or nurse of the clinic, or none), reason."""
    require(actor, Perm.EDIT_APPOINTMENTS)
    require_same_clinic(actor, patient.clinic_id)
    data = _accept(data, BOOK_FIELDS)
    tz = _tz_for(actor, patient)
    errors: dict[str, list[str]] = {}
    if patient.is_entered_in_error:
        errors["patient"] = [_("this record was marked as entered in error")]
    kind = data.get("kind") or ""
    if kind not in Encounter.Kind.values:
        errors["kind"] = [_("choose one of the listed types")]
    practitioner = _practitioner(patient.clinic_id, data.get("practitioner"), errors)
    start, end = _check_times(data.get("start"), data.get("end"), tz=tz, errors=errors)
    reason = data.get("reason") or ""
    if len(reason) > 200:
        errors["reason"] = [_("at most 200 characters")]
    if follow_up is not None and follow_up.patient_id != patient.pk:
        errors["follow_up"] = [_("is not a follow-up of this patient")]
    _raise(errors)
    _check_free(practitioner, start, end, tz=tz)
    appointment = Appointment(
        clinic_id=patient.clinic_id,
        patient=patient,
        practitioner=practitioner,
        start=start,
        end=end,
        kind=kind,
        reason=reason,
        follow_up=follow_up,
        created_by=actor.acting_user,
    )
    save_audited(
        actor,
        appointment,
        action="appointment.book",
        detail={
            "start": start.isoformat(),
            "minutes": appointment.duration_minutes,
            "practitioner": practitioner.pk if practitioner else None,
            "follow_up": follow_up.pk if follow_up else None,
        },
    )
    _enqueue_reminder(appointment)
    return appointment


def _locked(actor: Actor, appointment: Appointment) -> Appointment:
    """The appointment as it is now, locked for this transaction (a copy loaded in another tab must not
    overwrite a change made meanwhile)."""
    require(actor, Perm.EDIT_APPOINTMENTS)
    require_same_clinic(actor, appointment.clinic_id)
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("patient", "clinic", "practitioner", "follow_up")
        .get(pk=appointment.pk)
    )


@transaction.atomic
def appointment_reschedule(*, actor: Actor, appointment: Appointment, data: dict) -> Appointment:
    """Move a booked appointment (and/or give it to another practitioner). A new version; the iCalendar
    SEQUENCE goes up, and the reminder is due again for the new start."""
    appointment = _locked(actor, appointment)
    if appointment.status != Appointment.Status.BOOKED:
        raise Conflict(_("Only a booked appointment can be moved."), code=ScheduleCode.NOT_BOOKED)
    data = _accept(data, RESCHEDULE_FIELDS)
    tz = hours.clinic_tz(appointment.clinic)
    errors: dict[str, list[str]] = {}
    practitioner = (
        _practitioner(appointment.clinic_id, data["practitioner"], errors)
        if "practitioner" in data
        else appointment.practitioner
    )
    start, end = _check_times(
        data.get("start", appointment.start), data.get("end", appointment.end), tz=tz, errors=errors
    )
    _raise(errors)
    if (start, end, getattr(practitioner, "pk", None)) == (
        appointment.start,
        appointment.end,
        appointment.practitioner_id,
    ):
        return appointment
    _check_free(practitioner, start, end, tz=tz, exclude_pk=appointment.pk)
    before = appointment.start
    appointment.start, appointment.end, appointment.practitioner = start, end, practitioner
    appointment.sequence += 1
    save_audited(
        actor,
        appointment,
        action="appointment.reschedule",
        detail={
            "from": before.isoformat(),
            "to": start.isoformat(),
            "minutes": appointment.duration_minutes,
            "practitioner": practitioner.pk if practitioner else None,
        },
    )
    _enqueue_reminder(appointment)
    return appointment


@transaction.atomic
def appointment_cancel(*, actor: Actor, appointment: Appointment, reason: str) -> Appointment:
    """Cancel with a reason (kept on the record and its history, not in the audit trail). A follow-up
    it was booked for goes back on the recall list."""
    appointment = _locked(actor, appointment)
    reason = (reason or "").strip()
    if not reason:
        _raise({"reason": [_("say why the appointment is cancelled")]})
    if len(reason) > 300:
        _raise({"reason": [_("at most 300 characters")]})
    if appointment.status != Appointment.Status.BOOKED:
        raise Conflict(_("Only a booked appointment can be cancelled."), code=ScheduleCode.NOT_BOOKED)
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancel_reason = reason
    appointment.sequence += 1
    save_audited(
        actor, appointment, action="appointment.cancel", detail={"start": appointment.start.isoformat()}
    )
    _follow_up_to(actor, appointment, FollowUp.Status.OPEN)
    return appointment


@transaction.atomic
def appointment_set_status(*, actor: Actor, appointment: Appointment, status: str) -> Appointment:
    """Arrived, no-show or seen (fulfilled); from the day of the appointment on."""
    appointment = _locked(actor, appointment)
    if status not in FOLLOW_UP_AFTER:
        _raise({"status": [_("must be arrived, no-show or seen")]})
    if status == appointment.status:
        return appointment
    if status not in TRANSITIONS.get(appointment.status, set()):
        raise Conflict(
            _("A %(from)s appointment cannot be marked %(to)s.")
            % {"from": appointment.get_status_display(), "to": Appointment.Status(status).label},
            code=ScheduleCode.BAD_TRANSITION,
        )
    tz = hours.clinic_tz(appointment.clinic)
    if appointment.start.astimezone(tz).date() > timezone.localdate(timezone=tz):
        _raise({"status": [_("not before the day of the appointment")]})
    before = appointment.status
    appointment.status = status
    save_audited(actor, appointment, action="appointment.status", detail={"from": before, "to": status})
    _follow_up_to(actor, appointment, FOLLOW_UP_AFTER[status])
    return appointment


def _follow_up_to(actor: Actor, appointment: Appointment, status: str) -> None:
    follow_up = appointment.follow_up
    if follow_up is None or follow_up.is_entered_in_error or follow_up.status == status:
        return
    if follow_up.status not in (FollowUp.Status.OPEN, FollowUp.Status.BOOKED):
        return  # done or cancelled by someone: leave it
    if status == FollowUp.Status.OPEN:
        others = (
            follow_up.appointments.filter(status__in=Appointment.ACTIVE).exclude(pk=appointment.pk).exists()
        )
        if others:
            return
    follow_up_set_status(actor=actor, follow_up=follow_up, status=status)


def default_practitioner(actor: Actor, members: list[Membership] | None = None) -> User | None:
    """The actor if they can be booked, else the clinic's first physician (then nurse)."""
    if members is None:
        members = list(clinical_members(actor.clinic.pk)) if actor.clinic else []
    members = list(members)
    for membership in members:
        if actor.user is not None and membership.user_id == actor.user.pk:
            return membership.user
    members.sort(key=lambda m: m.role != Role.PHYSICIAN)
    return members[0].user if members else None


@transaction.atomic
def follow_up_book(
    *,
    actor: Actor,
    follow_up: FollowUp,
    practitioner: User | int | None = None,
    start: dt.datetime | None = None,
    minutes: int = hours.SLOT_MINUTES,
) -> Appointment:
    """One click from the recall list: a follow-up appointment at `start`, or at the practitioner's next
    free 30-minute slot within clinic hours on or after the due date (and not before now). The follow-up is
    linked and marked booked."""
    require(actor, Perm.EDIT_APPOINTMENTS)
    fresh = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("patient__clinic")
        .get(pk=follow_up.pk)
    )
    require_same_clinic(actor, fresh.patient.clinic_id)
    if fresh.is_entered_in_error or fresh.status != FollowUp.Status.OPEN:
        raise Conflict(
            _("This follow-up is not open for booking (already booked or closed)."),
            code=ScheduleCode.NOT_OPEN,
        )
    patient = fresh.patient
    tz = hours.clinic_tz(patient.clinic)
    errors: dict[str, list[str]] = {}
    if practitioner in (None, ""):
        practitioner = default_practitioner(actor)
        if practitioner is None:
            _raise({"practitioner": [_("this clinic has no physician or nurse to book")]})
    else:
        practitioner = _practitioner(patient.clinic_id, practitioner, errors)
        _raise(errors)
    length = dt.timedelta(minutes=minutes)
    if start is None:
        now = timezone.now()
        earliest = max(hours.at(fresh.due_date, hours.OPENS, tz), now)
        horizon = earliest + dt.timedelta(days=hours.SEARCH_DAYS + 1)
        busy = list(
            Appointment.objects.current()
            .filter(
                practitioner=practitioner,
                status__in=Appointment.ACTIVE,
                start__lt=horizon,
                end__gt=earliest,
            )
            .values_list("start", "end")
        )
        start = hours.next_free_slot(earliest=earliest, busy=busy, tz=tz, minutes=minutes)
        if start is None:
            _raise(
                {
                    "start": [
                        _("%(name)s has no free slot in the next %(days)s days")
                        % {"name": practitioner, "days": hours.SEARCH_DAYS}
                    ]
                }
            )
    appointment = appointment_book(
        actor=actor,
        patient=patient,
        data={
            "practitioner": practitioner,
            "start": start,
            "end": start + length,
            "kind": Encounter.Kind.FOLLOW_UP,
            # Not the follow-up's reason: that is clinical text, and the appointment is read by front desk,
            # reminders and calendars. Clinicians reach it through the linked follow-up.
            "reason": "",
        },
        follow_up=fresh,
    )
    follow_up_set_status(actor=actor, follow_up=fresh, status=FollowUp.Status.BOOKED)
    return appointment
