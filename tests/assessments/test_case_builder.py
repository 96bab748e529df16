"""The case the Assessment page builds from the record, and signed snapshots."""

import datetime as dt

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.assessments.services import observation_record
from dermatox.audit.models import AuditEntry
from dermatox.chart.case_builder import build_case
from dermatox.chart.signing import assessment_sign
from dermatox.clinical.pathways import assess
from dermatox.common.errors import InvalidInput, PermissionDenied
from dermatox.patients import services as ps
from dermatox.treatments.services import treatment_course_record

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 21)


def at(days_ago: int):
    return timezone.make_aware(dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(10)))


@pytest.fixture
def recorded(physician, patient, time_machine):
    """A woman with hair loss and oily acne, recorded the way the clinic records it."""
    time_machine.move_to(dt.datetime(2026, 11, 21, 12, tzinfo=dt.UTC))
    obs = lambda code, value, days=5, unit=None: observation_record(  # noqa: E731
        actor=physician, patient=patient, code=code, value=value, effective_at=at(days), unit=unit
    )
    obs("daily_shedding", 90, days=400)  # an older count ...
    obs("daily_shedding", 160)  # ... and the latest wins
    obs("pull_test_hairs", 4)
    obs("ludwig", "I")
    obs("hyperandrogenism_signs", "yes")
    obs("gags", 22)
    obs("seborrhea_grade", "marked")
    obs("ferritin", 9, unit="ug/L")
    obs("vitamin_d_25oh", 60, days=200)  # older than 180 days: not a counting result
    ps.condition_add(
        actor=physician, patient=patient, data={"category": "history", "code": "pcos", "text": "PCOS"}
    )
    ps.medication_add(actor=physician, patient=patient, data={"code": "oral_contraceptive", "name": "COC"})
    ps.allergy_add(
        actor=physician, patient=patient, data={"code": "human_albumin", "substance": "Human albumin"}
    )
    ps.pregnancy_status_record(
        actor=physician, patient=patient, data={"pregnant": "no", "breastfeeding": "no", "recorded_on": TODAY}
    )
    treatment_course_record(
        actor=physician,
        patient=patient,
        data={"treatment": "topical_first_line", "weeks": 12, "outcome": "inadequate"},
    )
    return patient


def test_case_is_built_from_the_latest_record(recorded):
    built = build_case(recorded, TODAY)
    case = built.case
    assert case["patient"] == {
        "sex": "female",
        "birth_date": "1990-04-02",
        "pregnant": False,
        "breastfeeding": False,
    }
    assert case["hair"] == {
        "daily_shedding": 160,
        "pull_test_hairs": 4,
        "ludwig": "I",
        "hyperandrogenism_signs": True,
    }
    assert case["skin"]["acne"] == {"gags": 22}
    assert case["skin"]["seborrhea"] == "marked"
    assert case["skin"]["prior_treatments"] == [
        {"treatment": "topical_first_line", "weeks": 12, "outcome": "inadequate"}
    ]
    assert case["history"] == {
        "conditions": ["pcos"],
        "medications": ["oral_contraceptive"],
        "allergies": ["human_albumin"],
    }
    assert case["labs"] == [{"test": "ferritin", "value": 9.0, "unit": "ug/L", "date": "2026-11-16"}]
    result = assess(case)  # the engine accepts what the builder makes
    assert (
        next(r for r in result["recommendations"] if r["treatment"] == "oral_supplements")["status"]
        == "recommended"
    )
    # an albumin allergy leaves the albumin-free product (R-BoNT-3): a caution here, a block per product
    assert next(r for r in result["recommendations"] if r["treatment"] == "botulinum_intradermal")[
        "status"
    ] in (
        "option",
        "not_yet",
    )
    assert "allergy_human_albumin" in {c["id"] for c in result["safety"]["cautions"]}


def test_missing_data_is_listed_not_assumed(patient):
    built = build_case(patient, TODAY)
    text = " ".join(built.missing)
    assert "Pregnancy and breastfeeding not recorded" in text
    assert "toxin" in text.lower()


def test_sex_outside_the_rules_cannot_be_assessed(physician):
    patient = ps.patient_create(
        actor=physician,
        data={"given_name": "A", "family_name": "B", "sex_at_birth": "intersex", "birth_date": "1990-01-01"},
    )
    built = build_case(patient, TODAY)
    assert built.case is None and "male or female" in built.missing[0]
    with pytest.raises(InvalidInput):
        assessment_sign(actor=physician, patient=patient, as_of=TODAY)


