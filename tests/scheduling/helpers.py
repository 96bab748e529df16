"""Shared by the scheduling tests: a fixed clock (Monday 9 March 2026, 08:00 in Istanbul) and short-hands."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dermatox.accounts.roles import Role
from dermatox.patients.services import patient_create
from dermatox.scheduling.services import appointment_book
from dermatox.treatments.models import FollowUp

IST = ZoneInfo("Europe/Istanbul")
MONDAY = dt.date(2026, 3, 9)
NOW = dt.datetime(2026, 3, 9, 8, 0, tzinfo=IST)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=IST)


def days(n: int) -> dt.date:
    return MONDAY + dt.timedelta(days=n)


@pytest.fixture
def clock():
    """Frozen at Monday 08:00; `clock.move_to(...)` moves it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def front_desk(staff, actor_for):
    return actor_for(staff[Role.FRONT_DESK])


@pytest.fixture
def manager(staff, actor_for):
    return actor_for(staff[Role.MANAGER])


@pytest.fixture
def sysadmin(staff, actor_for):
    return actor_for(staff[Role.SYSADMIN])


@pytest.fixture
def other_clinic(staff, actor_for):
    return actor_for(staff["physician_b"])


@pytest.fixture
def mailed_patient(physician):
    """An English-speaking patient with an email address (the `patient` fixture is Turkish, no email)."""
    return patient_create(
        actor=physician,
        data={
            "given_name": "Anna",
            "family_name": "Brown",
            "sex_at_birth": "female",
            "birth_date": "1985-06-01",
            "email": "anna@example.org",
            "preferred_language": "en",
        },
    )


def book(actor, patient, start, minutes=30, practitioner=None, **extra):
    data = {
        "start": start,
        "end": start + dt.timedelta(minutes=minutes),
        "kind": "consultation",
        "practitioner": practitioner if practitioner is not None else actor.user,
        **extra,
    }
    return appointment_book(actor=actor, patient=patient, data=data)


def follow_up(patient, due, *, status="open", reason="Review 4 weeks after treatment", source="protocol:x"):
    return FollowUp.objects.create(patient=patient, due_date=due, reason=reason, status=status, source=source)
