"""Intake: the link, the submission with its signed PDF, and the confirmation into the record."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.chart.case_builder import build_case
from dermatox.common.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from dermatox.intake import services
from dermatox.intake.models import IntakeForm
from tests.dates import NEXT_YEAR
from tests.intake.answers import valid_answers


@pytest.fixture
def front_desk(staff, actor_for):
    return actor_for(staff[Role.FRONT_DESK])


def start(actor, patient):
    return services.intake_start(actor=actor, patient=patient)


def submit(intake, **changes):
    actor = services.patient_actor(intake)
    return services.intake_submit(actor=actor, intake=intake, data=valid_answers(**changes))


def test_front_desk_starts_a_link_only_its_hash_is_stored(front_desk, patient):
    intake, token = start(front_desk, patient)
    assert len(token) >= 32 and token not in intake.token_hash
    assert services.intake_by_token(token).pk == intake.pk
    with pytest.raises(NotFound):
        services.intake_by_token(token[:-1] + ("A" if token[-1] != "A" else "B"))


def test_a_new_link_cancels_the_unused_one(front_desk, patient):
    first, old_token = start(front_desk, patient)
    start(front_desk, patient)
    first.refresh_from_db()
    assert first.status == "cancelled"
    with pytest.raises(NotFound):
        services.intake_by_token(old_token)


def test_the_link_expires(front_desk, patient, settings):
    _intake, token = start(front_desk, patient)
    with (
        time_machine.travel(
            timezone.now() + dt.timedelta(hours=settings.DERMATOX_INTAKE_LINK_HOURS, minutes=1)
        ),
        pytest.raises(NotFound),
    ):
        services.intake_by_token(token)


def test_managers_may_not_start_an_intake(staff, actor_for, patient):
    with pytest.raises(PermissionDenied):
        start(actor_for(staff[Role.MANAGER]), patient)


def test_submission_keeps_answers_and_a_signed_pdf_but_writes_nothing_to_the_record(front_desk, patient):
    intake, token = start(front_desk, patient)
    intake = submit(intake, q_toxin_allergy="yes")
    assert intake.status == "submitted" and intake.consent_pdf_sha256
    pdf = intake.consent_pdf.open("rb").read()
    assert pdf.startswith(b"%PDF")
    assert patient.allergies.count() == 0 and patient.consents.count() == 0
    with pytest.raises(NotFound):  # used once
        services.intake_by_token(token)


def test_only_the_questionnaires_answers_are_kept(front_desk, patient):
    intake, _token = start(front_desk, patient)
    intake = services.intake_submit(
        actor=services.patient_actor(intake),
        intake=intake,
        data={**valid_answers(), "csrfmiddlewaretoken": "x" * 64, "lang": "tr", "Evil Key": "1"},
    )
    assert not {"csrfmiddlewaretoken", "lang", "Evil Key"} & set(intake.answers["health"])
    assert intake.answers["health"]["q_toxin_allergy"] == "no"


def test_a_bad_submission_names_every_field_and_writes_nothing(front_desk, patient):
    intake, _token = start(front_desk, patient)
    with pytest.raises(InvalidInput) as exc:
        submit(intake, birth_date=NEXT_YEAR.isoformat(), email="not-an-email", q_pcos="", signature="")
    assert set(exc.value.fields) == {"birth_date", "email", "q_pcos", "signature"}
    intake.refresh_from_db()
    assert intake.status == "open" and not intake.answers and not intake.consent_pdf


def test_a_second_submission_is_refused(front_desk, patient):
    intake, _token = start(front_desk, patient)
    submit(intake)
    with pytest.raises(Conflict):
        submit(intake)


def test_confirmation_writes_the_record_as_the_nurse(front_desk, nurse, patient):
    intake, _token = start(front_desk, patient)
    submit(
        intake,
        phone="+90 555 111 2233",
        q_neuromuscular="yes",
        q_neuromuscular_which="condition:myasthenia_gravis",
        q_blood_thinners="yes",
        q_blood_thinners_which="medication:anticoagulant",
        q_toxin_allergy="yes",
        other_allergies="Penicillin",
        pregnant="no",
        breastfeeding="yes",
        toxin_before="yes",
        toxin_last_date=(timezone.localdate() - dt.timedelta(days=30)).isoformat(),
        toxin_last_area="face",
        toxin_last_product="onabotulinumtoxinA",
        toxin_last_units="20",
        hair_concern="yes",
        daily_shedding="160",
        hair_thinning="yes",
        hair_trigger="no",
        skin_concern="yes",
        oily_skin="yes",
        course_1_treatment="topical_first_line",
        course_1_weeks="12",
        course_1_outcome="inadequate",
    )
    counts = services.intake_confirm(actor=nurse, intake=intake)
    assert counts == {
        "history": 1,
        "medications": 1,
        "allergies": 2,
        "observations": 4,
        "courses": 1,
        "consents": 3,
    }
    patient.refresh_from_db()
    assert patient.phone == "+90 555 111 2233"
    assert {a.code for a in patient.allergies.all()} == {"botulinum_toxin", ""}
    assert all(a.recorded_by == nurse.user for a in patient.allergies.all())
    shedding = patient.observations.get(code="daily_shedding")
    assert shedding.value_number == 160 and shedding.method == services.INTAKE_METHOD
    consents = {c.kind: c for c in patient.consents.all()}
    assert consents["photo_teaching_marketing"].decision == "refused"
    intake.refresh_from_db()
    assert consents["treatment"].document.name == intake.consent_pdf.name
    assert consents["treatment"].recorded_by == nurse.user
    assert patient.pregnancy_statuses.get().breastfeeding == "yes"
    intake.refresh_from_db()
    assert intake.status == "confirmed" and intake.confirmed_by == nurse.user

    # The toxin rules now see what the patient said (clinical.md §8.3): the case carries the codes
    # and the outside dose 30 days ago, which starts the 12-week interval.
    case = build_case(patient, timezone.localdate()).case
    assert "myasthenia_gravis" in case["history"]["conditions"]
    assert case["history"]["medications"] == ["anticoagulant"]
    assert case["history"]["toxin_history"][0]["units"] == 20.0
    assert case["patient"]["breastfeeding"] is True


def test_an_outside_dose_without_product_is_in_the_history_and_named_in_the_missing_data(
    front_desk, nurse, patient
):
    """Its date starts the 12-week interval (clinical.md §12.1b R-BoNT-4); the units it lacks are asked for."""
    intake, _token = start(front_desk, patient)
    given = timezone.localdate() - dt.timedelta(days=20)
    submit(
        intake,
        toxin_before="yes",
        toxin_last_date=given.isoformat(),
        toxin_last_area="scalp",
        toxin_last_product="unknown",
    )
    services.intake_confirm(actor=nurse, intake=intake)
    built = build_case(patient, timezone.localdate())
    assert built.case["history"]["toxin_history"] == [
        {
            "date": given.isoformat(),
            "product": "unknown",
            "indication": "given elsewhere (scalp)",
            "area": "scalp",
        }
    ]
    assert any(str(given + dt.timedelta(days=84)) in line for line in built.missing)


def test_no_toxin_before_at_intake_answers_the_question_on_that_day(front_desk, nurse, patient):
    """The assessment asks about toxin given elsewhere until it is answered; "never" at intake answers it
    that day, and later only doses since then are asked about."""
    not_recorded = "Botulinum toxin given outside this clinic is not recorded"
    assert any(not_recorded in line for line in build_case(patient, timezone.localdate()).missing)
    intake, _token = start(front_desk, patient)
    submit(intake, toxin_before="no")
    services.intake_confirm(actor=nurse, intake=intake)
    today = timezone.localdate()
    assert not any("toxin" in line.lower() for line in build_case(patient, today).missing)
    later = build_case(patient, today + dt.timedelta(days=30)).missing
    assert [line for line in later if "toxin" in line.lower()] == [
        f"No botulinum toxin elsewhere, as the patient said at intake on {today}: ask about doses since."
    ]


def test_the_safety_medicines_answered_yes_reach_the_record_and_the_case(front_desk, nurse, patient):
    """clinical.md §12.3-§12.4: what the patient takes (a topical retinoid, a tetracycline, a muscle relaxant,
    a potassium-raising medicine) becomes coded active medications, so the pregnancy and interaction rules
    see them in the case the Assessment page builds."""
    intake, _token = start(front_desk, patient)
    submit(
        intake,
        q_topical_retinoid="yes",
        q_topical_retinoid_which="medication:tazarotene",
        q_oral_tetracycline="yes",
        q_muscle_relaxant="yes",
        q_potassium="yes",
    )
    counts = services.intake_confirm(actor=nurse, intake=intake)
    assert counts["medications"] == 4
    expected = ["muscle_relaxant", "oral_tetracycline", "potassium_sparing_or_ace_inhibitor", "tazarotene"]
    names = {m.code: m.name for m in patient.medications.all()}
    assert sorted(names) == expected
    assert names["tazarotene"] == "Tazarotene (topical retinoid)"
    assert build_case(patient, timezone.localdate()).case["history"]["medications"] == expected


def test_codes_already_in_the_record_are_not_added_twice(front_desk, nurse, patient):
    for _ in range(2):
        intake, _token = start(front_desk, patient)
        submit(intake, q_toxin_allergy="yes", q_infection_face="yes")
        services.intake_confirm(actor=nurse, intake=intake)
    assert patient.allergies.filter(code="botulinum_toxin").count() == 1
    assert patient.conditions.filter(code="active_infection_face").count() == 1


def test_only_clinical_staff_confirm_and_only_once(front_desk, nurse, patient):
    intake, _token = start(front_desk, patient)
    submit(intake)
    with pytest.raises(PermissionDenied):
        services.intake_confirm(actor=front_desk, intake=intake)
    services.intake_confirm(actor=nurse, intake=intake)
    with pytest.raises(Conflict):
        services.intake_confirm(actor=nurse, intake=intake)


def test_another_clinic_cannot_confirm(front_desk, staff, actor_for, patient):
    intake, _token = start(front_desk, patient)
    submit(intake)
    with pytest.raises(NotFound):
        services.intake_confirm(actor=actor_for(staff["physician_b"]), intake=intake)
    assert IntakeForm.objects.get(pk=intake.pk).status == "submitted"
