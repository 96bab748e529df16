"""A patient's medical history: conditions (history and diagnoses), medications, allergies."""

from __future__ import annotations

import uuid
from typing import Literal

from ninja import Router, Status

from dermatox.api.rest.base import (
    ERRORS,
    Category,
    Limit,
    Offset,
    _fields,
    _section,
    _writable_patient,
)
from dermatox.api.schemas import history as s
from dermatox.patients import services as patient_services

router = Router()


CONDITION_OUT = ("id", "category", "code", "text", "icd10", "snomed", "clinical_status", "onset_date")
MEDICATION_OUT = ("id", "code", "name", "dose", "status", "start_date", "end_date", "recorded_at")
ALLERGY_OUT = ("id", "code", "substance", "reaction", "criticality", "recorded_at")


def _condition(c) -> dict:
    return {**_fields(c, CONDITION_OUT), "recorded_at": c.recorded_at}


@router.get("/patients/{patient_id}/conditions", response={200: s.ConditionPage, **ERRORS}, tags=["history"])
def condition_list(
    request,
    patient_id: uuid.UUID,
    category: Literal["history", "diagnosis"] | None = Category,
    limit: int = Limit,
    offset: int = Offset,
):
    """Medical history and diagnoses (current records; those marked entered in error are left out)."""
    return _section(request, patient_id, "conditions", offset, limit, _condition, category=category)


@router.post("/patients/{patient_id}/conditions", response={201: s.ConditionOut, **ERRORS}, tags=["history"])
def condition_create(request, patient_id: uuid.UUID, payload: s.ConditionIn):
    patient = _writable_patient(request, patient_id)
    record = patient_services.condition_add(actor=request.auth, patient=patient, data=payload.model_dump())
    return Status(201, _condition(record))


@router.get(
    "/patients/{patient_id}/medications", response={200: s.MedicationPage, **ERRORS}, tags=["history"]
)
def medication_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    return _section(request, patient_id, "medications", offset, limit, lambda r: _fields(r, MEDICATION_OUT))


@router.post(
    "/patients/{patient_id}/medications", response={201: s.MedicationOut, **ERRORS}, tags=["history"]
)
def medication_create(request, patient_id: uuid.UUID, payload: s.MedicationIn):
    patient = _writable_patient(request, patient_id)
    record = patient_services.medication_add(actor=request.auth, patient=patient, data=payload.model_dump())
    return Status(201, _fields(record, MEDICATION_OUT))


@router.get("/patients/{patient_id}/allergies", response={200: s.AllergyPage, **ERRORS}, tags=["history"])
def allergy_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    return _section(request, patient_id, "allergies", offset, limit, lambda r: _fields(r, ALLERGY_OUT))


@router.post("/patients/{patient_id}/allergies", response={201: s.AllergyOut, **ERRORS}, tags=["history"])
def allergy_create(request, patient_id: uuid.UUID, payload: s.AllergyIn):
    patient = _writable_patient(request, patient_id)
    record = patient_services.allergy_add(actor=request.auth, patient=patient, data=payload.model_dump())
    return Status(201, _fields(record, ALLERGY_OUT))
