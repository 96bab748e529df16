"""Schedule pages: day and week calendar, booking, one appointment (reschedule, cancel, arrived / no-show /
seen, .ics), and the recall worklist with one-click booking. Pages render in the clinic's time zone."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.common.errors import Conflict, InvalidInput
from dermatox.patients.models import Encounter
from dermatox.patients.selectors import patient_get, patient_search
from dermatox.scheduling import hours
from dermatox.scheduling import services as sched
from dermatox.scheduling.ics import appointment_ics, ics_filename
from dermatox.scheduling.models import Appointment
from dermatox.scheduling.selectors import (
    RECALL_GROUPS,
    appointment_get,
    appointment_page,
    calendar_day,
    calendar_week,
    follow_up_get,
    recall_worklist,
)
from dermatox.web.decorators import clinic_required
from dermatox.web.decorators import require_perm as _require
from dermatox.web.forms import DATETIME, apply_errors

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
# A service's field -> the form field that shows its message.
FIELD_MAP = {"end": "duration"}


def in_clinic_time(view):
    """Forms read and pages show times in the clinic's time zone."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        with timezone.override(hours.clinic_tz(request.actor.clinic)):
            return view(request, *args, **kwargs)

    return wrapper


def _practitioner_choices(actor, members=None) -> list[tuple[str, str]]:
    members = sched.clinical_members(actor.clinic.pk) if members is None else members
    return [("", "—")] + [(str(m.user_id), str(m.user)) for m in members]


class TimeForm(forms.Form):
    practitioner = forms.TypedChoiceField(
        label=_("Practitioner"), required=False, coerce=int, empty_value=None
    )
    start = forms.DateTimeField(label=_("Start"), widget=DATETIME, input_formats=DATETIME_FORMATS)
    duration = forms.IntegerField(
        label=_("Duration (minutes)"),
        min_value=sched.MIN_MINUTES,
        max_value=sched.MAX_MINUTES,
        initial=30,
        widget=forms.NumberInput(attrs={"step": 5, "inputmode": "numeric"}),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].choices = _practitioner_choices(actor)

    def times(self) -> dict:
        start = self.cleaned_data["start"]
        return {
            "practitioner": self.cleaned_data["practitioner"],
            "start": start,
            "end": start + dt.timedelta(minutes=self.cleaned_data["duration"]),
        }


class BookingForm(TimeForm):
    patient = forms.UUIDField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Type"), choices=Encounter.Kind.choices, initial="consultation")
    reason = forms.CharField(label=_("Reason for visit"), required=False, max_length=200)

    field_order = ["patient", "practitioner", "kind", "start", "duration", "reason"]


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=300)


def _day(request, tz) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate(timezone=tz)


def _calendar_page(request, select):
    tz = hours.clinic_tz(request.actor.clinic)
    cal = select(actor=request.actor, day=_day(request, tz), practitioner=request.GET.get("practitioner"))
    practitioner_query = f"&practitioner={cal.practitioner.id}" if cal.practitioner else ""
    return render(
        request,
        "web/schedule/calendar.html",
        {
            "cal": cal,
            "pq": practitioner_query,
            "can_edit": request.actor.can(Perm.EDIT_APPOINTMENTS),
            "grid_hours": len(cal.hours),
        },
    )


@clinic_required
@in_clinic_time
def schedule_day(request):
    return _calendar_page(request, calendar_day)


@clinic_required
@in_clinic_time
def schedule_week(request):
    return _calendar_page(request, calendar_week)


@clinic_required
@in_clinic_time
@require_http_methods(["GET", "POST"])
def appointment_book(request):
    _require(request, Perm.EDIT_APPOINTMENTS)
    actor = request.actor
    source = request.POST if request.method == "POST" else request.GET
    patient = None
    if source.get("patient"):
        patient = patient_get(actor=actor, patient_id=source["patient"], audit_as=None)
    query = request.GET.get("q", "").strip()
    results = []
    if patient is None and query:
        looks_like_number = any(ch.isdigit() for ch in query)
        results = patient_search(
            actor=actor,
            text="" if looks_like_number else query,
            identifier=query if looks_like_number else "",
        )
    if request.method == "POST":
        form = BookingForm(request.POST, actor=actor)
        if patient is not None and form.is_valid():
            try:
                appointment = sched.appointment_book(
                    actor=actor,
                    patient=patient,
                    data={
                        **form.times(),
                        "kind": form.cleaned_data["kind"],
                        "reason": form.cleaned_data["reason"],
                    },
                )
            except InvalidInput as exc:
                apply_errors(form, exc, FIELD_MAP)
            else:
                messages.success(
                    request,
                    _("Booked %(patient)s on %(when)s.")
                    % {
                        "patient": patient.display_name,
                        "when": timezone.localtime(appointment.start).strftime("%Y-%m-%d %H:%M"),
                    },
                )
                return redirect("appointment-detail", appointment_id=appointment.pk)
    else:
        initial = {"patient": patient.pk if patient else None, "duration": 30, "kind": "consultation"}
        if request.GET.get("start"):
            initial["start"] = request.GET["start"]
        if request.GET.get("practitioner"):
            initial["practitioner"] = request.GET["practitioner"]
        elif default := sched.default_practitioner(actor):
            initial["practitioner"] = default.pk
        form = BookingForm(initial=initial, actor=actor)
    if patient is not None:
        # The form shows who the patient is: a read of the record.
        audit_record(actor=actor, action="patient.view_for_booking", obj=patient)
    keep = {k: request.GET[k] for k in ("start", "practitioner") if request.GET.get(k)}
    return render(
        request,
        "web/schedule/book.html",
        {"form": form, "patient": patient, "query": query, "results": results, "keep": keep},
    )


