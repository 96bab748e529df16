"""Every write to the patient record core. Keyword-only, atomic, permission-checked, versioned, audited."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from dermatox.accounts.models import Clinic
from dermatox.accounts.roles import Perm
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.common.records import ClinicalRecord
from dermatox.common.text import fold
from dermatox.common.writes import mark_entered_in_error, require, require_same_clinic, save_audited, validate
from dermatox.patients.models import (
    Allergy,
    Condition,
    Consent,
    Encounter,
    MedicationStatement,
    Note,
    Patient,
    PatientIdentifier,
    PregnancyStatus,
)

PATIENT_FIELDS = (
    "given_name",
    "family_name",
    "sex_at_birth",
    "birth_date",
    "phone",
    "email",
    "address",
    "preferred_language",
)


def _strip(data: dict) -> dict:
    return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


def _next_mrn(clinic: Clinic) -> str:
    # Row lock on PostgreSQL; SQLite's IMMEDIATE transaction already serialises writers.
    locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
    number = locked.next_patient_number
    Clinic.objects.filter(pk=clinic.pk).update(next_patient_number=number + 1)
    return f"{clinic.code.upper()}-{number:06d}"


@transaction.atomic
def patient_create(*, actor: Actor, data: dict, identifiers: list[tuple[str, str]] = ()) -> Patient:
    require(actor, Perm.EDIT_DEMOGRAPHICS)
    unknown = set(data) - set(PATIENT_FIELDS)
    if unknown:
        raise InvalidInput(
            f"unknown field(s): {', '.join(sorted(unknown))}", fields={k: ["unknown field"] for k in unknown}
        )
    patient = Patient(clinic=actor.clinic, **_strip(data))
    patient.search_name = fold(f"{patient.given_name} {patient.family_name}")
    patient.mrn = "pending"
    validate(patient, exclude=["clinic"])
    patient.mrn = _next_mrn(actor.clinic)
    save_audited(actor, patient, action="patient.create", detail={"mrn": patient.mrn})
    for system, value in identifiers:
        identifier_add(actor=actor, patient=patient, system=system, value=value)
    return patient


@transaction.atomic
def patient_update(*, actor: Actor, patient: Patient, data: dict) -> Patient:
    require(actor, Perm.EDIT_DEMOGRAPHICS)
    require_same_clinic(actor, patient.clinic_id)
    data = _strip(data)
    changed = sorted(k for k in PATIENT_FIELDS if k in data and getattr(patient, k) != data[k])
    for key in PATIENT_FIELDS:
        if key in data:
            setattr(patient, key, data[key])
    patient.search_name = fold(f"{patient.given_name} {patient.family_name}")
    return save_audited(actor, patient, action="patient.update", detail={"changed": changed})


@transaction.atomic
def identifier_add(*, actor: Actor, patient: Patient, system: str, value: str) -> PatientIdentifier:
    require(actor, Perm.EDIT_DEMOGRAPHICS)
    require_same_clinic(actor, patient.clinic_id)
    identifier = PatientIdentifier(patient=patient, system=system, value=(value or "").strip())
    return save_audited(actor, identifier, action="identifier.add", detail={"system": system})


def _add(actor: Actor, patient: Patient, record: ClinicalRecord, perm: str, action: str) -> ClinicalRecord:
    require(actor, perm)
    require_same_clinic(actor, patient.clinic_id)
    record.patient = patient
    return save_audited(actor, record, action=action)


def _user(actor: Actor):
    return actor.user if actor.user is not None and actor.user.pk else None


@transaction.atomic
def encounter_create(*, actor: Actor, patient: Patient, data: dict) -> Encounter:
    encounter = Encounter(clinic_id=patient.clinic_id, **_strip(data))
    if encounter.end and encounter.start and encounter.end < encounter.start:
        raise InvalidInput("end: must not be before start", fields={"end": ["must not be before the start"]})
    return _add(actor, patient, encounter, Perm.EDIT_APPOINTMENTS, "encounter.create")


@transaction.atomic
def condition_add(*, actor: Actor, patient: Patient, data: dict) -> Condition:
    record = Condition(recorded_by=_user(actor), **_strip(data))
    return _add(actor, patient, record, Perm.EDIT_CLINICAL, f"condition.add.{record.category}")


@transaction.atomic
def medication_add(*, actor: Actor, patient: Patient, data: dict) -> MedicationStatement:
    record = MedicationStatement(recorded_by=_user(actor), **_strip(data))
    if record.end_date and record.start_date and record.end_date < record.start_date:
        raise InvalidInput(
            "end_date: before start", fields={"end_date": ["must not be before the start date"]}
        )
    return _add(actor, patient, record, Perm.EDIT_CLINICAL, "medication.add")


@transaction.atomic
def allergy_add(*, actor: Actor, patient: Patient, data: dict) -> Allergy:
    record = Allergy(recorded_by=_user(actor), **_strip(data))
    return _add(actor, patient, record, Perm.EDIT_CLINICAL, "allergy.add")


@transaction.atomic
def pregnancy_status_record(*, actor: Actor, patient: Patient, data: dict) -> PregnancyStatus:
    record = PregnancyStatus(recorded_by=_user(actor), **_strip(data))
    if record.recorded_on and record.recorded_on > timezone.localdate():
        raise InvalidInput(
            "recorded_on: in the future", fields={"recorded_on": ["must not be in the future"]}
        )
    return _add(actor, patient, record, Perm.EDIT_CLINICAL, "pregnancy_status.record")


@transaction.atomic
def consent_record(*, actor: Actor, patient: Patient, data: dict) -> Consent:
    record = Consent(recorded_by=_user(actor), **_strip(data))
    if record.signed_at and record.signed_at > timezone.now():
        raise InvalidInput("signed_at: in the future", fields={"signed_at": ["must not be in the future"]})
    return _add(actor, patient, record, Perm.RECORD_CONSENT, f"consent.{record.kind}.{record.decision}")


@transaction.atomic
def note_add(*, actor: Actor, patient: Patient, data: dict) -> Note:
    data = _strip(data)
    data.setdefault("written_at", timezone.now())
    record = Note(author=_user(actor), **data)
    if record.encounter_id and record.encounter.patient_id != patient.pk:
        raise InvalidInput(
            "encounter: another patient's", fields={"encounter": ["belongs to another patient"]}
        )
    return _add(actor, patient, record, Perm.EDIT_CLINICAL, "note.add")


# Which permission it takes to mark each kind of record entered in error.
ERROR_PERMS = {
    Patient: Perm.EDIT_DEMOGRAPHICS,
    PatientIdentifier: Perm.EDIT_DEMOGRAPHICS,
    Encounter: Perm.EDIT_APPOINTMENTS,
    Consent: Perm.RECORD_CONSENT,
}


def entered_in_error_permission(model: type) -> str:
    return ERROR_PERMS.get(model, Perm.EDIT_CLINICAL)


@transaction.atomic
def record_mark_entered_in_error(*, actor: Actor, record: ClinicalRecord, reason: str) -> ClinicalRecord:
    require(actor, entered_in_error_permission(type(record)))
    clinic_id = record.clinic_id if isinstance(record, Patient) else record.patient.clinic_id
    require_same_clinic(actor, clinic_id)
    return mark_entered_in_error(actor, record, reason=reason)
