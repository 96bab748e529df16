"""The intake questionnaire's rules (pure). Sources: the toxin rules each safety question feeds
(clinical.md §8.3 contraindications, neuromuscular disorders, anticoagulants, interactions; §8.1 excipients),
§1.1 daily shedding count, §5.4 self-reported oiliness, §5.7 acne treatment courses."""

import datetime as dt

import pytest

from dermatox.clinical.intake import IntakeErrors, parse_answers, questions, questions_for
from dermatox.clinical.toxin_safety import toxin_safety_by_area
from tests.intake.answers import valid_answers

TODAY = dt.date(2026, 11, 21)


def parse(sex="female", **changes):
    return parse_answers(valid_answers(sex, **changes), sex=sex, today=TODAY)


def test_all_no_gives_no_record_items_but_every_answer_kept():
    result = parse()
    assert result.conditions == result.medications == result.allergies == []
    assert set(result.answers) == {q.id for q in questions_for("female")}
    assert set(result.answers.values()) == {"no"}
    assert result.consents == {
        "treatment": "granted",
        "photography": "granted",
        "photo_teaching_marketing": "refused",
    }


def test_an_unanswered_question_is_an_error_never_a_no():
    data = valid_answers()
    del data["q_toxin_allergy"]
    with pytest.raises(IntakeErrors) as exc:
        parse_answers(data, sex="female", today=TODAY)
    assert exc.value.errors == {"q_toxin_allergy": "required"}


def test_every_bad_field_is_reported_at_once():
    data = valid_answers(q_neuromuscular="maybe", pregnant="", signature="<script>", consent_treatment="x")
    with pytest.raises(IntakeErrors) as exc:
        parse_answers(data, sex="female", today=TODAY)
    assert exc.value.errors == {
        "q_neuromuscular": "choice",
        "pregnant": "required",
        "signature": "signature",
        "consent_treatment": "choice",
    }


@pytest.mark.parametrize(
    ("question", "extra", "kind", "code"),
    [
        ("toxin_allergy", {}, "allergies", "botulinum_toxin"),  # §8.3 label contraindication
        ("albumin_allergy", {}, "allergies", "human_albumin"),  # §8.1 excipient
        ("milk_allergy", {}, "allergies", "cow_milk_protein"),  # §8.1 Dysport traces
        ("infection_face", {}, "conditions", "active_infection_face"),  # §8.3 infection at the site
        ("infection_scalp", {}, "conditions", "active_infection_scalp"),
        ("aminoglycoside", {}, "medications", "aminoglycoside"),  # §8.3 interactions
        (
            "neuromuscular",
            {"q_neuromuscular_which": "condition:myasthenia_gravis"},
            "conditions",
            "myasthenia_gravis",
        ),
        (
            "blood_thinners",
            {"q_blood_thinners_which": "medication:antiplatelet"},
            "medications",
            "antiplatelet",
        ),
    ],
)
def test_a_yes_becomes_the_coded_entry_the_toxin_rules_read(question, extra, kind, code):
    result = parse(**{f"q_{question}": "yes"}, **extra)
    assert getattr(result, kind) == [code]


@pytest.mark.parametrize(
    ("question", "extra", "code"),
    [
        ("oral_tetracycline", {}, "oral_tetracycline"),  # §12.4 isotretinoin + tetracycline; §12.3; §12.5
        (
            "topical_retinoid",
            {"q_topical_retinoid_which": "medication:topical_retinoid"},
            "topical_retinoid",
        ),  # §12.3 EMA 2018
        ("topical_retinoid", {"q_topical_retinoid_which": "medication:tazarotene"}, "tazarotene"),  # §12.3 US
        ("vitamin_a", {}, "vitamin_a"),  # §12.4 isotretinoin + vitamin A
        ("oral_minoxidil", {}, "oral_minoxidil"),  # §12.3 oral minoxidil, contraception
        ("dutasteride", {}, "dutasteride"),  # §12.3 contraindicated in pregnancy
        ("anticholinergic", {}, "anticholinergic"),  # §12.4 BoNT + anticholinergics
        ("muscle_relaxant", {}, "muscle_relaxant"),  # §12.4 BoNT + muscle relaxants
        ("potassium", {}, "potassium_sparing_or_ace_inhibitor"),  # §12.4 spironolactone + K / ACE-I / ARB
    ],
)
def test_a_yes_to_a_safety_medicine_becomes_the_medication_the_rules_read(question, extra, code):
    """clinical.md §12.3-§12.4: the medicines the pregnancy and interaction rules ask about, asked of
    every patient (men too: a woman's answer and a man's both reach the record)."""
    for sex in ("female", "male"):
        result = parse(sex, **{f"q_{question}": "yes"}, **extra)
        assert result.medications == [code]
        assert parse(sex).medications == []


