"""Patients: list and search, create, read, change."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Router, Status

from dermatox.api import reads
from dermatox.api.rest.base import (
    ERRORS,
    BirthDate,
    Limit,
    NameWords,
    Offset,
    _page,
)
from dermatox.api.schemas import patients as s
from dermatox.patients import services as patient_services

router = Router()


def _patient(p) -> dict:
    return {
        "id": p.pk,
        "mrn": p.mrn,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "sex_at_birth": p.sex_at_birth,
        "birth_date": p.birth_date,
        "phone": p.phone,
        "email": p.email,
        "address": p.address,
        "preferred_language": p.preferred_language,
        "identifiers": [{"system": i.system, "value": i.value} for i in p.identifiers.all()],
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


@router.get("/patients", response={200: s.PatientPage, **ERRORS}, tags=["patients"])
def patient_list(
    request,
    q: str = NameWords,
    birth_date: dt.date | None = BirthDate,
    limit: int = Limit,
    offset: int = Offset,
):
    """The clinic's patients, by name; searched by name words and/or date of birth."""
    page = reads.patients_page(actor=request.auth, text=q, birth_date=birth_date, offset=offset, limit=limit)
    return _page(request, page, offset, limit, [_patient(p) for p in page.items])


@router.post("/patients", response={201: s.PatientOut, **ERRORS}, tags=["patients"])
def patient_create(request, payload: s.PatientIn):
    patient = patient_services.patient_create(actor=request.auth, data=payload.model_dump())
    return Status(201, _patient(reads.patient_read(actor=request.auth, patient_id=patient.pk, audit_as=None)))


@router.get("/patients/{patient_id}", response={200: s.PatientOut, **ERRORS}, tags=["patients"])
def patient_detail(request, patient_id: uuid.UUID):
    return _patient(reads.patient_read(actor=request.auth, patient_id=patient_id))


@router.patch("/patients/{patient_id}", response={200: s.PatientOut, **ERRORS}, tags=["patients"])
def patient_update(request, patient_id: uuid.UUID, payload: s.PatientPatch):
    """Change the fields sent; the record keeps every earlier version."""
    actor = request.auth
    patient = reads.patient_read(actor=actor, patient_id=patient_id, audit_as=None)
    patient_services.patient_update(actor=actor, patient=patient, data=payload.model_dump(exclude_unset=True))
    return _patient(reads.patient_read(actor=actor, patient_id=patient_id, audit_as=None))
