"""Every read of patient data goes through here: clinic scoping and read auditing live in one place."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Q, QuerySet

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound, PermissionDenied
from dermatox.common.text import fold
from dermatox.patients.models import Patient, PatientIdentifier


def patients_in_scope(actor: Actor) -> QuerySet[Patient]:
    """The only way to get at patients: those of the actor's current clinic, and only with a role that
    may see demographics. Everything patient-scoped filters through this."""
    if not actor.can(Perm.VIEW_DEMOGRAPHICS):
        raise PermissionDenied("Your role does not give access to patient records")
    if actor.clinic is None:
        return Patient.objects.none()
    return Patient.objects.filter(clinic_id=actor.clinic.pk)


def patient_identifiers_in_scope(actor: Actor) -> QuerySet[PatientIdentifier]:
    """The current identifiers of the current patients of the actor's clinic (scoped as patients_in_scope):
    what the rows of a CSV file are matched on (import) and keyed by (export)."""
    return PatientIdentifier.objects.current().filter(patient__in=patients_in_scope(actor).current())


def patient_search(
    *, actor: Actor, text: str = "", birth_date: dt.date | None = None, identifier: str = "", limit: int = 50
) -> list[Patient]:
    qs = patients_in_scope(actor).current()
    terms = fold(text)
    if terms:
        for term in terms.split():
            qs = qs.filter(search_name__contains=term)
    if birth_date:
        qs = qs.filter(birth_date=birth_date)
    identifier = identifier.strip()
    if identifier:
        qs = qs.filter(
            Q(mrn__iexact=identifier)
            | Q(identifiers__value=identifier, identifiers__entered_in_error_at__isnull=True)
        ).distinct()
    results = list(qs.order_by("family_name", "given_name", "mrn")[:limit])
    if terms or birth_date or identifier:
        audit_record(
            actor=actor,
            action="patient.search",
            detail={
                "text": text[:100],
                "birth_date": birth_date.isoformat() if birth_date else "",
                "identifier": identifier[:64],
                "results": len(results),
                "patient_ids": [str(p.pk) for p in results],
            },
        )
    return results


def patients_recent(*, actor: Actor, limit: int = 25) -> list[Patient]:
    """The clinic's most recently changed records: the list staff see before they search."""
    patients = list(patients_in_scope(actor).current().order_by("-updated_at")[:limit])
    audit_record(
        actor=actor,
        action="patient.list",
        detail={"results": len(patients), "patient_ids": [str(p.pk) for p in patients]},
    )
    return patients


def _parse_uuid(value) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound("No such patient") from exc


def patient_get(
    *, actor: Actor, patient_id, audit_as: str | None = "patient.view", detail: dict | None = None
):
    """One patient of the actor's clinic, or NotFound (also for another clinic's patient)."""
    pid = _parse_uuid(patient_id)
    patient = patients_in_scope(actor).select_related("clinic").filter(pk=pid).first()
    if patient is None:
        raise NotFound("No such patient")
    if audit_as:
        audit_record(actor=actor, action=audit_as, obj=patient, detail=detail)
    return patient


def record_get(*, actor: Actor, patient: Patient, model, pk):
    """A record of one of the patient's child models, scoped through the patient."""
    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such record") from exc
    if model is Patient:
        return patient
    record = model.objects.filter(patient=patient, pk=pk).first()
    if record is None:
        raise NotFound("No such record")
    return record