def test_every_safety_medicine_is_asked_in_both_languages():
    """The nine medication ids of issue 11 each come from a question with Turkish wording."""
    new = {
        "oral_tetracycline",
        "topical_retinoid",
        "tazarotene",
        "oral_minoxidil",
        "dutasteride",
        "vitamin_a",
        "anticholinergic",
        "muscle_relaxant",
        "potassium_sparing_or_ace_inhibitor",
    }
    asked = {}
    for q in questions():
        for item in (*q.adds, *q.which):
            kind, _, code = item.partition(":")
            if kind == "medication":
                asked[code] = q
    assert new <= set(asked)
    for code in new:
        q = asked[code]
        assert q.text_tr and q.text_tr != q.text and q.label("tr") == q.text_tr and q.sex is None, code


def test_the_safety_answers_reach_the_shared_toxin_rules():
    """§8.3: myasthenia gravis and a toxin allergy contraindicate; an anticoagulant is a caution."""
    result = parse(
        q_neuromuscular="yes",
        q_neuromuscular_which="condition:myasthenia_gravis",
        q_toxin_allergy="yes",
        q_blood_thinners="yes",
        q_blood_thinners_which="medication:anticoagulant",
    )
    safety = toxin_safety_by_area(
        as_of=TODAY,
        pregnant=result.pregnant == "yes",
        breastfeeding=result.breastfeeding == "yes",
        conditions=frozenset(result.conditions),
        medications=frozenset(result.medications),
        allergies=frozenset(result.allergies),
        last_toxin_dates=[],
        areas=("scalp",),
    )["scalp"]
    assert {r.id for r in safety.contraindications} == {"myasthenia_gravis", "allergy_botulinum_toxin"}
    assert {r.id for r in safety.cautions} == {"anticoagulant"}


def test_which_one_is_required_after_a_yes_and_must_be_one_offered():
    with pytest.raises(IntakeErrors) as exc:
        parse(q_neuromuscular="yes")
    assert exc.value.errors == {"q_neuromuscular_which": "required"}
    with pytest.raises(IntakeErrors) as exc:
        parse(q_neuromuscular="yes", q_neuromuscular_which="allergy:lidocaine")
    assert exc.value.errors == {"q_neuromuscular_which": "choice"}


def test_pregnancy_is_asked_of_women_only():
    """§8.3 pregnancy/lactation: deferred; the question applies to patients who can be pregnant."""
    male = parse("male")
    assert male.pregnant is None and "pcos" not in male.answers
    assert parse(pregnant="unknown").pregnant == "unknown"


def test_prior_toxin_needs_date_area_and_product_units_optional():
    result = parse(
        toxin_before="yes", toxin_last_date="2026-10-01", toxin_last_area="face", toxin_last_product="unknown"
    )
    assert result.toxin_dose.given_on == dt.date(2026, 10, 1) and result.toxin_dose.units is None
    with pytest.raises(IntakeErrors) as exc:
        parse(toxin_before="yes", toxin_last_date="2026-12-01", toxin_last_area="knee", toxin_last_units="-3")
    assert exc.value.errors == {
        "toxin_last_date": "future",
        "toxin_last_area": "choice",
        "toxin_last_product": "required",
        "toxin_last_units": "range",
    }


def test_hair_answers_become_observations_with_the_record_codes():
    """§1.1: the daily count is the patient's own estimate (stored as reported)."""
    result = parse(hair_concern="yes", daily_shedding="150", hair_thinning="yes", hair_trigger="no")
    assert result.observations == {
        "daily_shedding": 150,
        "hair_thinning": "yes",
        "hair_loss_trigger_3m": "no",
    }
    with pytest.raises(IntakeErrors) as exc:
        parse(hair_concern="yes", daily_shedding="12.5", hair_thinning="yes", hair_trigger="no")
    assert exc.value.errors == {"daily_shedding": "range"}


def test_skin_answers_and_acne_courses():
    """§5.4 self-reported oiliness is kept as the patient's view; §5.7 courses with weeks and outcome."""
    result = parse(
        skin_concern="yes",
        oily_skin="yes",
        course_1_treatment="topical_first_line",
        course_1_weeks="12",
        course_1_outcome="inadequate",
    )
    assert result.observations == {"oily_skin_reported": "yes"}
    assert [(c.treatment, c.weeks, c.outcome) for c in result.courses] == [
        ("topical_first_line", 12, "inadequate")
    ]
    with pytest.raises(IntakeErrors) as exc:
        parse(skin_concern="yes", oily_skin="no", course_2_treatment="topical_first_line")
    assert exc.value.errors == {"course_2_weeks": "required", "course_2_outcome": "required"}


def test_free_text_lines_are_bounded():
    assert parse(other_medications="Levothyroxine 50 µg\n\n  Vitamin D ").other_medications == [
        "Levothyroxine 50 µg",
        "Vitamin D",
    ]
    with pytest.raises(IntakeErrors) as exc:
        parse(other_allergies="x" * 201)
    assert exc.value.errors == {"other_allergies": "too_long"}


def test_a_signature_must_be_a_drawn_path():
    for bad in ("", "M 1 1", "M 1 1 L 2 2 L 3 3", "M 1000 1 L 2 2 L 3 3 L 4 4"):
        with pytest.raises(IntakeErrors) as exc:
            parse(signature=bad)
        assert "signature" in exc.value.errors


def test_every_question_item_exists_in_the_vocabularies():
    assert len(questions()) >= 10  # loading validates every item against conditions/medications/allergens
