"""Import through the services: all or nothing, safe to re-run, updates demographics, round trip with export."""

import datetime as dt
from decimal import Decimal

import pytest

from dermatox.assessments.models import Observation
from dermatox.audit.models import AuditEntry
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.patients.models import Patient
from dermatox.patients.services import patient_create
from dermatox.transfer.csv_export import csv_export
from dermatox.transfer.csv_import import csv_import
from dermatox.treatments.models import ExternalToxinDose

P_HEAD = "identifier_system,identifier,given_name,family_name,sex_at_birth,birth_date,phone,email,address,preferred_language"
PATIENTS = f"""{P_HEAD}
national_id,11111111110,Ayşe,Yılmaz,female,1990-04-02,+90 532 000 00 00,ayse@example.org,"Moda Cd. 1, Kadıköy",tr
passport,U1234567,John,Smith,male,1985-01-31,,,,en
"""
TOXIN = """identifier_system,identifier,given_on,product,units,area,source
national_id,11111111110,2025-06-01,onabotulinumtoxinA,20,face,Clinic X
national_id,11111111110,2025-11-15,unknown,,scalp,
passport,U1234567,2025-09-09,abobotulinumtoxinA,50.5,axilla,intake
"""
OBS = """identifier_system,identifier,code,value,unit,effective_at
national_id,11111111110,ferritin,12.5,ng/mL,2025-06-01T09:30:00+03:00
national_id,11111111110,2276-4,20,ug/L,2025-09-01
passport,U1234567,norwood,III,,2025-02-02T10:00
passport,U1234567,pull_test_hairs,4,,2025-02-02T10:00
"""


@pytest.fixture
def clinic(clinics):
    return clinics[0]


@pytest.fixture
def actor(clinic, physician):
    return Actor(user=physician.user, clinic=clinic, role=physician.role, channel="cli")


@pytest.fixture
def actor_b(clinics, staff):
    return Actor(user=staff["physician_b"], clinic=clinics[1], role="physician", channel="cli")


def run(actor, text, **kwargs):
    return csv_import(actor=actor, data=text.encode(), **kwargs)


def test_patients_import_then_rerun_is_all_unchanged(actor, clinic):
    first = run(actor, PATIENTS)
    assert first.report == [] and (first.created, first.updated, first.unchanged) == (2, 0, 0)
    ayse = Patient.objects.get(clinic=clinic, given_name="Ayşe")
    assert ayse.identifiers.get().value == "11111111110" and ayse.birth_date == dt.date(1990, 4, 2)
    assert ayse.address == "Moda Cd. 1, Kadıköy"
    again = run(actor, PATIENTS)
    assert again.summary() == "created 0, updated 0, unchanged 2"
    assert Patient.objects.filter(clinic=clinic).count() == 2
    entry = AuditEntry.objects.filter(action="import.patients").order_by("seq")
    assert entry.count() == 2 and entry.last().detail["unchanged"] == 2 and entry.last().channel == "cli"


def test_changed_demographics_are_updated_as_a_new_version(actor, clinic):
    run(actor, PATIENTS)
    changed = PATIENTS.replace("+90 532 000 00 00", "+90 555 111 22 33").replace("Smith", "Smyth")
    result = run(actor, changed)
    assert result.summary() == "created 0, updated 2, unchanged 0"
    ayse = Patient.objects.get(clinic=clinic, given_name="Ayşe")
    assert ayse.phone == "+90 555 111 22 33" and ayse.history.count() == 2
    assert Patient.objects.filter(clinic=clinic, family_name="Smyth").count() == 1


def test_an_existing_patient_is_matched_by_the_clinic_identifier(actor, clinic, clinics):
    patient_create(
        actor=actor,
        data={
            "given_name": "Ayşe",
            "family_name": "Eski",
            "sex_at_birth": "female",
            "birth_date": dt.date(1990, 4, 2),
        },
        identifiers=[("national_id", "11111111110")],
    )
    other = Actor.system(clinic=clinics[1])  # the same identifier in another clinic is another record
    patient_create(
        actor=other,
        data={
            "given_name": "Zeynep",
            "family_name": "B",
            "sex_at_birth": "female",
            "birth_date": dt.date(1991, 1, 1),
        },
        identifiers=[("passport", "U1234567")],
    )
    result = run(actor, PATIENTS)
    assert result.summary() == "created 1, updated 1, unchanged 0"
    assert Patient.objects.get(clinic=clinic, given_name="Ayşe").family_name == "Yılmaz"
    assert Patient.objects.get(clinic=clinics[1]).given_name == "Zeynep"


