"""Toxin arithmetic, protocols and the plan check; each case cites clinical.md."""

import json
import subprocess
import sys

import pytest

from dermatox.clinical.pathways import CaseError
from dermatox.clinical.reference import ReferenceDataError
from dermatox.clinical.toxin.plan import check_plan
from dermatox.clinical.toxin.protocols import expand_points, load_protocols, total_units
from dermatox.clinical.toxin.reconstitution import ToxinInputError, diluent_for, reconstitute


@pytest.mark.parametrize(
    ("product", "vial", "diluent", "per_0_1"),
    [
        ("onabotulinumtoxinA", 100, 1, 10.0),  # §8.2 dilution table (Botox 100 U)
        ("onabotulinumtoxinA", 100, 2, 5.0),
        ("onabotulinumtoxinA", 100, 2.5, 4.0),
        ("onabotulinumtoxinA", 100, 4, 2.5),
        ("onabotulinumtoxinA", 100, 8, 1.25),
        ("onabotulinumtoxinA", 100, 10, 1.0),
        ("onabotulinumtoxinA", 50, 1.25, 4.0),  # §8.2: 50-U vial + 1.25 mL
        ("prabotulinumtoxinA", 100, 2.5, 4.0),  # §8.1: Jeuveau 2.5 mL/100 U
        ("prabotulinumtoxinA", 200, 5, 4.0),  # §8.1: Nabota 5 mL/200 U
    ],
)
def test_reconstitution_matches_the_label_tables(product, vial, diluent, per_0_1):
    concentration = reconstitute(product, vial, diluent)
    assert concentration.units_per_0_1_ml == pytest.approx(per_0_1)
    assert concentration.units_per_ml == pytest.approx(per_0_1 * 10)


def test_reverse_and_volume_per_point():
    assert diluent_for("onabotulinumtoxinA", 100, 4) == 2.5
    assert reconstitute("onabotulinumtoxinA", 100, 2.5).volume_ml(20) == pytest.approx(0.5)


def test_ready_to_use_liquid_is_not_reconstituted():
    """§8.1: relabotulinumtoxinA is a ready-to-use liquid, 10 U/0.1 mL."""
    assert reconstitute("relabotulinumtoxinA", 50, None).units_per_0_1_ml == 10.0
    with pytest.raises(ToxinInputError, match="ready-to-use"):
        reconstitute("relabotulinumtoxinA", 50, 2)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("onabotulinumtoxinA", 100, 0), "diluent_ml"),
        (("onabotulinumtoxinA", 100, -1), "diluent_ml"),
        (("onabotulinumtoxinA", 300, 2), "vial_units"),  # §8.1: Botox 50/100/200
        (("abobotulinumtoxinA", 100, 2), "vial_units"),  # §8.1: Dysport 300/500
        (("botox", 100, 2), "product"),  # brand names are not product ids: units differ by product
    ],
)
def test_impossible_reconstitution_names_the_field(args, field):
    with pytest.raises(ToxinInputError) as info:
        reconstitute(*args)
    assert info.value.field == field


def test_protocols_match_their_sources():
    protocols = load_protocols()
    hair = protocols["hair_scalp_im"]  # §3.1 Freund 2010: 150 U, 30 sites x 5 U, 5 U/0.1 mL, IM
    assert total_units(hair) == 150 and len(expand_points(hair)) == 30
    assert {p["units"] for p in expand_points(hair)} == {5.0} and hair["depth"] == "intramuscular"
    assert hair["units_per_0_1_ml"] == 5.0 and hair["review_weeks"] == [12, 24]
    glabellar = protocols["glabellar_lines"]  # §8.1/§10: 20 U = 5 sites x 4 U
    assert total_units(glabellar) == 20 and len(expand_points(glabellar)) == 5
    axilla = protocols["axillary_hyperhidrosis"]  # §10: 50 U per axilla, intradermal, 10-15 points
    per_side = [
        sum(p["count"] * p["units"] for p in axilla["points"] if p["region"] == side)
        for side in ("axilla_left", "axilla_right")
    ]
    assert per_side == [50, 50] and axilla["depth"] == "intradermal"
    for sebum in (
        "sebum_forehead_id",
        "sebum_cheeks_id",
    ):  # §6.1: per-point doses not fixed: clinic templates
        assert protocols[sebum]["depth"] == "intradermal" and protocols[sebum]["clinic_choices"]
        assert protocols[sebum]["published"] and protocols[sebum]["confidence"] == "U"


