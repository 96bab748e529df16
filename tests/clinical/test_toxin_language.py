"""The plan check speaks the reader's language (issue 11 §3): every block and warning renders in Turkish,
differs from the English, and a stored result re-renders from its ids and parameters."""

import json
import subprocess
import sys

import pytest

from dermatox.clinical.messages import catalogue
from dermatox.clinical.pathways import CaseError
from dermatox.clinical.toxin.plan import check_plan, localize_plan
from dermatox.clinical.toxin_safety import toxin_safety_by_area
from tests.clinical.toxin_helpers import AS_OF, day, dose, plan, points

NEW_IDS = {
    "above_label_maximum",
    "far_above_reference_dose",
    "excipient_allergy",
    "conversion_ratio_out_of_range",
    "other_product_same_day",
    "under_18",
    "above_reference_dose",
    "other_product_recent",
    "above_labelled_age",
    "above_labelled_age_contraindicated",
    "not_indicated_by_pathway",
    "anticholinergic",
    "muscle_relaxant",
    "same_area_same_day",
    "retreatment_interval",
    "dose_not_counted",
}
SCALP = {"protocol": "hair_scalp_im", "vial": {"vial_units": 200, "diluent_ml": 4}}


def no_points(raw):
    return {k: v for k, v in raw.items() if k not in ("points", "indication")}


PLANS = [
    plan(
        units=200, age=15, history={"medications": ["anticholinergic", "muscle_relaxant", "aminoglycoside"]}
    ),
    plan(units=30, history={"toxin_history": [dose(100, 20, "abobotulinumtoxinA")]}),
    plan("abobotulinumtoxinA", age=70, history={"allergies": ["cow_milk_protein"]}),
    plan("letibotulinumtoxinA", age=80, history={"allergies": ["human_albumin"]}),
    plan(history={"toxin_history": [dose(0, 20), dose(0, 10, "unknown", "elsewhere"), dose(30, None)]}),
    plan(history={"toxin_history": [dose(87, None, area=None)]}),
    no_points(plan(sex="female", age=40, **SCALP)),
    {**no_points(plan(**SCALP)), "hair": {"diagnosis": ["telogen_effluvium", "alopecia_areata"]}},
    {
        **no_points(plan("abobotulinumtoxinA")),
        "protocol": "glabellar_lines",
        "conversion": {"ratio": 1, "acknowledged": True},
    },
    {
        **no_points(plan("daxibotulinumtoxinA")),
        "protocol": "glabellar_lines",
        "conversion": {"ratio": 2, "acknowledged": True},
    },
    {
        **no_points(plan("abobotulinumtoxinA")),
        "protocol": "glabellar_lines",
        "conversion": {"ratio": 2.5, "acknowledged": True},
    },
    {**no_points(plan("incobotulinumtoxinA")), "protocol": "glabellar_lines"},
    plan(
        points=[{"region": "procerus", "depth": "intramuscular", "units": 12}] * 2,
        protocol="glabellar_lines",
        vial={
            "vial_units": 100,
            "diluent_ml": 2.5,
            "expiry": day(20),
            "beyond_use": day(1),
            "remaining_units": 5,
        },
        patient={"pregnant": True, "breastfeeding": True},
        sex="female",
        history={
            "conditions": ["myasthenia_gravis", "active_infection_face"],
            "allergies": ["botulinum_toxin"],
        },
    ),
    plan(
        indication="sebum",
        points=points(10, 20, "forehead"),
        history={"medications": ["anticoagulant", "antiplatelet"]},
    ),
]


@pytest.fixture(scope="module")
def pairs():
    return [(check_plan(raw, lang="en"), check_plan(raw, lang="tr")) for raw in PLANS]


def test_every_text_renders_in_turkish_and_differs_from_english(pairs):
    seen = set()
    for en, tr in pairs:
        assert tr["lang"] == "tr" and en["lang"] == "en"
        for kind in ("blocks", "warnings"):
            assert [i["id"] for i in en[kind]] == [i["id"] for i in tr[kind]]
            for english, turkish in zip(en[kind], tr[kind], strict=True):
                assert english["params"] == turkish["params"]
                assert turkish["text"] and "{" not in turkish["text"] and "_" not in turkish["text"]
                assert turkish["text"] != english["text"], english["id"]
                seen.add(english["id"])
    assert seen >= NEW_IDS, NEW_IDS - seen


def test_a_stored_result_re_renders_in_another_language(pairs):
    for en, tr in pairs:
        stored = json.loads(json.dumps(en))  # as kept with a signed session
        assert localize_plan(stored, "tr") == tr
        assert localize_plan(tr, "en") == en


def test_every_plan_id_has_its_message():
    ids = {i["id"] for raw in PLANS for r in [check_plan(raw)] for i in r["blocks"] + r["warnings"]}
    for rule_id in ids:
        assert f"plan.{rule_id}" in catalogue() or f"safety.{rule_id}" in catalogue(), rule_id


def test_turkish_names_products_regions_and_areas():
    result = check_plan(no_points(plan(sex="female", age=40, **SCALP)), lang="tr")
    text = " ".join(i["text"] for i in result["warnings"])
    assert "Saçlı deri kaslarına botulinum toksini" in text and "Yalnızca erkeklerde çalışıldı" in text
    raw = {
        **no_points(plan(**SCALP)),
        "history": {"toxin_history": [dose(0, 150, indication="hair", area="scalp")]},
    }
    block = next(b for b in check_plan(raw, lang="tr")["blocks"] if b["id"] == "same_area_same_day")
    assert "saçlı deri bölgesine" in block["text"] and "onabotulinumtoksinA" in block["text"]


def test_the_shared_rules_carry_their_message():
    """The pathways render toxin_safety's rules in any language; `text` stays English for English callers."""
    safety = toxin_safety_by_area(
        as_of=AS_OF,
        pregnant=True,
        breastfeeding=False,
        conditions=frozenset(),
        medications=frozenset({"muscle_relaxant"}),
        allergies=frozenset({"cow_milk_protein"}),
        last_toxin_dates=[],
        areas=("scalp",),
    )["scalp"]
    for rule in [*safety.contraindications, *safety.cautions]:
        assert rule.text == rule.msg.text("en") and rule.text_in("tr") != rule.text
        assert rule.msg.id == f"safety.{rule.id}"
    # without a product (the pathways) cow's milk stays a caution naming abobotulinumtoxinA (§12.1b R-BoNT-2)
    milk = next(r for r in safety.cautions if r.id == "allergy_cow_milk_protein")
    assert "abobotulinumtoxinA" in milk.text and "abobotulinumtoksinA" in milk.text_in("tr")


def test_an_unknown_language_is_refused():
    with pytest.raises(CaseError, match="lang"):
        check_plan(plan(), lang="de")


def run(*args, stdin):
    return subprocess.run(
        [sys.executable, "-m", "dermatox", "toxin", "plan", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_lang():
    stdin = json.dumps(plan(age=15))
    turkish = run("-", "--lang", "tr", stdin=stdin)
    assert turkish.returncode == 0
    out = json.loads(turkish.stdout)
    assert out["lang"] == "tr" and "yalnızca yetişkinlere" in out["blocks"][0]["text"]
    assert json.loads(run("-", stdin=stdin).stdout)["lang"] == "en"
    bad = run("-", "--lang", "de", stdin=stdin)
    assert bad.returncode == 2 and "--lang" in bad.stderr