def test_a_bad_last_row_means_nothing_is_written(actor, clinic):
    bad = PATIENTS + "national_id,3,Bad,Phone,female,1990-01-01,not a phone,,,\n"
    before = AuditEntry.objects.count()
    result = run(actor, bad)
    assert result.report == [
        "row 4: phone: must be digits, spaces, brackets or dashes, optionally starting with +"
    ]
    assert not result.written
    assert Patient.objects.filter(clinic=clinic).count() == 0 and AuditEntry.objects.count() == before


def test_a_dry_run_reports_counts_and_writes_nothing(actor, clinic):
    result = run(actor, PATIENTS, dry_run=True)
    assert result.ok and not result.written and result.summary() == "created 2, updated 0, unchanged 0"
    assert Patient.objects.filter(clinic=clinic).count() == 0


def test_toxin_and_observations_import_and_do_not_duplicate(actor, clinic):
    run(actor, PATIENTS)
    toxin = run(actor, TOXIN)
    assert toxin.report == [] and toxin.created == 3
    ayse = Patient.objects.get(clinic=clinic, given_name="Ayşe")
    dose = ExternalToxinDose.objects.get(patient=ayse, product="onabotulinumtoxinA")
    assert (dose.units, dose.source, dose.area) == (Decimal("20"), "Clinic X", "face")
    assert ExternalToxinDose.objects.get(patient=ayse, product="unknown").source == "import"
    assert run(actor, TOXIN).summary() == "created 0, updated 0, unchanged 3"

    obs = run(actor, OBS)
    assert obs.report == [] and obs.created == 4
    assert (
        Observation.objects.filter(patient=ayse, code="ferritin").count() == 2
    )  # one given by its LOINC code
    assert run(actor, OBS).summary() == "created 0, updated 0, unchanged 4"
    assert Observation.objects.filter(patient__clinic=clinic).count() == 4
    assert ExternalToxinDose.objects.filter(patient__clinic=clinic).count() == 3


def test_rows_for_unknown_patients_are_errors(actor, clinic, clinics):
    run(Actor.system(clinic=clinics[1], channel="cli"), PATIENTS)  # the patients exist, but in another clinic
    result = run(actor, TOXIN)
    assert result.report == [
        "row 2: identifier: no patient with national_id 11111111110 in this clinic (import patients first)",
        "row 3: identifier: no patient with national_id 11111111110 in this clinic (import patients first)",
        "row 4: identifier: no patient with passport U1234567 in this clinic (import patients first)",
    ]
    assert ExternalToxinDose.objects.count() == 0


def test_a_conflicting_recorded_dose_is_reported_not_overwritten(actor, clinic):
    run(actor, PATIENTS)
    run(actor, TOXIN)
    result = run(actor, TOXIN.replace(",20,face", ",25,face"))
    assert result.report == [
        "row 2: units: this dose is already recorded with 20.00 units; correct the record, not the file"
    ]
    assert ExternalToxinDose.objects.filter(units=Decimal("25")).count() == 0


def test_service_rules_are_reported_per_row(actor, clinic):
    run(actor, PATIENTS)
    # only the record knows the birth date; only the services know the phone rule
    result = run(actor, TOXIN.replace("2025-06-01", "1980-01-01"))
    assert result.report == ["row 2: given_on: must not be before the date of birth (1990-04-02)"]
    result = run(actor, OBS.replace("2025-02-02T10:00\n", "1980-02-02T10:00\n"))
    assert result.report == [
        f"row {n}: effective_at: must not be before the date of birth (1985-01-31)" for n in (4, 5)
    ]
    assert Observation.objects.count() == 0


def test_round_trip_export_then_import_into_an_empty_clinic(actor, actor_b, clinic, clinics):
    for text in (PATIENTS, TOXIN, OBS):
        assert run(actor, text).ok
    exported = {kind: csv_export(actor=actor, kind=kind)[0] for kind in ("patients", "toxin", "observations")}
    assert AuditEntry.objects.filter(action="export.patients").count() == 1
    other = actor_b
    for kind, text in exported.items():
        result = run(other, text, kind=kind)
        assert result.ok and result.updated == result.unchanged == 0, result.report
    again = {kind: csv_export(actor=other, kind=kind)[0] for kind in exported}
    assert again == exported
    for text in exported.values():
        again = run(other, text)
        assert again.created == again.updated == 0 and again.unchanged > 0
    assert Patient.objects.filter(clinic=clinics[1]).count() == 2


