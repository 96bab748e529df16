import datetime as dt
from dataclasses import asdict

import pytest

from dermatox.clinical.observations import check_observation_value
from dermatox.clinical.reference import by_id
from dermatox.demo.generator import generate
from dermatox.demo.loader import demo_load
from dermatox.patients.models import Encounter, Patient

AS_OF = dt.date(2026, 11, 21)


def test_same_seed_same_patients_other_seed_other_patients():
    first = [asdict(p) for p in generate(seed=7, count=30, as_of=AS_OF)]
    again = [asdict(p) for p in generate(seed=7, count=30, as_of=AS_OF)]
    other = [asdict(p) for p in generate(seed=8, count=30, as_of=AS_OF)]
    assert first == again
    assert first != other


def test_generated_data_is_clinically_valid():
    conditions = by_id("conditions.toml")
    for patient in generate(seed=1, count=200, as_of=AS_OF):
        assert patient.birth_date < AS_OF
        assert all(code in conditions for code in patient.diagnoses + patient.history)
        assert all(visit.start.date() <= AS_OF for visit in patient.visits)
        assert [v.start for v in patient.visits] == sorted(v.start for v in patient.visits)
        for visit in patient.visits:
            for obs in visit.observations:
                check_observation_value(obs.code, obs.value)  # raises if out of range
        if patient.case == "hair_aga_male":
            assert patient.sex_at_birth == "male"
        if patient.sex_at_birth == "male":
            assert patient.pregnancy is None


def test_generator_streams_large_counts():
    stream = generate(seed=3, count=100_000, as_of=AS_OF)
    assert sum(1 for _ in zip(range(1000), stream, strict=False)) == 1000


@pytest.mark.django_db
def test_loader_writes_the_demo_clinic():
    summary = demo_load(seed=5, patients=12, as_of=AS_OF)
    assert summary.startswith("12 patients")
    assert Patient.objects.count() == 12
    assert set(Patient.objects.values_list("clinic__code", flat=True)) == {"nis", "kad"}
    assert Encounter.objects.count() > 12
    patient = Patient.objects.first()
    assert patient.history.count() == 1  # bulk load still writes version history
