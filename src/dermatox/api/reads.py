"""The reads the REST API needs, built on the apps' scoping selectors (`patients_in_scope`, `patient_get`,
`appointments_in_scope`, `session_get`) and audited like the chart: one entry per read, naming the section
and how many records were shown. Pages are offset/limit with a total count."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import PermissionDenied
from dermatox.common.text import fold
from dermatox.inventory.selectors import vials_in_scope
from dermatox.patients.models import Patient, PatientIdentifier
from dermatox.patients.selectors import patient_get, patients_matching
from dermatox.scheduling.selectors import appointments_in_scope
from dermatox.treatments.models import TreatmentSession
from dermatox.treatments.selectors import session_get, session_points_query

CURRENT_IDENTIFIERS = Prefetch("identifiers", queryset=PatientIdentifier.objects.current().order_by("pk"))


def _session_points() -> Prefetch:
    """The points each session shows (`session_points_query`), with what was administered at each."""
    return Prefetch("points", queryset=session_points_query())


@dataclass
class Slice:
    count: int
    items: list


def _slice(qs: QuerySet, offset: int, limit: int) -> Slice:
    return Slice(qs.count(), list(qs[offset : offset + limit]))


def patients_page(
    *, actor: Actor, text: str = "", birth_date: dt.date | None = None, offset: int = 0, limit: int = 50
) -> Slice:
    """The clinic's current patients, searched by name and date of birth like the UI's search."""
    qs = patients_matching(actor, text=text, birth_date=birth_date).prefetch_related(CURRENT_IDENTIFIERS)
    terms = fold(text)
    page = _slice(qs, offset, limit)
    audit_record(
        actor=actor,
        action="patient.search" if terms or birth_date else "patient.list",
        detail={
            "text": text[:100],
            "birth_date": birth_date.isoformat() if birth_date else "",
            "offset": offset,
            "results": len(page.items),
            "patient_ids": [str(p.pk) for p in page.items],
        },
    )
    return page


def patient_read(*, actor: Actor, patient_id, audit_as: str | None = "patient.view") -> Patient:
    patient = patient_get(actor=actor, patient_id=patient_id, audit_as=None)
    patient = Patient.objects.prefetch_related(CURRENT_IDENTIFIERS).get(pk=patient.pk)
    if audit_as:
        audit_record(actor=actor, action=audit_as, obj=patient, detail={"sections": ["demographics"]})
    return patient


# Which permission (any of) each section of a patient's record takes.
SECTION_PERMS: dict[str, tuple[str, ...]] = {
    "conditions": (Perm.VIEW_CLINICAL,),
    "medications": (Perm.VIEW_CLINICAL,),
    "allergies": (Perm.VIEW_CLINICAL,),
    "observations": (Perm.VIEW_CLINICAL,),
    "toxin_sessions": (Perm.VIEW_CLINICAL,),
    "consents": (Perm.VIEW_CLINICAL, Perm.RECORD_CONSENT),
    "follow_ups": (Perm.VIEW_DEMOGRAPHICS,),
    "appointments": (Perm.VIEW_APPOINTMENTS,),
}


def section_patient(*, actor: Actor, patient_id, section: str) -> Patient:
    """The patient, if the actor's role may see this section of the record (else PermissionDenied) and the
    patient is of the actor's clinic (else NotFound). Not audited here: the section read is."""
    if not any(actor.can(p) for p in SECTION_PERMS[section]):
        raise PermissionDenied(f"Your role does not give access to {section.replace('_', ' ')}")
    return patient_get(actor=actor, patient_id=patient_id, audit_as=None)


def _section_query(actor: Actor, patient: Patient, section: str, filters: dict) -> QuerySet:
    if section == "conditions":
        qs = patient.conditions.current().order_by("-recorded_at", "-pk")
        if filters.get("category"):
            qs = qs.filter(category=filters["category"])
        return qs
    if section == "medications":
        return patient.medications.current().order_by("-recorded_at", "-pk")
    if section == "allergies":
        return patient.allergies.current().order_by("-recorded_at", "-pk")
    if section == "observations":
        qs = patient.observations.current().order_by("-effective_at", "-pk")
        if filters.get("code"):
            qs = qs.filter(code=filters["code"])
        if filters.get("date_from"):
            qs = qs.filter(effective_at__date__gte=filters["date_from"])
        if filters.get("date_to"):
            qs = qs.filter(effective_at__date__lte=filters["date_to"])
        return qs
    if section == "consents":
        return patient.consents.current().order_by("-signed_at", "-pk")
    if section == "toxin_sessions":
        return (
            patient.toxin_sessions.current()
            .order_by("-created_at", "-pk")
            .prefetch_related(_session_points())
        )
    if section == "follow_ups":
        return patient.follow_ups.current().order_by("due_date", "pk")
    if section == "appointments":
        return (
            appointments_in_scope(actor)
            .filter(patient=patient)
            .select_related("practitioner", "follow_up")
            .order_by("-start", "-pk")
        )
    raise KeyError(section)


def section_page(
    *, actor: Actor, patient_id, section: str, offset: int = 0, limit: int = 50, **filters
) -> Slice:
    """One page of one section of a patient's record, audited as a view of that section."""
    patient = section_patient(actor=actor, patient_id=patient_id, section=section)
    page = _slice(_section_query(actor, patient, section, filters), offset, limit)
    audit_record(
        actor=actor,
        action="patient.view",
        obj=patient,
        detail={
            "sections": [section],
            "offset": offset,
            "results": len(page.items),
            "filters": {k: str(v) for k, v in filters.items() if v},
        },
    )
    return page


def session_read(*, actor: Actor, session_id, audit_as: str | None = "session.view") -> TreatmentSession:
    """One toxin session of the actor's clinic with its points (NotFound for another clinic's), one marked
    entered in error included (it says so), audited like the chart's session page unless `audit_as` is None
    (a write answering with the record)."""
    session = session_get(actor=actor, session_id=session_id, include_withdrawn=True)
    prefetch_related_objects([session], _session_points())
    if audit_as:
        audit_record(actor=actor, action=audit_as, obj=session, detail={"points": len(session.points.all())})
    return session


def vials_page(*, actor: Actor, product: str | None, state: str | None, offset: int, limit: int) -> Slice:
    """The clinic's vials, newest lot first; filtered by product and state (what a chart may draw from:
    `state=open&product=…`)."""
    qs = vials_in_scope(actor).order_by("-lot__received_at", "pk")
    if product:
        qs = qs.filter(lot__product=product)
    if state:
        qs = qs.filter(state=state)
    return _slice(qs, offset, limit)
