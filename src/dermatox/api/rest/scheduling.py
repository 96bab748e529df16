"""A patient's appointments: book, reschedule, cancel."""

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
from dermatox.api.schemas import scheduling as s
from dermatox.scheduling import services as scheduling_services
from dermatox.scheduling.selectors import appointment_get
from dermatox.treatments.selectors import appointment_reason_shown

router = Router()


def _appointment(a, actor) -> dict:
    return {
        **_fields(a, ("id", "uid", "start", "end", "kind", "status")),
        "reason": appointment_reason_shown(actor, a),
        "practitioner_id": a.practitioner_id,
        "practitioner_name": str(a.practitioner) if a.practitioner else "",
        "follow_up_id": a.follow_up_id,
    }


@router.get(
    "/patients/{patient_id}/appointments",
    response={200: s.AppointmentPage, **ERRORS},
    tags=["appointments"],
)
def appointment_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    """The patient's appointments, latest first (cancelled ones included, with their status)."""
    return _section(
        request, patient_id, "appointments", offset, limit, lambda a: _appointment(a, request.auth)
    )


@router.post(
    "/patients/{patient_id}/appointments",
    response={201: s.AppointmentOut, **ERRORS},
    tags=["appointments"],
)
def appointment_create(request, patient_id: uuid.UUID, payload: s.AppointmentIn):
    """Book an appointment. A practitioner who is already booked at that time answers 400 on `start`."""
    patient = _writable_patient(request, patient_id)
    data = payload.model_dump()
    data["practitioner"] = data.pop("practitioner_id")
    appointment = scheduling_services.appointment_book(actor=request.auth, patient=patient, data=data)
    return Status(201, _appointment(appointment, request.auth))


@router.patch(
    "/appointments/{appointment_id}", response={200: s.AppointmentOut, **ERRORS}, tags=["appointments"]
)
def appointment_update(request, appointment_id: int, payload: s.AppointmentPatch):
    """Reschedule a booked appointment: a new start and/or end, and/or another practitioner (`null`: none).
    The same checks as booking (400 naming `start`, `end` or `practitioner`); an appointment no longer
    booked (cancelled, arrived, …) answers 409 `not_booked`."""
    appointment = appointment_get(actor=request.auth, appointment_id=appointment_id, audit_as=None)
    data = payload.model_dump(exclude_unset=True)
    if "practitioner_id" in data:
        data["practitioner"] = data.pop("practitioner_id")
    appointment = scheduling_services.appointment_reschedule(
        actor=request.auth, appointment=appointment, data=data
    )
    return _appointment(appointment, request.auth)


@router.post(
    "/appointments/{appointment_id}/cancel",
    response={200: s.AppointmentOut, **ERRORS},
    tags=["appointments"],
)
def appointment_cancel(request, appointment_id: int, payload: s.CancelIn):
    """Cancel a booked appointment, saying why. A follow-up it was booked for goes back on the recall list.
    One no longer booked answers 409 `not_booked`."""
    appointment = appointment_get(actor=request.auth, appointment_id=appointment_id, audit_as=None)
    appointment = scheduling_services.appointment_cancel(
        actor=request.auth, appointment=appointment, reason=payload.reason
    )
    return _appointment(appointment, request.auth)
