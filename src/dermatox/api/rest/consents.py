"""A patient's consent decisions."""

from __future__ import annotations

import uuid

from ninja import Router, Status

from dermatox.api.rest.base import (
    ERRORS,
    Limit,
    Offset,
    _fields,
    _section,
    _writable_patient,
)
from dermatox.api.schemas import consents as s
from dermatox.patients import services as patient_services

router = Router()


def _consent(c) -> dict:
    return {
        **_fields(c, ("id", "kind", "decision", "scope", "signed_at", "signer_name")),
        "has_document": bool(c.document),
    }


@router.get("/patients/{patient_id}/consents", response={200: s.ConsentPage, **ERRORS}, tags=["consents"])
def consent_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    """Every consent decision, newest first (the current state of a kind is its newest decision)."""
    return _section(request, patient_id, "consents", offset, limit, _consent)


@router.post("/patients/{patient_id}/consents", response={201: s.ConsentOut, **ERRORS}, tags=["consents"])
def consent_create(request, patient_id: uuid.UUID, payload: s.ConsentIn):
    """Record one consent decision (granted, refused or withdrawn). A new decision on a kind replaces the
    current state of that kind; earlier decisions stay on the record."""
    patient = _writable_patient(request, patient_id)
    record = patient_services.consent_record(actor=request.auth, patient=patient, data=payload.model_dump())
    return Status(201, _consent(record))
