"""The demo's fast writer (COPY on PostgreSQL) writes the rows and history rows the ORM would."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from dermatox.assessments.models import Observation
from dermatox.demo.bulk_write import write_new
from dermatox.patients.models import Encounter, Patient

pytestmark = pytest.mark.django_db


def test_rows_children_history_and_the_id_sequence(clinics, staff):
    clinic = clinics[0]
    user = next(iter(staff.values()))
    start = timezone.now().replace(microsecond=0) - dt.timedelta(days=3)
    patients = [
        Patient(
            clinic=clinic,
            mrn=f"FAST-{n:04d}",
            given_name="Ada",
            family_name=f"Deniz {n}",
            sex_at_birth="female",
            birth_date=dt.date(1990, 1, 1),
            search_name=f"ada deniz {n}",
        )
        for n in range(3)
    ]
    encounters = [
        Encounter(patient=p, clinic=clinic, kind="consult", status="finished", start=start) for p in patients
    ]
    observations = [
        Observation(
            patient=e.patient,
            encounter=e,  # the encounter has no id yet: the writer takes it from the saved parent
            code="sebum_casual",
            value_number=Decimal("123.5"),
            unit="ug/cm2",
            effective_at=start,
            recorded_by=user,
        )
        for e in encounters
    ]
    for model, objs in ((Patient, patients), (Encounter, encounters), (Observation, observations)):
        write_new(model, objs, user=user)

    stored = Observation.objects.select_related("encounter__patient").order_by("encounter__patient__mrn")
    assert [o.encounter.patient.family_name for o in stored] == ["Deniz 0", "Deniz 1", "Deniz 2"]
    assert {o.value_number for o in stored} == {Decimal("123.5")} and {o.effective_at for o in stored} == {
        start
    }
    assert all(o.patient_id == o.encounter.patient_id for o in stored)
    for model in (Patient, Encounter, Observation):
        assert model.history.filter(history_type="+", history_user=user).count() == 3
    later = Encounter.objects.create(
        patient=patients[0], clinic=clinic, kind="consult", status="planned", start=start
    )
    assert later.pk > max(e.pk for e in encounters)
