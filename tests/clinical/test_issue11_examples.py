"""The unsafe and wrong answers issue 11 reports, run the way the clinician ran them: through the
`dermatox assess` and `dermatox toxin plan` commands (JSON in, JSON out). Each cites its §12 row."""

import json
import subprocess
import sys

import pytest

from tests.clinical.pathway_helpers import case


def cli(*args: str, payload: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "dermatox", *args, "-"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def status(result, treatment):
    return next(r["status"] for r in result["recommendations"] if r["treatment"] == treatment)


def glabellar(product: str, units: float, **patient) -> dict:
    return {
        "as_of": "2026-11-21",
        "patient": {"sex": "female", "birth_date": "1990-01-01", **patient.pop("patient", {})},
        "product": product,
        "protocol": "glabellar_lines" if product == "onabotulinumtoxinA" else None,
        "indication": "glabellar_lines",
        "area": "face",
        "points": [{"region": "face:procerus", "depth": "intramuscular", "units": units / 5}] * 5,
        "vial": {"vial_units": 500 if product == "abobotulinumtoxinA" else 200, "diluent_ml": 2.5},
        **patient,
    }


def test_200_units_ona_into_the_glabella_is_blocked():
    """§12.1 / R-BoNT-1: 200 U ona GL is ten times the 20 U label dose."""
    plan = glabellar("onabotulinumtoxinA", 200)
    result = cli("toxin", "plan", payload=plan)
    assert result["status"] == "blocked"
    assert "far_above_reference_dose" in {b["id"] for b in result["blocks"]}


def test_cows_milk_allergy_blocks_abobotulinumtoxina_only():
    """§12.1b / R-BoNT-2: cow's milk protein allergy contraindicates abo; not ona."""
    history = {"history": {"allergies": ["cow_milk_protein"]}}
    abo = glabellar("abobotulinumtoxinA", 50, **history)
    abo.pop("protocol")
    result = cli("toxin", "plan", payload=abo)
    assert "excipient_allergy" in {b["id"] for b in result["blocks"]}
    ona = cli("toxin", "plan", payload=glabellar("onabotulinumtoxinA", 20, **history))
    assert "excipient_allergy" not in {b["id"] for b in ona["blocks"]}


def test_pregnant_woman_taking_isotretinoin_gets_a_critical_alert():
    """§12.3: 'pregnant cases on isotretinoin currently produce no alert'."""
    raw = case(
        sex="female", birth_date="1996-01-01", pregnant=True, history={"medications": ["isotretinoin"]}
    )
    result = cli("assess", payload=raw)
    (alert,) = result["safety"]["alerts"]
    assert alert["id"] == "isotretinoin_pregnancy" and alert["severity"] == "critical"


def test_pregnant_woman_with_acne_is_not_recommended_a_retinoid():
    """§12.3 topical retinoids (EMA 2018)."""
    raw = case(sex="female", birth_date="1996-01-01", pregnant=True, skin={"acne": {"gags": 25}})
    result = cli("assess", payload=raw)
    topical = next(r for r in result["recommendations"] if r["treatment"] == "topical_first_line")
    assert topical["reason_ids"][0] == "topical_first_line_pregnancy"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            case(skin={"acne": {"gags": 25}}, history={"medications": ["isotretinoin"]}),
            "contraindicated",
        ),  # §12.4
        (case(birth_date="2019-01-10", skin={"acne": {"gags": 25}}), "contraindicated"),  # §12.5: 7 years old
    ],
)
def test_doxycycline_is_not_recommended_on_isotretinoin_or_at_seven(raw, expected):
    assert status(cli("assess", payload=raw), "oral_antibiotic") == expected


def test_finasteride_is_not_level_one_evidence_for_a_fourteen_year_old():
    """§12.5 finasteride 1 mg: block < 18."""
    result = cli("assess", payload=case(birth_date="2012-05-01", hair={"norwood": "III"}))
    assert status(result, "finasteride") == "not_indicated"


def test_alopecia_areata_alone_does_not_produce_shedding_within_normal():
    """§12.7: a stated diagnosis is the working diagnosis."""
    result = cli("assess", payload=case(sex="female", hair={"diagnosis": "alopecia_areata"}))
    assert "hair_within_normal" not in {f["id"] for f in result["findings"]}
    assert status(result, "referral_dermatology") == "recommended"


def _plan_cli(payload: dict):
    return subprocess.run(
        [sys.executable, "-m", "dermatox", "toxin", "plan", "-"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_plan_with_a_free_text_or_no_indication_is_refused():
    """§12.1 R-BoNT-1: 200 U typed as 'glabellar' must not lose the dose checks: exit 2 naming the field."""
    plan = glabellar("onabotulinumtoxinA", 200)
    plan.pop("protocol")
    done = _plan_cli({**plan, "indication": "glabellar"})
    assert done.returncode == 2 and "indication: unknown indication 'glabellar'" in done.stderr
    plan.pop("indication")
    done = _plan_cli(plan)
    assert done.returncode == 2 and "indication: required" in done.stderr
    done = _plan_cli({**plan, "indication": "glabellar_lines", "area": "axilla"})
    assert done.returncode == 2 and "area: glabellar_lines is treated in the face area" in done.stderr


def test_a_second_glabellar_session_today_blocks_even_when_the_first_has_no_area():
    """Issue 11 §2: same_area_same_day; a dose without an area takes its indication's area."""
    plan = glabellar("onabotulinumtoxinA", 20)
    plan["history"] = {
        "toxin_history": [
            {
                "date": "2026-11-21",
                "product": "onabotulinumtoxinA",
                "units": 20,
                "indication": "glabellar_lines",
            }
        ]
    }
    result = cli("toxin", "plan", payload=plan)
    assert "same_area_same_day" in {b["id"] for b in result["blocks"]}


def test_a_beyond_use_time_without_the_injections_time_zone_is_refused():
    """Found by the review: mixed time zones fell back to comparing days, so a vial past its time passed."""
    plan = {**glabellar("onabotulinumtoxinA", 20), "at": "2026-11-21T10:00+03:00"}
    plan["vial"] = {**plan["vial"], "beyond_use": "2026-11-21T08:00"}
    done = _plan_cli(plan)
    assert done.returncode == 2 and "vial.beyond_use: give a time zone" in done.stderr