@clinic_required
@in_clinic_time
@require_http_methods(["GET", "POST"])
def appointment_detail(request, appointment_id):
    actor = request.actor
    appointment = appointment_get(actor=actor, appointment_id=appointment_id, audit_as=None)
    move_form = cancel_form = None
    if request.method == "POST":
        _require(request, Perm.EDIT_APPOINTMENTS)
        action = request.POST.get("action", "")
        try:
            if action == "reschedule":
                move_form = TimeForm(request.POST, actor=actor)
                if move_form.is_valid():
                    sched.appointment_reschedule(actor=actor, appointment=appointment, data=move_form.times())
                    messages.success(request, _("Appointment moved."))
                    return redirect("appointment-detail", appointment_id=appointment.pk)
            elif action == "cancel":
                cancel_form = CancelForm(request.POST)
                if cancel_form.is_valid():
                    sched.appointment_cancel(
                        actor=actor, appointment=appointment, reason=cancel_form.cleaned_data["reason"]
                    )
                    messages.success(request, _("Appointment cancelled."))
                    return redirect("appointment-detail", appointment_id=appointment.pk)
            elif action == "status":
                sched.appointment_set_status(
                    actor=actor, appointment=appointment, status=request.POST.get("status", "")
                )
                messages.success(request, _("Status saved."))
                return redirect("appointment-detail", appointment_id=appointment.pk)
            else:
                messages.error(request, _("Unknown action."))
        except InvalidInput as exc:
            form = move_form if action == "reschedule" else cancel_form
            if form is not None:
                apply_errors(form, exc, FIELD_MAP)
            else:
                messages.error(
                    request, " ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message
                )
        except Conflict as exc:
            messages.error(request, exc.message)
    view = appointment_page(actor=actor, appointment_id=appointment.pk)
    appointment = view.appointment
    if move_form is None:
        move_form = TimeForm(
            initial={
                "practitioner": appointment.practitioner_id,
                "start": timezone.localtime(appointment.start).strftime("%Y-%m-%dT%H:%M"),
                "duration": appointment.duration_minutes,
            },
            actor=actor,
        )
    return render(
        request,
        "web/schedule/appointment.html",
        {
            "view": view,
            "appointment": appointment,
            "patient": appointment.patient,
            "move_form": move_form,
            "cancel_form": cancel_form or CancelForm(),
            "next_statuses": sorted(sched.TRANSITIONS.get(appointment.status, ())),
            "status_labels": dict(Appointment.Status.choices),
            "can_edit": actor.can(Perm.EDIT_APPOINTMENTS),
        },
    )


@clinic_required
@in_clinic_time
def appointment_ics_download(request, appointment_id):
    appointment = appointment_get(
        actor=request.actor, appointment_id=appointment_id, audit_as="appointment.export_ics"
    )
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ics_filename(appointment)}"'
    return response


@clinic_required
@in_clinic_time
def recall(request):
    actor = request.actor
    worklist = recall_worklist(actor=actor, pages={g: request.GET.get(f"{g}_page") for g in RECALL_GROUPS})
    for name, group in worklist.groups.items():  # a group's pager keeps the other groups' pages
        query = request.GET.copy()
        query.pop(f"{name}_page", None)
        group.query = query.urlencode()
    members = list(sched.clinical_members(actor.clinic.pk))
    chosen = request.GET.get("practitioner", "")
    if not chosen and actor.can(Perm.EDIT_APPOINTMENTS):
        default = sched.default_practitioner(actor, members)
        chosen = str(default.pk) if default else ""
    return render(
        request,
        "web/schedule/recall.html",
        {
            "worklist": worklist,
            "practitioners": _practitioner_choices(actor, members)[1:],
            "chosen": chosen,
            "can_edit": actor.can(Perm.EDIT_APPOINTMENTS),
        },
    )


@clinic_required
@in_clinic_time
@require_POST
def follow_up_book(request, follow_up_id):
    follow_up = follow_up_get(actor=request.actor, follow_up_id=follow_up_id)
    _require(request, Perm.EDIT_APPOINTMENTS)
    try:
        appointment = sched.follow_up_book(
            actor=request.actor, follow_up=follow_up, practitioner=request.POST.get("practitioner") or None
        )
    except (InvalidInput, Conflict) as exc:
        fields = getattr(exc, "fields", {}) or {}
        messages.error(request, " ".join(m for msgs in fields.values() for m in msgs) or exc.message)
        return redirect("recall-worklist")
    messages.success(
        request,
        _("Booked %(patient)s on %(when)s with %(who)s. Move it below if that time does not suit.")
        % {
            "patient": follow_up.patient.display_name,
            "when": timezone.localtime(appointment.start).strftime("%Y-%m-%d %H:%M"),
            "who": appointment.practitioner,
        },
    )
    return redirect("appointment-detail", appointment_id=appointment.pk)