def test_a_clinic_adds_its_own_protocol(tmp_path):
    own = tmp_path / "ours.toml"
    own.write_text("""
[[protocol]]
id = "masseter_ours"
display = "Masseter"
display_tr = "Masseter"
product = "incobotulinumtoxinA"
indication = "masseter"
area = "face"
off_label = true
depth = "intramuscular"
units_per_0_1_ml = 5.0
points = [{ region = "masseter_left", count = 3, units = 8.0 }]
review_weeks = [4]
clinic_choices = ["all"]
published = "clinic protocol"
source = "clinic"
confidence = "U"
""")
    assert "masseter_ours" in load_protocols((own,))
    own.write_text(own.read_text().replace('depth = "intramuscular"', 'depth = "deep"'))
    with pytest.raises(ReferenceDataError, match="depth"):
        load_protocols((own,))


def plan(**extra):
    base = {
        "as_of": "2026-11-21",
        "patient": {"sex": "male", "birth_date": "1980-01-01"},
        "product": "onabotulinumtoxinA",
        "protocol": "glabellar_lines",
        "vial": {"vial_units": 100, "diluent_ml": 2.5},
    }
    return {**base, **extra}


def ids(items):
    return {item["id"] for item in items}


def test_plain_label_plan_is_ok_with_volumes():
    result = check_plan(plan())
    assert result["status"] == "ok" and result["total_units"] == 20 and result["units_per_0_1_ml"] == 4.0
    assert result["total_volume_ml"] == pytest.approx(0.5) and len(result["points"]) == 5
    assert result["points"][0]["volume_ml"] == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("history", "block"),
    [
        ({"conditions": ["myasthenia_gravis"]}, "myasthenia_gravis"),  # §8.3, same rules as the pathways
        ({"allergies": ["human_albumin"]}, "excipient_allergy"),  # §12.1b R-BoNT-3: ona contains albumin
        ({"conditions": ["active_infection_face"]}, "active_infection_face"),
    ],
)
def test_contraindications_block(history, block):
    result = check_plan(plan(history=history))
    assert result["status"] == "blocked" and block in ids(result["blocks"])


def test_scalp_infection_does_not_block_a_face_plan_but_blocks_the_scalp():
    history = {"conditions": ["active_infection_scalp"]}
    assert check_plan(plan(history=history))["status"] == "ok"
    scalp = check_plan(
        plan(history=history, protocol="hair_scalp_im", vial={"vial_units": 200, "diluent_ml": 4})
    )
    assert "active_infection_scalp" in ids(scalp["blocks"])


def dose(date, units, product="onabotulinumtoxinA"):
    return {"date": date, "product": product, "units": units, "indication": "glabellar_lines"}


def test_less_than_84_days_blocks_with_not_before():
    """§8.3: no sooner than every 12 weeks."""
    result = check_plan(plan(history={"toxin_history": [dose("2026-10-01", 20)]}))
    assert "retreatment_interval" in ids(result["blocks"]) and result["not_before"] == "2026-12-24"


