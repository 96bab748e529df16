"""A patient's observations (measurements)."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Router, Status

from dermatox.api.rest.base import (
    ERRORS,
    Code,
    DateFrom,
    DateTo,
    Limit,
    Offset,
    _fields,
    _section,
    _writable_patient,
)
from dermatox.api.schemas import observations as s
from dermatox.assessments.services import observation_record
from dermatox.common.errors import InvalidInput

router = Router()


def _observation(o) -> dict:
    return {
        **_fields(o, ("id", "code", "loinc", "value_code", "unit", "method", "body_site", "device", "note")),
        "value_number": float(o.value_number) if o.value_number is not None else None,
        "components": o.components or {},
        "effective_at": o.effective_at,
        "encounter_id": o.encounter_id,
        "recorded_at": o.recorded_at,
    }


@router.get(
    "/patients/{patient_id}/observations",
    response={200: s.ObservationPage, **ERRORS},
    tags=["observations"],
)
def observation_list(
    request,
    patient_id: uuid.UUID,
    code: str = Code,
    date_from: dt.date | None = DateFrom,
    date_to: dt.date | None = DateTo,
    limit: int = Limit,
    offset: int = Offset,
):
    """Measurements, newest first."""
    if date_from and date_to and date_to < date_from:
        raise InvalidInput("date_to: before date_from", fields={"date_to": ["must not be before date_from"]})
    return _section(
        request,
        patient_id,
        "observations",
        offset,
        limit,
        _observation,
        code=code,
        date_from=date_from,
        date_to=date_to,
    )


@router.post(
    "/patients/{patient_id}/observations",
    response={201: s.ObservationOut, **ERRORS},
    tags=["observations"],
)
def observation_create(request, patient_id: uuid.UUID, payload: s.ObservationIn):
    """Record one measurement; the value is checked against the measurement's range and unit."""
    patient = _writable_patient(request, patient_id)
    record = observation_record(actor=request.auth, patient=patient, **payload.model_dump())
    return Status(201, _observation(record))
