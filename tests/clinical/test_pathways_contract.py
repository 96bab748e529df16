"""The assess contract: input validation, JSON Schemas, evidence that resolves, JSON-serialisable output."""

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermatox.clinical.pathways import CaseError, assess
from dermatox.clinical.pathways.case import GAGS_REGIONS, HAIR_DIAGNOSES, LUDWIG, NORWOOD, OUTCOMES, SEBORRHEA
from dermatox.clinical.pathways.schema import input_schema, output_schema
from dermatox.clinical.reference import by_id
from tests.clinical.pathway_helpers import case, lab

ROOT = Path(__file__).resolve().parents[2]
INPUT = jsonschema.Draft202012Validator(input_schema())
OUTPUT = jsonschema.Draft202012Validator(output_schema())


def test_published_schemas_are_current():
    for name, schema in (("assess-input", input_schema()), ("assess-output", output_schema())):
        published = json.loads((ROOT / "docs" / "schema" / f"{name}.schema.json").read_text())
        assert published == schema, f"docs/schema/{name}.schema.json is stale: dermatox assess --schema ..."
    jsonschema.Draft202012Validator.check_schema(input_schema())
    jsonschema.Draft202012Validator.check_schema(output_schema())


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (case(hair={"daily_shedding": -1}), "hair.daily_shedding: must be an integer >= 0"),
        (case(hair={"daily_shedding": "many"}), "hair.daily_shedding: must be an integer >= 0"),
        (case(hair={"daily_shedding": True}), "hair.daily_shedding: must be an integer >= 0"),
        (case(hair={"shedding": 120}), "hair.shedding: unknown field"),
        (case(extra={}), "extra: unknown field"),
        (case(hair={"norwood": "VIII"}), "hair.norwood: must be one of"),
        (case(hair={"pull_test_hairs": 61}), "hair.pull_test_hairs: must be an integer from 0 to 60"),
        (case(history={"conditions": ["lupus"]}), "history.conditions[0]: unknown condition id 'lupus'"),
        (
            case(history={"medications": ["aspirin"]}),
            "history.medications[0]: unknown medication id 'aspirin'",
        ),
        (case(history={"allergies": ["nuts"]}), "history.allergies[0]: unknown allergy id 'nuts'"),
        (
            case(
                history={
                    "toxin_history": [
                        {"date": "2026-01-01", "product": "botox", "units": 20, "indication": "x"}
                    ]
                }
            ),
            "history.toxin_history[0].product: unknown product id 'botox'",
        ),
        (
            case(
                history={
                    "toxin_history": [
                        {"date": "2026-01-01", "product": "onabotulinumtoxinA", "units": 0, "indication": "x"}
                    ]
                }
            ),
            "history.toxin_history[0].units: must be a number > 0",
        ),
        (case(labs=[lab("ferritin", 30, "mg/dL")]), "labs[0].unit: unknown unit 'mg/dL' for ferritin"),
        (case(labs=[lab("cortisol", 30, "ug/dL")]), "labs[0].test: unknown test 'cortisol'"),
        (case(labs=[lab("ferritin", -3, "ng/mL")]), "labs[0].value: must be a number >= 0"),
        (
            case(labs=[lab("ferritin", 30, "ng/mL", date="2027-01-01")]),
            "labs[0].date: must not be after as_of",
        ),
        (case(labs=[{"test": "ferritin", "value": 30, "unit": "ng/mL"}]), "labs[0].date: required"),
        (case(skin={"acne": {"iga": 5}}), "skin.acne.iga: must be an integer from 0 to 4"),
        (case(skin={"seborrhea": "oily"}), "skin.seborrhea: must be one of none, mild, marked"),
        (
            case(skin={"prior_treatments": [{"treatment": "laser", "weeks": 8, "outcome": "good"}]}),
            "skin.prior_treatments[0].treatment: must be one of",
        ),
        (
            case(skin={"scars": {"goodman_baron": 5}}),
            "skin.scars.goodman_baron: must be an integer from 1 to 4",
        ),
        (case(sex="x"), "patient.sex: must be one of male, female"),
        (case(birth_date="2030-01-01"), "patient.birth_date: must not be after as_of"),
        (case(birth_date="01/02/1990"), "patient.birth_date: must be a date (YYYY-MM-DD)"),
        (case(sex="male", pregnant=True), "patient.pregnant: cannot be true for sex male"),
        ({"patient": {"sex": "male", "birth_date": "1990-01-01"}}, "as_of: required"),
        ({"as_of": "2026-11-21"}, "patient: required"),
        ([], "case: must be a JSON object"),
    ],
)
def test_invalid_input_names_field_and_rule(raw, problem):
    with pytest.raises(CaseError) as info:
        assess(raw)
    assert any(p.startswith(problem) or problem in p for p in info.value.problems), info.value.problems
    # Rules that relate two fields (dates, units per test, sex) are the engine's; the schema checks the rest.
    cross_field = ("must not be after", "cannot be true", "does not match", "unknown unit")
    if not any(words in problem for words in cross_field):
        assert not INPUT.is_valid(raw)