def test_label_maximum_over_90_days():
    """§8.3, §12.1b R-BoNT-1: Botox cumulative <= 400 U per 3 months."""
    history = {
        "toxin_history": [dose("2026-08-24", 260)]
    }  # 89 days ago: in the window, > 84 days: no interval block
    result = check_plan(
        plan(history=history, protocol="hair_scalp_im", vial={"vial_units": 200, "diluent_ml": 4})
    )
    assert "above_label_maximum" in ids(result["blocks"])  # 260 + 150 > 400
    ok = check_plan(
        plan(
            history={"toxin_history": [dose("2026-08-24", 250)]},
            protocol="hair_scalp_im",
            vial={"vial_units": 200, "diluent_ml": 4},
        )
    )
    assert "above_label_maximum" not in ids(ok["blocks"])  # 250 + 150 = 400
    other = check_plan(
        plan(
            history={"toxin_history": [dose("2026-08-24", 260, "abobotulinumtoxinA")]},
            protocol="hair_scalp_im",
            vial={"vial_units": 200, "diluent_ml": 4},
        )
    )
    assert "above_label_maximum" not in ids(other["blocks"])  # another product's units do not add up


def test_protocol_for_another_product_is_blocked_unless_a_conversion_is_acknowledged():
    """§8.2: units are not interchangeable and cannot be converted (label)."""
    abo = {"product": "abobotulinumtoxinA", "vial": {"vial_units": 300, "diluent_ml": 1.5}}
    result = check_plan(plan(**abo))
    assert "units_not_interchangeable" in ids(result["blocks"])
    converted = check_plan(plan(**abo, conversion={"ratio": 2.5, "acknowledged": True}))
    assert converted["status"] == "warn" and converted["total_units"] == 50
    assert "conversion_applied" in ids(converted["warnings"])
    with pytest.raises(CaseError, match="acknowledged"):
        check_plan(plan(**abo, conversion={"ratio": 2.5}))


def test_expired_or_beyond_use_vial_blocks():
    assert "vial_expired" in ids(
        check_plan(plan(vial={"vial_units": 100, "diluent_ml": 2.5, "expiry": "2026-11-20"}))["blocks"]
    )
    assert "vial_beyond_use" in ids(
        check_plan(plan(vial={"vial_units": 100, "diluent_ml": 2.5, "beyond_use": "2026-11-20T09:00:00"}))[
            "blocks"
        ]
    )


@pytest.mark.parametrize(
    ("history", "warning"),
    [
        ({"medications": ["aminoglycoside"]}, "aminoglycoside"),
        ({"medications": ["anticoagulant"]}, "anticoagulant"),
        ({"medications": ["antiplatelet"]}, "antiplatelet"),
    ],
)
def test_cautions_warn(history, warning):
    result = check_plan(plan(history=history))
    assert result["status"] == "warn" and warning in ids(result["warnings"])


def test_off_label_hair_and_sebum_warn():
    hair = check_plan(plan(protocol="hair_scalp_im", vial={"vial_units": 200, "diluent_ml": 4}))
    assert "off_label" in ids(hair["warnings"])
    sebum = check_plan(plan(protocol="sebum_forehead_id", vial={"vial_units": 100, "diluent_ml": 5}))
    assert "off_label" in ids(sebum["warnings"]) and sebum["total_units"] == 10


