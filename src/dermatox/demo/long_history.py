"""A patient with a long history, written in bulk: for benchmarks and for tests of long charts."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dermatox.assessments.models import Observation
from dermatox.common.context import Actor
from dermatox.patients.models import Encounter, Note, Patient
from dermatox.patients.services import patient_create

VISIT_OBSERVATIONS = (("gags", 20), ("iga", 2), ("sebum_casual", 150))


def patient_with_long_history(*, actor: Actor, visits: int) -> Patient:
    """One patient (created through the service, so audited) with `visits` daily treatment visits, each
    with three observations and a note."""
    patient = patient_create(
        actor=actor,
        data={
            "given_name": "Long",
            "family_name": f"History{visits}",
            "sex_at_birth": "female",
            "birth_date": "1988-03-03",
        },
    )
    start = timezone.now() - dt.timedelta(days=visits + 1)
    encounters = Encounter.objects.bulk_create(
        [
            Encounter(
                patient=patient, clinic=actor.clinic, kind="treatment", start=start + dt.timedelta(days=i)
            )
            for i in range(visits)
        ]
    )
    Observation.objects.bulk_create(
        [
            Observation(patient=patient, encounter=e, code=code, value_number=value, effective_at=e.start)
            for e in encounters
            for code, value in VISIT_OBSERVATIONS
        ]
    )
    Note.objects.bulk_create(
        [Note(patient=patient, encounter=e, text="Treated.", written_at=e.start) for e in encounters]
    )
    return patient