def test_all_problems_are_reported_at_once():
    with pytest.raises(CaseError) as info:
        assess(case(hair={"daily_shedding": -1, "sinclair": 9}, labs=[lab("ferritin", 1, "kg")]))
    assert len(info.value.problems) == 3


def test_only_as_of_and_patient_are_required():
    result = assess(case())
    assert OUTPUT.is_valid(result)
    assert len(result["recommendations"]) == len(by_id("treatments.toml"))


# A generator of valid, varied cases: the same one feeds the benchmark.
hair_st = st.fixed_dictionaries(
    {},
    optional={
        "daily_shedding": st.integers(0, 400),
        "pull_test_hairs": st.integers(0, 60),
        "norwood": st.sampled_from(NORWOOD),
        "sinclair": st.integers(1, 5),
        "diagnosis": st.sampled_from(HAIR_DIAGNOSES),
        "thinning": st.booleans(),
        "scalp_gaps": st.booleans(),
        "hyperandrogenism_signs": st.booleans(),
        "trigger_last_3_months": st.booleans(),
        "ludwig": st.sampled_from(LUDWIG),
    },
)
acne_st = st.fixed_dictionaries(
    {},
    optional={
        "gags": st.integers(0, 44),
        "iga": st.integers(0, 4),
        "nodules": st.integers(0, 5),
        "scarring": st.booleans(),
        "gags_regions": st.fixed_dictionaries({r: st.integers(0, 4) for r in GAGS_REGIONS}),
    },
)
prior_st = st.lists(
    st.fixed_dictionaries(
        {
            "treatment": st.sampled_from(
                ["topical_first_line", "oral_antibiotic", "hormonal_therapy_acne", "isotretinoin"]
            ),
            "weeks": st.integers(0, 30),
            "outcome": st.sampled_from(OUTCOMES),
        }
    ),
    max_size=3,
)
lab_st = st.lists(
    st.builds(
        lambda test, value, days: lab(
            test, value, by_id("lab_tests.toml")[test]["unit"], date=f"2026-{(11 - days // 31):02d}-01"
        ),
        st.sampled_from(sorted(by_id("lab_tests.toml"))),
        st.floats(0, 1000, allow_nan=False),
        st.integers(0, 300),
    ),
    max_size=5,
)


