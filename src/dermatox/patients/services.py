"""Every write to the patient record core. Keyword-only, atomic, permission-checked, versioned, audited."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from dermatox.accounts.models import Clinic
from dermatox.accounts.roles import Perm
from dermatox.audit.actions import action as audit_action
from dermatox.audit.writes import require, require_same_clinic, save_audited, validate, withdraw
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.common.records import ClinicalRecord
from dermatox.common.text import fold
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


def _accept(data: dict, allowed: tuple[str, ...]) -> dict:
    """The caller's fields, trimmed; a field this service does not take is an error, never ignored
    (so nobody can set `clinic`, `recorded_by` or `entered_in_error_*` through a form or an API)."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"unknown field(s): {', '.join(unknown)}", fields={k: ["unknown field"] for k in unknown}
        )
    return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


def _search_name(patient: Patient) -> str:
    # Bounded like the column: folding can lengthen exotic characters; the search needs only a prefix.
    return fold(f"{patient.given_name} {patient.family_name}")[
        : Patient._meta.get_field("search_name").max_length
    ]


def _next_mrn(clinic: Clinic) -> str:
    # Row lock on PostgreSQL; SQLite's IMMEDIATE transaction already serialises writers.
    locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
    number = locked.next_patient_number
    Clinic.objects.filter(pk=clinic.pk).update(next_patient_number=number + 1)
    return f"{clinic.code.upper()}-{number:06d}"


@transaction.atomic
def patient_create(*, actor: Actor, data: dict, identifiers: list[tuple[str, str]] = ()) -> Patient:
    require(actor, Perm.EDIT_DEMOGRAPHICS)
    patient = Patient(clinic=actor.clinic, **_accept(data, PATIENT_FIELDS))
    patient.search_name = _search_name(patient)
    patient.mrn = "pending"
    validate(patient, exclude=["clinic"])
    patient.mrn = _next_mrn(actor.clinic)
    save_audited(actor, patient, action="patient.create", detail={"mrn": patient.mrn})
    for system, value in identifiers:
        identifier_add(actor=actor, patient=patient, system=system, value=value)
    return patient


@transaction.atomic
def patient_update(*, actor: Actor, patient: Patient, data: dict) -> Patient:
    """Apply changed demographics as a new version. A save that changes nothing writes nothing."""
    require(actor, Perm.EDIT_DEMOGRAPHICS)
    require_same_clinic(actor, patient.clinic_id)
    data = _accept(data, PATIENT_FIELDS)
    # Compare with the stored row: a bound ModelForm has already copied its values onto `patient`.
    stored = Patient.objects.get(pk=patient.pk)
    for key, value in data.items():
        setattr(patient, key, value)
    validate(patient)
    changed = sorted(k for k in PATIENT_FIELDS if getattr(stored, k) != getattr(patient, k))
    if not changed:
        return patient
    patient.search_name = _search_name(patient)
    return save_audited(actor, patient, action="patient.update", detail={"changed": changed})


@transaction.atomic
def identifier_add(*, actor: Actor, patient: Patient, system: str, value: str) -> PatientIdentifier:
    require(actor, Perm.EDIT_DEMOGRAPHICS)
    require_same_clinic(actor, patient.clinic_id)
    identifier = PatientIdentifier(patient=patient, system=system, value=(value or "").strip())
    return save_audited(actor, identifier, action="identifier.add", detail={"system": system})


# Dates that cannot fall before the patient was born.
_LIFETIME_FIELDS = (
    "start",
    "onset_date",
    "onset",
    "start_date",
    "recorded_on",
    "signed_at",
    "written_at",
    "effective_at",
    "given_on",
    "ended_on",
)


def child_record_save(
    actor: Actor, patient: Patient, record: ClinicalRecord, perm: str, action: str, detail: dict | None = None
) -> ClinicalRecord:
    """Save a new record that belongs to a patient: role, clinic, dates within the patient's life and the
    visit it hangs on are checked here once for every app."""
    require(actor, perm)
    require_same_clinic(actor, patient.clinic_id)
    record.patient = patient
    for name in _LIFETIME_FIELDS:
        value = getattr(record, name, None)
        day = value.date() if isinstance(value, dt.datetime) else value
        if isinstance(day, dt.date) and day < patient.birth_date:
            raise InvalidInput(
                f"{name}: before birth", fields={name: ["must not be before the date of birth"]}
            )
    encounter = getattr(record, "encounter", None) if hasattr(record, "encounter_id") else None
    if encounter is not None and (encounter.patient_id != patient.pk or encounter.is_entered_in_error):
        raise InvalidInput(
            "encounter: not this patient's", fields={"encounter": ["is not a visit of this patient"]}
        )
    return save_audited(actor, record, action=action, detail=detail)


