"""The patient chart: one read that composes the record core, observations and follow-ups.

The number of queries does not grow with the length of the history: every list is bounded, and the
timeline is paged by encounter with a (start, id) cursor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q

from dermatox.accounts.roles import Perm
from dermatox.assessments.models import Observation
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.patients.models import Consent, Encounter, Note, Patient, PregnancyStatus
from dermatox.patients.selectors import patient_get, read_detail
from dermatox.scheduling.selectors import patient_upcoming
from dermatox.treatments.selectors import FollowUpShown, follow_up_shown

PAGE_SIZE = 20
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LOOSE_ITEMS_LIMIT = 100


@dataclass
class VisitEntry:
    encounter: Encounter
    observations: list[Observation] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


@dataclass
class LooseEntry:
    """An observation or note recorded outside any visit."""

    at: dt.datetime
    observation: Observation | None = None
    note: Note | None = None


@dataclass
class TimelinePage:
    visits: list[VisitEntry]
    loose: list[LooseEntry]
    next_cursor: str | None


@dataclass
class Chart:
    patient: Patient
    clinical: bool
    identifiers: list = field(default_factory=list)
    history: list = field(default_factory=list)
    diagnoses: list = field(default_factory=list)
    medications: list = field(default_factory=list)
    allergies: list = field(default_factory=list)
    pregnancy: PregnancyStatus | None = None
    consents: list[Consent] = field(default_factory=list)
    follow_ups: list[FollowUpShown] = field(default_factory=list)  # no clinical reason for front desk
    sessions: list = field(default_factory=list)
    # Signed sessions marked entered in error whose units nobody has said what happened to yet.
    sessions_to_correct: list = field(default_factory=list)
    adverse_events: list = field(default_factory=list)
    intakes: list = field(default_factory=list)
    appointments: list = field(default_factory=list)
    timeline: TimelinePage | None = None


def _cursor_parse(cursor: str | None) -> tuple[dt.datetime, int] | None:
    if not cursor:
        return None
    try:
        micros, pk = (int(part) for part in cursor.split("_", 1))
        return EPOCH + dt.timedelta(microseconds=micros), pk
    except (ValueError, OverflowError):
        return None


def _cursor_make(encounter: Encounter) -> str:
    """An opaque, URL-safe position: microseconds since the epoch and the id, for a stable order."""
    micros = (encounter.start - EPOCH) // dt.timedelta(microseconds=1)
    return f"{micros}_{encounter.pk}"


def timeline_page(*, actor: Actor, patient: Patient, cursor: str | None = None) -> TimelinePage:
    clinical = actor.can(Perm.VIEW_CLINICAL)
    encounters_qs = Encounter.objects.filter(patient=patient).select_related("practitioner")
    position = _cursor_parse(cursor)
    if position:
        stamp, pk = position
        encounters_qs = encounters_qs.filter(Q(start__lt=stamp) | Q(start=stamp, pk__lt=pk))
    encounters = list(encounters_qs.order_by("-start", "-pk")[: PAGE_SIZE + 1])
    has_more = len(encounters) > PAGE_SIZE
    encounters = encounters[:PAGE_SIZE]
    visits = {e.pk: VisitEntry(e) for e in encounters}
    loose: list[LooseEntry] = []
    if clinical and encounters:
        for obs in Observation.objects.filter(encounter_id__in=visits).order_by("code", "-effective_at"):
            visits[obs.encounter_id].observations.append(obs)
        for note in Note.objects.filter(encounter_id__in=visits).select_related("author"):
            visits[note.encounter_id].notes.append(note)
    if clinical:
        upper = position[0] if position else None
        lower = encounters[-1].start if has_more else None
        loose += [
            LooseEntry(o.effective_at, observation=o)
            for o in Observation.objects.filter(_window("effective_at", upper, lower), patient=patient)[
                :LOOSE_ITEMS_LIMIT
            ]
        ]
        loose += [
            LooseEntry(n.written_at, note=n)
            for n in Note.objects.filter(_window("written_at", upper, lower), patient=patient).select_related(
                "author"
            )[:LOOSE_ITEMS_LIMIT]
        ]
        loose.sort(key=lambda e: e.at, reverse=True)
    next_cursor = _cursor_make(encounters[-1]) if has_more else None
    return TimelinePage(list(visits.values()), loose, next_cursor)


def _window(time_field: str, upper: dt.datetime | None, lower: dt.datetime | None) -> Q:
    """Items outside any visit that fall in the time span this page of visits covers."""
    q = Q(encounter__isnull=True)
    if upper is not None:
        q &= Q(**{f"{time_field}__lt": upper})
    if lower is not None:
        q &= Q(**{f"{time_field}__gte": lower})
    return q


def chart_get(*, actor: Actor, patient_id, cursor: str | None = None) -> Chart:
    """The chart page's data. Audited as one read of the record, naming the sections it showed."""
    clinical = actor.can(Perm.VIEW_CLINICAL)
    patient = patient_get(actor=actor, patient_id=patient_id, audit_as=None, emergency_read=True)
    chart = Chart(patient=patient, clinical=clinical)
    sections = ["demographics", "identifiers", "visits", "follow_ups"]
    chart.identifiers = list(patient.identifiers.current())
    if clinical:
        sections += ["history", "diagnoses", "medications", "allergies", "pregnancy", "observations", "notes"]
        conditions = list(patient.conditions.current().order_by("clinical_status", "-recorded_at"))
        chart.history = [c for c in conditions if c.category == "history"]
        chart.diagnoses = [c for c in conditions if c.category == "diagnosis"]
        chart.medications = list(patient.medications.current().order_by("status", "-recorded_at"))
        chart.allergies = list(patient.allergies.current())
        chart.pregnancy = patient.pregnancy_statuses.current().first()
        chart.sessions = list(patient.toxin_sessions.current().order_by("-created_at")[:10])
        chart.sessions_to_correct = list(
            patient.toxin_sessions.filter(
                entered_in_error_at__isnull=False, status="signed", stock_correction=""
            ).order_by("-signed_at")
        )
        chart.adverse_events = list(patient.adverse_events.current().order_by("-onset")[:10])
    if clinical or actor.can(Perm.RECORD_CONSENT):
        sections.append("consents")
        latest: dict[str, Consent] = {}
        for consent in patient.consents.current().order_by("-signed_at", "-pk"):
            latest.setdefault(consent.kind, consent)
        chart.consents = list(latest.values())
    if actor.can(Perm.EDIT_DEMOGRAPHICS) or clinical:
        chart.intakes = list(
            patient.intakes.current().exclude(status="cancelled").order_by("-created_at")[:3]
        )
    chart.follow_ups = [
        follow_up_shown(actor, f)
        for f in patient.follow_ups.current().filter(status__in=["open", "booked"]).order_by("due_date")[:20]
    ]
    if actor.can(Perm.VIEW_APPOINTMENTS):
        sections.append("appointments")
        chart.appointments = patient_upcoming(actor=actor, patient=patient)
    chart.timeline = timeline_page(actor=actor, patient=patient, cursor=cursor)
    audit_record(
        actor=actor, action="patient.view", obj=patient, detail=read_detail(patient, {"sections": sections})
    )
    return chart