@st.composite
def cases(draw):
    sex = draw(st.sampled_from(["male", "female"]))
    raw = case(sex=sex, birth_date=f"{draw(st.integers(1940, 2008))}-06-15")
    if sex == "female":
        raw["patient"]["pregnant"] = draw(st.booleans())
    raw["history"] = {
        "conditions": draw(
            st.lists(st.sampled_from(sorted(by_id("conditions.toml"))), max_size=3, unique=True)
        ),
        "medications": draw(
            st.lists(st.sampled_from(sorted(by_id("medications.toml"))), max_size=2, unique=True)
        ),
    }
    raw["hair"] = draw(hair_st)
    acne = draw(acne_st)
    if "gags" in acne and "gags_regions" in acne:
        del acne["gags"]
    raw["skin"] = {
        "acne": acne,
        "seborrhea": draw(st.sampled_from(SEBORRHEA)),
        "prior_treatments": draw(prior_st),
        "scars": {"goodman_baron": draw(st.integers(1, 4))},
    }
    raw["labs"] = draw(lab_st)
    return raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_every_valid_case_gives_a_schema_valid_honest_result(raw):
    assert INPUT.is_valid(raw), list(INPUT.iter_errors(raw))[:1]
    result = assess(raw)
    json.dumps(result)  # serialises
    OUTPUT.validate(result)
    evidence = by_id("evidence.toml")
    for r in result["recommendations"]:
        assert r["evidence"] and all(e in evidence for e in r["evidence"])
        assert r["reasons"]
        assert (r["status"] == "defer") == ("not_before" in r)
        assert (r["status"] == "not_yet") == ("after" in r)
    for f in result["findings"]:
        assert all(e in evidence for e in f["evidence"])
    if raw["patient"].get("pregnant"):
        for t in ("botulinum_scalp", "botulinum_intradermal", "isotretinoin", "oral_antibiotic"):
            assert next(r for r in result["recommendations"] if r["treatment"] == t)["status"] in (
                "contraindicated",
                "not_indicated",
            )


def test_every_treatment_cites_evidence_that_resolves():
    evidence = by_id("evidence.toml")
    for treatment in by_id("treatments.toml").values():
        assert treatment["evidence"] and all(e in evidence for e in treatment["evidence"]), treatment["id"]
        assert treatment["evidence_level"] in ("high", "moderate", "low", "very_low")
    for test in by_id("lab_tests.toml").values():
        assert test["threshold_source"] in evidence


def test_engine_is_pure_and_does_not_read_the_clock(monkeypatch):
    """Same case, same answer, whatever the day: the date is an argument."""
    import datetime as dt

    first = assess(
        case(
            hair={"daily_shedding": 150},
            history={
                "toxin_history": [
                    {
                        "date": "2026-10-01",
                        "product": "onabotulinumtoxinA",
                        "units": 20,
                        "indication": "glabellar_lines",
                    }
                ]
            },
        )
    )

    class Frozen(dt.date):
        @classmethod
        def today(cls):
            raise AssertionError("the engine read the clock")

    monkeypatch.setattr(dt, "date", Frozen)
    assert (
        assess(
            case(
                hair={"daily_shedding": 150},
                history={
                    "toxin_history": [
                        {
                            "date": "2026-10-01",
                            "product": "onabotulinumtoxinA",
                            "units": 20,
                            "indication": "glabellar_lines",
                        }
                    ]
                },
            )
        )
        == first
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            case(skin={"acne": {"gags_regions": {"forehead": 2, "back": 1}}}),
            "skin.acne.gags_regions.back: unknown field",
        ),
        (
            case(
                history={
                    "toxin_history": [{"date": "2026-01-01", "product": ["x"], "units": 5, "indication": "x"}]
                }
            ),
            "history.toxin_history[0].product: unknown product id",
        ),
        (case(sex="male", breastfeeding=True), "patient.breastfeeding: cannot be true for sex male"),
        (
            case(labs=[{"test": ["x"], "value": 1, "unit": "ng/mL", "date": "2026-01-01"}]),
            "labs[0].test: unknown test",
        ),
    ],
)
def test_odd_shapes_are_reported_not_crashed_on(raw, problem):
    with pytest.raises(CaseError) as info:
        assess(raw)
    assert any(problem in p for p in info.value.problems), info.value.problems