ENCOUNTER_FIELDS = ("kind", "status", "start", "end", "reason", "practitioner")
CONDITION_FIELDS = (
    "category",
    "code",
    "text",
    "icd10",
    "snomed",
    "clinical_status",
    "onset_date",
    "encounter",
)
MEDICATION_FIELDS = ("code", "name", "dose", "status", "start_date", "end_date")
ALLERGY_FIELDS = ("code", "substance", "reaction", "criticality")
PREGNANCY_FIELDS = ("pregnant", "breastfeeding", "can_become_pregnant", "trimester", "recorded_on")
CONSENT_FIELDS = ("kind", "decision", "scope", "signed_at", "signer_name", "document")
NOTE_FIELDS = ("encounter", "kind", "text", "written_at")


@transaction.atomic
def encounter_create(*, actor: Actor, patient: Patient, data: dict) -> Encounter:
    encounter = Encounter(clinic_id=patient.clinic_id, **_accept(data, ENCOUNTER_FIELDS))
    if encounter.end and encounter.start and encounter.end < encounter.start:
        raise InvalidInput("end: must not be before start", fields={"end": ["must not be before the start"]})
    if (
        encounter.practitioner_id
        and not encounter.practitioner.memberships.filter(clinic_id=patient.clinic_id).exists()
    ):
        raise InvalidInput(
            "practitioner: not of this clinic", fields={"practitioner": ["does not work in this clinic"]}
        )
    return child_record_save(actor, patient, encounter, Perm.EDIT_APPOINTMENTS, "encounter.create")


# Coded entries: the code, when given, is one of the reference data's (the safety rules read these codes).
_VOCABULARY = {
    Condition: "conditions.toml",
    MedicationStatement: "medications.toml",
    Allergy: "allergens.toml",
}


def _check_code(record: Condition | MedicationStatement | Allergy) -> None:
    from dermatox.clinical.observations import vocabulary

    codes = vocabulary(_VOCABULARY[type(record)])
    if record.code and record.code not in codes:
        raise InvalidInput(
            f"code: unknown code {record.code!r}", fields={"code": [f"must be one of {', '.join(codes)}"]}
        )


@transaction.atomic
def condition_add(*, actor: Actor, patient: Patient, data: dict) -> Condition:
    record = Condition(recorded_by=actor.acting_user, **_accept(data, CONDITION_FIELDS))
    _check_code(record)
    return child_record_save(
        actor, patient, record, Perm.EDIT_CLINICAL, audit_action("condition.add.{0}", record.category)
    )


@transaction.atomic
def medication_add(*, actor: Actor, patient: Patient, data: dict) -> MedicationStatement:
    record = MedicationStatement(recorded_by=actor.acting_user, **_accept(data, MEDICATION_FIELDS))
    _check_code(record)
    if record.end_date and record.start_date and record.end_date < record.start_date:
        raise InvalidInput(
            "end_date: before start", fields={"end_date": ["must not be before the start date"]}
        )
    return child_record_save(actor, patient, record, Perm.EDIT_CLINICAL, "medication.add")


@transaction.atomic
def allergy_add(*, actor: Actor, patient: Patient, data: dict) -> Allergy:
    record = Allergy(recorded_by=actor.acting_user, **_accept(data, ALLERGY_FIELDS))
    _check_code(record)
    return child_record_save(actor, patient, record, Perm.EDIT_CLINICAL, "allergy.add")


@transaction.atomic
def pregnancy_status_record(*, actor: Actor, patient: Patient, data: dict) -> PregnancyStatus:
    record = PregnancyStatus(recorded_by=actor.acting_user, **_accept(data, PREGNANCY_FIELDS))
    return child_record_save(actor, patient, record, Perm.EDIT_CLINICAL, "pregnancy_status.record")


@transaction.atomic
def consent_record(*, actor: Actor, patient: Patient, data: dict) -> Consent:
    record = Consent(recorded_by=actor.acting_user, **_accept(data, CONSENT_FIELDS))
    return child_record_save(
        actor,
        patient,
        record,
        Perm.RECORD_CONSENT,
        audit_action("consent.{0}.{1}", record.kind, record.decision),
    )


@transaction.atomic
def note_add(*, actor: Actor, patient: Patient, data: dict) -> Note:
    data = _accept(data, NOTE_FIELDS)
    data.setdefault("written_at", timezone.now())
    record = Note(author=actor.acting_user, **data)
    return child_record_save(actor, patient, record, Perm.EDIT_CLINICAL, "note.add")


# Which permission it takes to mark each kind of record entered in error.
ERROR_PERMS = {
    Patient: Perm.EDIT_DEMOGRAPHICS,
    PatientIdentifier: Perm.EDIT_DEMOGRAPHICS,
    Encounter: Perm.EDIT_APPOINTMENTS,
    Consent: Perm.RECORD_CONSENT,
}


def entered_in_error_permission(model: type) -> str:
    """A model may name its own (e.g. signed assessments: physicians only); otherwise this table decides."""
    return getattr(model, "error_permission", ERROR_PERMS.get(model, Perm.EDIT_CLINICAL))


@transaction.atomic
def record_mark_entered_in_error(*, actor: Actor, record: ClinicalRecord, reason: str) -> ClinicalRecord:
    require(actor, entered_in_error_permission(type(record)))
    clinic_id = record.clinic_id if isinstance(record, Patient) else record.patient.clinic_id
    require_same_clinic(actor, clinic_id)
    return withdraw(actor, record, reason=reason)
