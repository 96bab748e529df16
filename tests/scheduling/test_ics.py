"""The .ics invite: stable UID, SEQUENCE up on every change, STATUS:CANCELLED, UTC times, no clinical text."""

import datetime as dt

import pytest
from icalendar import Calendar

from dermatox.scheduling import services as sched
from dermatox.scheduling.ics import appointment_ics
from tests.scheduling.helpers import at, book, days

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def event_of(appointment):
    calendar = Calendar.from_ical(appointment_ics(appointment))
    assert str(calendar.get("version")) == "2.0" and "Dermatox" in str(calendar.get("prodid"))
    (event,) = calendar.walk("VEVENT")
    return event


def test_invite_follows_the_appointment_through_reschedule_and_cancel(physician, patient):
    appointment = book(physician, patient, at(days(1), 10), reason="Toxin for hyperhidrosis")
    first = event_of(appointment)
    assert str(first.get("uid")) == f"{appointment.uid}@dermatox"
    assert first.get("sequence") == 0 and str(first.get("status")) == "CONFIRMED"
    assert first.get("dtstart").dt == dt.datetime(2026, 3, 10, 7, 0, tzinfo=dt.UTC)
    assert first.get("dtend").dt.utcoffset() == dt.timedelta(0)
    assert str(first.get("summary")) == "Appointment at Clinic A" and str(first.get("location")) == "Clinic A"
    assert b"hyperhidrosis" not in appointment_ics(appointment) and b"DTSTART:20260310T070000Z" in (
        appointment_ics(appointment)
    )

    moved = sched.appointment_reschedule(
        actor=physician, appointment=appointment, data={"start": at(days(2), 9), "end": at(days(2), 9, 30)}
    )
    second = event_of(moved)
    assert str(second.get("uid")) == str(first.get("uid")) and second.get("sequence") == 1
    assert second.get("dtstart").dt == dt.datetime(2026, 3, 11, 6, 0, tzinfo=dt.UTC)

    cancelled = sched.appointment_cancel(actor=physician, appointment=moved, reason="Patient called")
    third = event_of(cancelled)
    assert str(third.get("uid")) == str(first.get("uid")) and third.get("sequence") == 2
    assert str(third.get("status")) == "CANCELLED"