def test_physician_signs_a_versioned_snapshot(recorded, physician):
    snapshot = assessment_sign(actor=physician, patient=recorded, as_of=TODAY)
    assert snapshot.signed_by == physician.user and len(snapshot.content_hash) == 64
    assert snapshot.result == assess(snapshot.case)
    assert snapshot.history.count() == 1
    entry = AuditEntry.objects.get(action="assessment.sign")
    assert entry.patient_id == recorded.pk


def test_only_physicians_sign(recorded, staff, actor_for):
    with pytest.raises(PermissionDenied):
        assessment_sign(actor=actor_for(staff[Role.NURSE]), patient=recorded, as_of=TODAY)


def test_past_treatment_ids_are_checked(physician, patient):
    with pytest.raises(InvalidInput) as info:
        treatment_course_record(
            actor=physician, patient=patient, data={"treatment": "laser", "weeks": 4, "outcome": "good"}
        )
    assert "treatment" in info.value.fields


def test_lab_results_keep_their_reported_unit_and_reject_unknown_units(physician, patient):
    obs = observation_record(
        actor=physician, patient=patient, code="vitamin_d_25oh", value="40", unit="nmol/L"
    )
    assert obs.unit == "nmol/L" and obs.loinc == "62292-8"
    with pytest.raises(InvalidInput) as info:
        observation_record(actor=physician, patient=patient, code="vitamin_d_25oh", value="40", unit="mg/dL")
    assert "unit" in info.value.fields


def test_recorded_pregnancy_potential_and_trimester_reach_the_case(physician, patient):
    """Issue 11 §1 (clinical.md §12.3): a recorded 'cannot become pregnant' (e.g. after menopause) replaces
    the age default; a pregnant patient's trimester reaches the haemoglobin rule (§12.6)."""
    ps.pregnancy_status_record(
        actor=physician,
        patient=patient,
        data={"pregnant": "no", "breastfeeding": "no", "can_become_pregnant": "no", "recorded_on": TODAY},
    )
    built = build_case(patient, TODAY)
    assert built.case["patient"]["can_become_pregnant"] is False
    assert assess(built.case)["assumptions"] == []
    ps.pregnancy_status_record(
        actor=physician,
        patient=patient,
        data={"pregnant": "yes", "breastfeeding": "no", "trimester": 2, "recorded_on": TODAY},
    )
    built = build_case(patient, TODAY)
    assert built.case["patient"]["pregnancy_trimester"] == 2
    assert "can_become_pregnant" not in built.case["patient"]


def test_a_trimester_without_pregnancy_is_refused_naming_the_field(physician, patient):
    with pytest.raises(InvalidInput) as info:
        ps.pregnancy_status_record(
            actor=physician,
            patient=patient,
            data={"pregnant": "no", "breastfeeding": "no", "trimester": 1, "recorded_on": TODAY},
        )
    assert "trimester" in info.value.fields
    assert not patient.pregnancy_statuses.exists()


def test_missing_data_notes_read_in_the_readers_language_and_are_kept_with_ids(physician, patient):
    """Issue 11 §3: nothing a Turkish reader sees is English; a signed assessment keeps the notes' ids so
    they read in the language of whoever opens it later."""
    from django.utils import translation

    from dermatox.chart.case_builder import missing_text

    built = build_case(patient, TODAY)
    with translation.override("tr"):
        turkish = build_case(patient, TODAY).missing
    assert (
        "Gebelik ve emzirme kaydedilmemiş: ikisi de yok olarak değerlendirildi; her tedaviden önce sorun."
        in turkish
    )
    assert not set(turkish) & set(built.missing)
    stored = built.missing_items()
    assert all({"id", "params", "text"} <= set(item) for item in stored)
    assert [missing_text(item, "tr") for item in stored] == turkish
    assert missing_text("An old plain note", "tr") == "An old plain note"


def test_the_plan_check_reads_the_case_the_chart_builds():
    """Treatments does not import the chart: the chart app hands it the case builder when Django starts."""
    from dermatox.treatments import services

    assert services._case_builder is build_case
