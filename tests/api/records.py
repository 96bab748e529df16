"""Clinic A's records that API tests aim their writes at: a draft toxin session with its vial (so signing
can succeed), an open follow-up and a booked appointment. Shared by the contract and the fuzz tests."""

import datetime as dt

from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.scheduling.services import appointment_book
from dermatox.treatments.services import follow_up_create, session_create


def session_follow_up_appointment(*, staff, physician, nurse, patient, vial_id: int):
    session = session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial_id)
    follow_up = follow_up_create(
        actor=physician, patient=patient, data={"due_date": timezone.localdate(), "reason": "Check"}
    )
    start = (timezone.now() + dt.timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    appointment = appointment_book(
        actor=physician,
        patient=patient,
        data={
            "start": start,
            "end": start + dt.timedelta(minutes=30),
            "kind": "consultation",
            "practitioner": staff[Role.PHYSICIAN],
        },
    )
    return session, follow_up, appointment