def test_export_leaves_out_patients_without_an_identifier(actor, clinic):
    run(actor, PATIENTS)
    patient_create(
        actor=actor,
        data={
            "given_name": "No",
            "family_name": "Id",
            "sex_at_birth": "male",
            "birth_date": dt.date(1970, 1, 1),
        },
    )
    text, count, left_out = csv_export(actor=actor, kind="patients")
    assert (count, left_out) == (2, 1) and "No,Id" not in text


def test_a_system_actor_imports_patients_but_not_clinical_records(clinic):
    system = Actor.system(clinic=clinic, channel="cli")
    assert run(system, PATIENTS).created == 2
    with pytest.raises(InvalidInput) as caught:
        run(system, TOXIN)
    assert "user" in caught.value.fields
    assert ExternalToxinDose.objects.count() == 0


def test_the_documented_example_files_import_cleanly(actor):
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "docs" / "import-examples"
    for name in ("patients", "toxin", "observations"):
        result = csv_import(actor=actor, data=(examples / f"{name}.csv").read_bytes())
        assert result.ok and result.kind == name and result.created > 0, result.report


def test_a_re_import_of_toxin_history_and_observations_writes_nothing(actor, clinic):
    """The existing rows are read once per import (not once per row) and nothing is duplicated."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run(actor, PATIENTS)
    assert run(actor, TOXIN).created == 3 and run(actor, OBS).created == 4

    def counts():
        return (
            ExternalToxinDose.objects.count(),
            ExternalToxinDose.history.count(),
            Observation.objects.count(),
            Observation.history.count(),
            AuditEntry.objects.exclude(action__startswith="import.").count(),
        )

    before = counts()
    for text, kind, table in ((TOXIN, "toxin", "treatments_externaltoxindose"),
                              (OBS, "observations", "assessments_observation")):  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            again = run(actor, text)
        assert again.ok and again.created == again.updated == 0 and again.unchanged > 0, again.report
        assert sum(f'FROM "{table}"' in q["sql"] for q in queries.captured_queries) == 1, kind
    # the same values written another way: a number with another scale, an instant in another offset
    same = OBS.replace(",12.5,", ",12.50,").replace("2025-06-01T09:30:00+03:00", "2025-06-01T06:30:00Z")
    assert run(actor, same).summary() == "created 0, updated 0, unchanged 4"
    assert counts() == before
    assert AuditEntry.objects.filter(action__startswith="import.").count() == 6  # one per run, no more


def test_a_dose_written_earlier_in_the_same_file_is_known_to_the_later_rows(actor, clinic):
    """Two keys of one patient (national id and passport): the second row is the same dose as the first."""
    from dermatox.patients.models import PatientIdentifier

    run(actor, PATIENTS)
    ayse = Patient.objects.get(clinic=clinic, given_name="Ayşe")
    PatientIdentifier.objects.create(patient=ayse, system="passport", value="TR999")
    head = TOXIN.splitlines()[0]
    first = "national_id,11111111110,2025-06-01,onabotulinumtoxinA,20,face,"
    same = run(actor, f"{head}\n{first}\npassport,TR999,2025-06-01,onabotulinumtoxinA,20.00,face,\n")
    assert same.summary() == "created 1, updated 0, unchanged 1"
    later = first.replace("2025-06-01", "2025-07-01")
    other = run(actor, f"{head}\n{later}\npassport,TR999,2025-07-01,onabotulinumtoxinA,25,face,\n")
    assert other.report == [  # as if the first row's dose had been read back from the database
        "row 3: units: this dose is already recorded with 20.00 units; correct the record, not the file"
    ]
    assert ExternalToxinDose.objects.count() == 1


def test_the_import_reads_only_the_patients_its_rows_name(actor, clinic, monkeypatch):
    """patients_by_identifier asks for the file's identifiers (in chunks), not the whole clinic: the same
    value under another system, or another value, is not read; every chunk is."""
    from dermatox.transfer import csv_import as module

    def make(value, system="passport"):
        return patient_create(
            actor=actor,
            data={
                "given_name": "A",
                "family_name": value,
                "sex_at_birth": "female",
                "birth_date": "1990-01-01",
            },
            identifiers=[(system, value)],
        )

    named = [make(f"P100{i}") for i in range(3)]
    make("P2000")  # not in the file
    make("P1000", system="insurance")  # the file's value, under another system
    monkeypatch.setattr(module, "LOOKUP_CHUNK", 2)
    keys = [("passport", p.family_name) for p in named] + [("passport", "P9999")]
    found = module.patients_by_identifier(actor, keys)
    assert found == {("passport", p.family_name): [p] for p in named}