def test_a_dose_per_point_far_from_the_protocol_warns():
    points = [{"region": "procerus", "depth": "intramuscular", "units": 10}] + [
        {"region": "corrugator_left", "depth": "intramuscular", "units": 4}
    ] * 4
    result = check_plan(plan(points=points))
    assert "dose_per_point" in ids(result["warnings"]) and result["total_units"] == 26


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"product": "botox"}, "product: unknown product"),
        ({"protocol": "nope"}, "protocol: unknown protocol"),
        ({"vial": {"vial_units": 100, "diluent_ml": 0}}, "vial.diluent_ml: must be a number greater than 0"),
        (
            {"vial": {"vial_units": 120, "diluent_ml": 2}},
            "vial.vial_units: onabotulinumtoxinA comes in vials",
        ),
        (
            {"points": [{"region": "procerus", "depth": "deep", "units": 4}]},
            "points[0].depth: must be one of",
        ),
        (
            {"points": [{"region": "procerus", "depth": "intradermal", "units": 0}]},
            "points[0].units: must be a number greater than 0",
        ),
        ({"colour": "red"}, "colour: unknown field"),
        ({"patient": {"sex": "x", "birth_date": "1980-01-01"}}, "patient.sex: must be one of male, female"),
    ],
)
def test_bad_plans_name_the_field(change, problem):
    with pytest.raises(CaseError) as info:
        check_plan(plan(**change))
    assert any(problem in p for p in info.value.problems), info.value.problems


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "dermatox", "toxin", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_reconstitute_prints_the_json_contract():
    result = run(
        "reconstitute", "--product", "onabotulinumtoxinA", "--vial-units", "100", "--diluent-ml", "2.5"
    )
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "product": "onabotulinumtoxinA",
        "vial_units": 100,
        "diluent_ml": 2.5,
        "units_per_ml": 40.0,
        "units_per_0_1_ml": 4.0,
    }


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--product", "onabotulinumtoxinA", "--vial-units", "100", "--diluent-ml", "0"], "--diluent-ml"),
        (["--product", "onabotulinumtoxinA", "--vial-units", "100", "--diluent-ml", "-2"], "--diluent-ml"),
        (["--product", "nope", "--vial-units", "100", "--diluent-ml", "2"], "--product"),
        (["--product", "onabotulinumtoxinA", "--vial-units", "150", "--diluent-ml", "2"], "--vial-units"),
    ],
)
def test_cli_reconstitute_exits_2_naming_the_field(args, field):
    result = run("reconstitute", *args)
    assert result.returncode == 2 and field in result.stderr


def test_cli_plan():
    result = run("plan", "-", stdin=json.dumps(plan(history={"conditions": ["als"]})))
    assert result.returncode == 0 and json.loads(result.stdout)["status"] == "blocked"
    bad = run("plan", "-", stdin=json.dumps(plan(vial={"vial_units": 100, "diluent_ml": -1})))
    assert bad.returncode == 2 and "vial.diluent_ml" in bad.stderr


def test_beyond_use_is_checked_to_the_minute_when_the_time_is_known():
    plan = {
        "as_of": "2026-11-21",
        "at": "2026-11-21T15:00:00+00:00",
        "patient": {"sex": "male", "birth_date": "1980-01-01"},
        "product": "onabotulinumtoxinA",
        "protocol": "glabellar_lines",
        "vial": {
            "vial_units": 100,
            "diluent_ml": 2.5,
            "beyond_use": "2026-11-21T08:00:00+00:00",
            "remaining_units": 10,
        },
    }
    result = check_plan(plan)
    assert "vial_beyond_use" in {b["id"] for b in result["blocks"]}
    assert "exceeds_vial" in {w["id"] for w in result["warnings"]}  # 20 U planned, 10 U left


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"conversion": {"ratio": float("nan"), "acknowledged": True}}, "conversion.ratio"),
        ({"conversion": {"ratio": 10**400, "acknowledged": True}}, "conversion.ratio"),
        ({"indication": ["hair"]}, "indication: unknown indication"),
        ({"vial": {"vial_units": 10**400, "diluent_ml": 2}}, "vial.vial_units"),
    ],
)
def test_odd_plan_numbers_are_refused_not_crashed_on(change, problem):
    from dermatox.clinical.pathways import CaseError

    plan = {
        "as_of": "2026-11-21",
        "patient": {"sex": "male", "birth_date": "1980-01-01"},
        "product": "onabotulinumtoxinA",
        "protocol": "glabellar_lines",
        "vial": {"vial_units": 100, "diluent_ml": 2.5},
        **change,
    }
    with pytest.raises(CaseError) as info:
        check_plan(plan)
    assert any(problem in p for p in info.value.problems), info.value.problems
