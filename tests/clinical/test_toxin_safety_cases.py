"""The toxin plan check's safety rules, one case per §12 row (clinical.md §12.1, §12.1b, §12.2, §12.4,
§12.5, §12.8c); each case fails if its rule is removed."""

import datetime as dt

import pytest

from dermatox.clinical.toxin.plan import check_plan
from dermatox.clinical.toxin.protocols import load_protocols
from tests.clinical.toxin_helpers import AS_OF, dose, ids, item, plan, points

# --- R-BoNT-1: dose ceilings -------------------------------------------------------------------------


def test_label_doses_of_every_product_are_ok():
    """§12.1: each product at its own glabellar label dose (units are per product)."""
    for product in (
        "onabotulinumtoxinA",
        "abobotulinumtoxinA",
        "incobotulinumtoxinA",
        "prabotulinumtoxinA",
        "letibotulinumtoxinA",
        "daxibotulinumtoxinA",
        "relabotulinumtoxinA",
    ):
        result = check_plan(plan(product))
        assert result["status"] == "ok", (product, result["blocks"], result["warnings"])
        assert result["reference_dose"]["units"] == result["total_units"]


def test_200_u_ona_glabellar_is_blocked():
    """§12.1b R-BoNT-1: 200 U ona GL (10x label) -> block; also above Botox Cosmetic's 64 U upper face."""
    result = check_plan(plan(units=200))
    assert result["status"] == "blocked"
    assert {"far_above_reference_dose", "above_label_maximum"} <= ids(result["blocks"])
    far = item(result, "far_above_reference_dose")
    assert far["params"]["reference_units"] == 20 and far["params"]["times"] == 10
    assert item(result, "above_label_maximum")["params"]["limit_id"] == "ona_max_upper_face"


def test_500_u_abo_glabellar_is_blocked():
    """§12.1b R-BoNT-1: 500 U abo GL (10x the 50 U label dose) -> block."""
    result = check_plan(plan("abobotulinumtoxinA", units=500))
    assert result["status"] == "blocked" and "far_above_reference_dose" in ids(result["blocks"])
    assert item(result, "far_above_reference_dose")["params"]["reference_units"] == 50


def test_5000_u_abo_is_blocked():
    """§12.1b R-BoNT-1: 5,000 U abo -> block (above the 1,000 U largest single-indication figure)."""
    result = check_plan(
        plan("abobotulinumtoxinA", indication="axillary_hyperhidrosis", points=points(5000, count=10))
    )
    assert result["status"] == "blocked" and "above_label_maximum" in ids(result["blocks"])
    assert item(result, "above_label_maximum")["params"]["limit_units"] == 1000


def test_800_u_inco_is_blocked():
    """§12.1b R-BoNT-1: 800 U inco -> block (above the label's 400 U per session)."""
    result = check_plan(
        plan("incobotulinumtoxinA", indication="axillary_hyperhidrosis", points=points(800, count=4))
    )
    maximum = item(result, "above_label_maximum")
    assert result["status"] == "blocked" and maximum["params"]["limit_id"] == "inco_max_session"
    assert "800 U" in maximum["text"] and "400 U" in maximum["text"]


def test_ona_400_u_in_90_days_counts_every_ona_dose():
    """§12.1b R-BoNT-1: ona <= 400 U per rolling 90 days, summed over all ona doses (any indication)."""
    scalp = {"protocol": "hair_scalp_im", "indication": "hair", "vial": {"vial_units": 200, "diluent_ml": 4}}
    del_points = {k: v for k, v in plan(**scalp).items() if k != "points"}
    over = check_plan({**del_points, "history": {"toxin_history": [dose(88, 260, area="axilla")]}})
    assert "above_label_maximum" in ids(over["blocks"])
    assert item(over, "above_label_maximum")["params"]["earlier_units"] == 260
    outside = check_plan({**del_points, "history": {"toxin_history": [dose(90, 260, area="axilla")]}})
    assert "above_label_maximum" not in ids(outside["blocks"])  # 90 days ago: out of the window


@pytest.mark.parametrize(
    ("product", "units", "limit"),
    [
        ("daxibotulinumtoxinA", 48, "daxi_max_session"),  # §12.1b: Daxxify 40 U per GL session
        ("relabotulinumtoxinA", 120, "rela_max_session"),  # §12.1b: Relfydess 110 U per session
        ("incobotulinumtoxinA", 70, "inco_max_upper_face"),  # §12.1b: Xeomin 64 U GL + FHL + LCL
    ],
)
def test_session_maxima_of_other_products(product, units, limit):
    result = check_plan(plan(product, units=units))
    assert item(result, "above_label_maximum")["params"]["limit_id"] == limit


def test_one_to_two_times_the_reference_dose_warns_and_above_blocks():
    """§12.1b R-BoNT-1: above the label dose is an off-label dose needing a reason; above 2x (U default)
    blocks."""
    warned = check_plan(plan(units=30))
    assert warned["status"] == "warn" and "above_reference_dose" in ids(warned["warnings"])
    assert "record the clinical reason" in item(warned, "above_reference_dose")["text"]
    assert "above_reference_dose" in ids(check_plan(plan(units=40))["warnings"])  # exactly 2x: a warning
    assert "far_above_reference_dose" in ids(check_plan(plan(units=41))["blocks"])


def test_protocol_total_is_the_reference_without_a_label_dose():
    """§12.1 has no label dose for hair: the protocol's published total (Freund 2010, 150 U) is the
    reference; the U sebum templates say they are unconfirmed."""
    scalp = check_plan(
        plan(
            protocol="hair_scalp_im",
            indication="hair",
            points=points(330, count=30, region="frontalis"),
            vial={"vial_units": 200, "diluent_ml": 4},
        )
    )
    far = item(scalp, "far_above_reference_dose")
    assert far["params"]["reference_units"] == 150 and far["params"]["area_term"] == "scalp"
    sebum = check_plan(
        plan(
            protocol="sebum_forehead_id",
            indication="sebum",
            points=points(15, count=20, region="forehead"),
            vial={"vial_units": 100, "diluent_ml": 5},
        )
    )
    above = item(sebum, "above_reference_dose")
    assert above["params"]["confidence"] == "U" and "clinic-editable default" in above["text"]


def test_a_dose_with_unknown_units_in_the_window_is_named_not_counted():
    """§12.1b R-BoNT-4: record every dose with product, date and units; an uncounted one is said."""
    history = {"toxin_history": [dose(87, None, area=None)]}  # > 84 days: no interval block
    result = check_plan(plan(history=history))
    assert "retreatment_interval" not in ids(result["blocks"])
    assert "units unknown" in item(result, "dose_not_counted")["text"]


# --- R-BoNT-2 / R-BoNT-3: excipients ------------------------------------------------------------------


def test_cows_milk_allergy_blocks_abo_and_no_other_product():
    """§12.1b R-BoNT-2: a contraindication for abo (Dysport, Azzalure); never flagged for ona, inco, prabo,
    leti or daxi."""
    allergy = {"allergies": ["cow_milk_protein"]}
    abo = check_plan(plan("abobotulinumtoxinA", history=allergy))
    assert abo["status"] == "blocked" and "excipient_allergy" in ids(abo["blocks"])
    assert "Cow's milk protein" in item(abo, "excipient_allergy")["text"]
    for product in (
        "onabotulinumtoxinA",
        "incobotulinumtoxinA",
        "prabotulinumtoxinA",
        "letibotulinumtoxinA",
        "daxibotulinumtoxinA",
    ):
        result = check_plan(plan(product, history=allergy))
        assert result["status"] == "ok", (product, result["blocks"], result["warnings"])


def test_human_albumin_allergy_blocks_albumin_products_not_daxi():
    """§12.1b R-BoNT-3: only daxibotulinumtoxinA is confirmed albumin-free; Relfydess and Letybo are not
    confirmed (U), so they are blocked and the text says it is an unconfirmed default."""
    allergy = {"allergies": ["human_albumin"]}
    assert check_plan(plan("daxibotulinumtoxinA", history=allergy))["status"] == "ok"
    for product in ("onabotulinumtoxinA", "abobotulinumtoxinA", "incobotulinumtoxinA", "prabotulinumtoxinA"):
        result = check_plan(plan(product, history=allergy))
        assert "excipient_allergy" in ids(result["blocks"]), product
        assert "unconfirmed" not in item(result, "excipient_allergy")["text"]
    for product in ("letibotulinumtoxinA", "relabotulinumtoxinA"):
        block = item(check_plan(plan(product, history=allergy)), "excipient_allergy")
        assert "unconfirmed default, U" in block["text"], product


def test_a_botulinum_toxin_allergy_blocks_every_product():
    """§8.3: hypersensitivity to any botulinum toxin product."""
    result = check_plan(plan("daxibotulinumtoxinA", history={"allergies": ["botulinum_toxin"]}))
    assert "allergy_botulinum_toxin" in ids(result["blocks"])


# --- §12.2: conversion with direction --------------------------------------------------------------------


@pytest.fixture
def abo_forehead(tmp_path):
    """A clinic's sebum protocol of 30 abo units to the forehead (Kesty & Goldberg, clinical.md §6.1)."""
    own = tmp_path / "abo.toml"
    own.write_text("""
[[protocol]]
id = "sebum_forehead_abo"
display = "Oily forehead, abobotulinumtoxinA"
display_tr = "Yağlı alın, abobotulinumtoksinA"
product = "abobotulinumtoxinA"
indication = "sebum"
area = "face"
off_label = true
depth = "intradermal"
units_per_0_1_ml = 2.0
points = [{ region = "forehead", count = 10, units = 3.0 }]
review_weeks = [2, 12]
clinic_choices = ["all"]
published = "30 U abobotulinumtoxinA intradermally to the forehead"
source = "clinical.md §6.1"
confidence = "U"
""")
    return load_protocols((own,))


def ona_from_abo(protocols, ratio):
    raw = {
        **{k: v for k, v in plan().items() if k not in ("points", "indication")},
        "protocol": "sebum_forehead_abo",
    }
    if ratio is not None:
        raw["conversion"] = {"ratio": ratio, "acknowledged": True}
    return check_plan(raw, protocols=protocols)


def test_30_u_abo_forehead_to_ona_gives_10_to_12_u(abo_forehead):
    """§12.2: ona U = abo U / 2.5-3.0: 30 U abo -> 10-12 U ona."""
    result = ona_from_abo(abo_forehead, 0.4)
    assert result["total_units"] == pytest.approx(12)
    assert result["conversion"]["estimate_units"] == [10, 12]
    assert "conversion_applied" in ids(result["warnings"]) and result["status"] == "warn"
    assert ona_from_abo(abo_forehead, 1 / 3)["total_units"] == pytest.approx(10)
    assert "conversion_applied" in ids(ona_from_abo(abo_forehead, 0.33)["warnings"])  # 1/3 to 2 decimals


def test_a_ratio_applied_the_wrong_way_is_blocked(abo_forehead):
    """§12.2: never multiply abo units by 2.5 to get ona units (that gives 75 U)."""
    result = ona_from_abo(abo_forehead, 2.5)
    block = item(result, "conversion_ratio_out_of_range")
    assert result["status"] == "blocked" and result["total_units"] == pytest.approx(75)
    assert "10-12 U, not 75 U" in block["text"]
    assert "units_not_interchangeable" in ids(ona_from_abo(abo_forehead, None)["blocks"])


def test_ona_to_abo_in_its_own_direction():
    """§12.2: abo U = ona U x 2.5-3.0; 1:1 is outside that range."""
    abo = {"product": "abobotulinumtoxinA", "vial": {"vial_units": 300, "diluent_ml": 1.5}}
    raw = {**{k: v for k, v in plan().items() if k != "points"}, **abo, "protocol": "glabellar_lines"}
    ok = check_plan({**raw, "conversion": {"ratio": 2.5, "acknowledged": True}})
    assert ok["status"] == "warn" and ok["total_units"] == 50
    wrong = check_plan({**raw, "conversion": {"ratio": 1, "acknowledged": True}})
    assert "conversion_ratio_out_of_range" in ids(wrong["blocks"])


@pytest.mark.parametrize(
    ("product", "detail"),
    [
        ("daxibotulinumtoxinA", "not to convert"),  # §12.2 ona <-> daxi: do not convert
        ("relabotulinumtoxinA", "not to convert"),  # §12.2 ona <-> rela: do not convert
    ],
)
def test_pairs_that_must_not_be_converted_are_blocked(product, detail):
    vial = {"relabotulinumtoxinA": {"vial_units": 100}}.get(product, {"vial_units": 100, "diluent_ml": 2.5})
    raw = {
        **{k: v for k, v in plan().items() if k != "points"},
        "product": product,
        "vial": vial,
        "protocol": "glabellar_lines",
        "conversion": {"ratio": 2, "acknowledged": True},
    }
    block = item(check_plan(raw), "conversion_ratio_out_of_range")
    assert detail in block["text"]


def test_a_pair_without_a_published_ratio_is_blocked(tmp_path, abo_forehead):
    """§12.2 has no inco <-> abo row."""
    raw = {
        **{k: v for k, v in plan("incobotulinumtoxinA").items() if k not in ("points", "indication")},
        "protocol": "sebum_forehead_abo",
        "conversion": {"ratio": 0.4, "acknowledged": True},
    }
    block = item(check_plan(raw, protocols=abo_forehead), "conversion_ratio_out_of_range")
    assert "no published ratio" in block["text"]


# --- R-BoNT-4: other products, the interval, the same area twice ----------------------------------------


def test_abo_300_then_ona_150_the_same_day_is_blocked():
    """§12.1b R-BoNT-4: a different product on the same day -> block."""
    history = {"toxin_history": [dose(0, 300, "abobotulinumtoxinA", "spasticity", area="axilla")]}
    scalp = {"protocol": "hair_scalp_im", "indication": "hair", "vial": {"vial_units": 200, "diluent_ml": 4}}
    raw = {**{k: v for k, v in plan(**scalp).items() if k != "points"}, "history": history}
    result = check_plan(raw)
    assert result["status"] == "blocked" and "other_product_same_day" in ids(result["blocks"])
    assert "retreatment_interval" not in ids(result["blocks"])  # the same day is not a retreatment


def test_an_unknown_product_the_same_day_is_blocked_too():
    """§12.1b R-BoNT-4: a dose today whose product is unknown cannot be told apart from another product."""
    history = {"toxin_history": [dose(0, 20, "unknown", "given elsewhere", area="axilla")]}
    assert "other_product_same_day" in ids(check_plan(plan(history=history))["blocks"])


def test_abo_86_days_earlier_is_a_caution_not_an_interval_block():
    """§12.1b R-BoNT-4: another BoNT within 4 months -> caution; 86 days > the 84-day interval."""
    result = check_plan(plan(history={"toxin_history": [dose(86, 50, "abobotulinumtoxinA")]}))
    assert result["status"] == "warn" and "other_product_recent" in ids(result["warnings"])
    assert "retreatment_interval" not in ids(result["blocks"])
    later = check_plan(plan(history={"toxin_history": [dose(121, 50, "abobotulinumtoxinA")]}))
    assert later["status"] == "ok"  # beyond 120 days


@pytest.mark.parametrize(
    ("product", "units", "said"),
    [
        ("onabotulinumtoxinA", None, "units unknown"),
        ("unknown", None, "product and units unknown"),
        ("unknown", 20, "unknown product"),
    ],
)
def test_a_dose_30_days_ago_starts_the_interval_whatever_is_unknown(product, units, said):
    """§8.3 / §12.1b: a dose with a known date always starts the 12-week interval."""
    result = check_plan(plan(history={"toxin_history": [dose(30, units, product, "elsewhere", area=None)]}))
    block = item(result, "retreatment_interval")
    assert result["status"] == "blocked" and said in block["text"]
    assert result["not_before"] == (AS_OF + dt.timedelta(days=84 - 30)).isoformat()


def test_the_same_area_twice_in_a_day_is_blocked():
    """Issue 11 (R-BoNT-4 'same indication inside the minimum interval'): a second full scalp session."""
    history = {"toxin_history": [dose(0, 150, indication="hair", area="scalp")]}
    scalp = {"protocol": "hair_scalp_im", "indication": "hair", "vial": {"vial_units": 200, "diluent_ml": 4}}
    raw = {**{k: v for k, v in plan(**scalp).items() if k != "points"}, "history": history}
    result = check_plan(raw)
    assert "same_area_same_day" in ids(result["blocks"])
    assert item(result, "above_reference_dose")["params"]["units"] == 300  # the day's doses count (2x)
    again = check_plan(plan(history={"toxin_history": [dose(0, 20)]}))  # a second glabellar session
    assert "same_area_same_day" in ids(again["blocks"])


def test_another_indication_in_the_face_at_the_same_visit_is_allowed_and_counted():
    """§12.1 / §12.1b: GL + FHL are labelled together (40 U); the upper face counts up to 64 U."""
    history = {"toxin_history": [dose(0, 20, indication="forehead_lines")]}
    ok = check_plan(plan(history=history))
    assert ok["status"] == "ok", (ok["blocks"], ok["warnings"])
    both = {
        "toxin_history": [
            dose(0, 20, indication="forehead_lines"),
            dose(0, 24, indication="lateral_canthal_lines"),
        ]
    }
    over = check_plan(plan(units=25, history=both))  # 20 + 24 + 25 = 69 U > 64 U upper face
    assert item(over, "above_label_maximum")["params"]["total_units"] == 69


def test_a_dose_earlier_today_in_another_area_is_allowed_but_counts_toward_the_maximum():
    """§12.1b: ona <= 400 U over all indications; another area the same day is the same visit."""
    scalp = {"protocol": "hair_scalp_im", "indication": "hair", "vial": {"vial_units": 200, "diluent_ml": 4}}
    base = {k: v for k, v in plan(**scalp).items() if k != "points"}
    fine = check_plan(
        {
            **base,
            "history": {"toxin_history": [dose(0, 100, indication="axillary_hyperhidrosis", area="axilla")]},
        }
    )
    assert not {"same_area_same_day", "retreatment_interval", "above_label_maximum"} & ids(fine["blocks"])
    over = check_plan(
        {
            **base,
            "history": {"toxin_history": [dose(0, 300, indication="axillary_hyperhidrosis", area="axilla")]},
        }
    )
    assert item(over, "above_label_maximum")["params"]["total_units"] == 450


# --- R-BoNT-6 / §12.5: ages; §12.3: pregnancy -----------------------------------------------------------


def test_a_15_year_old_glabellar_plan_is_blocked():
    """§12.5: aesthetic BoNT, block < 18 y (example: 15 y glabellar plan)."""
    result = check_plan(plan(age=15))
    assert result["status"] == "blocked" and "under_18" in ids(result["blocks"])
    assert check_plan(plan(age=18))["status"] == "ok"


@pytest.mark.parametrize("product", ["abobotulinumtoxinA", "incobotulinumtoxinA", "relabotulinumtoxinA"])
def test_65_and_over_is_above_the_labelled_age_of_dysport_bocouture_and_relfydess(product):
    """§12.1b R-BoNT-6: < 65 for Dysport, Azzalure, Bocouture and Relfydess (off-label warning above)."""
    assert check_plan(plan(product, age=64))["status"] == "ok"
    result = check_plan(plan(product, age=65))
    assert result["status"] == "warn" and "above_labelled_age" in ids(result["warnings"])
    assert check_plan(plan("onabotulinumtoxinA", age=80))["status"] == "ok"  # Botox: adults


def test_letybo_at_76_is_contraindicated():
    """§12.1b R-BoNT-6: Letybo UK/EU contraindicated >= 75 y."""
    assert check_plan(plan("letibotulinumtoxinA", age=74))["status"] == "ok"
    result = check_plan(plan("letibotulinumtoxinA", age=76))
    assert result["status"] == "blocked" and "above_labelled_age_contraindicated" in ids(result["blocks"])


@pytest.mark.parametrize("flag", ["pregnant", "breastfeeding"])
def test_a_pregnant_or_breastfeeding_patient_is_blocked(flag):
    """§12.3: defer aesthetic BoNT until after pregnancy and breastfeeding."""
    result = check_plan(plan(sex="female", age=30, patient={flag: True}))
    assert result["status"] == "blocked" and flag.replace("pregnant", "pregnancy") in ids(result["blocks"])


# --- §12.4 interactions, §12.8c pathway eligibility --------------------------------------------------------


@pytest.mark.parametrize("medication", ["aminoglycoside", "anticholinergic", "muscle_relaxant"])
def test_interacting_medicines_warn(medication):
    """§12.4: BoNT + aminoglycosides / anticholinergics / muscle relaxants: warn."""
    result = check_plan(plan(history={"medications": [medication]}))
    assert result["status"] == "warn" and medication in ids(result["warnings"])


def scalp_plan(**extra):
    scalp = {"protocol": "hair_scalp_im", "vial": {"vial_units": 200, "diluent_ml": 4}}
    return {k: v for k, v in plan(**scalp, **extra).items() if k not in ("points", "indication")}


def test_a_scalp_plan_for_a_woman_warns_studied_in_men_only():
    """§12.8c: studies enrolled adult men aged 19-63."""
    result = check_plan(scalp_plan(sex="female", age=40))
    warning = item(result, "not_indicated_by_pathway")
    assert "Studied in men only" in warning["text"] and warning["params"]["treatment"] == "botulinum_scalp"
    assert "not_indicated_by_pathway" not in ids(check_plan(scalp_plan())["warnings"])  # man, 46
    old = item(check_plan(scalp_plan(age=70)), "not_indicated_by_pathway")
    assert old["params"]["reason_ids"] == ["reason.age_range"]


def test_a_scalp_plan_reads_the_stated_hair_diagnosis():
    """§12.7 / §12.8c: scalp BoNT was studied only in androgenetic alopecia."""
    result = check_plan({**scalp_plan(sex="female", age=40), "hair": {"diagnosis": "alopecia_areata"}})
    warning = item(result, "not_indicated_by_pathway")
    assert "Studied in men only" in warning["text"] and "alopecia areata" in warning["text"]


def test_vial_sizes_of_r_bont_5_are_accepted():
    """§12.1b R-BoNT-5: Azzalure 125 U (0.63 mL -> 10 U/0.05 mL), Letybo 50/100, Daxxify 50/100, ..."""
    azzalure = check_plan(plan("abobotulinumtoxinA", vial={"vial_units": 125, "diluent_ml": 0.63}))
    assert azzalure["units_per_0_1_ml"] == pytest.approx(19.8413, abs=1e-3)  # 10 U per 0.05 mL
    for product, sizes in (
        ("onabotulinumtoxinA", (50, 100, 200)),
        ("incobotulinumtoxinA", (50, 100, 200)),
        ("letibotulinumtoxinA", (50, 100)),
        ("prabotulinumtoxinA", (100,)),
        ("daxibotulinumtoxinA", (50, 100)),
        ("abobotulinumtoxinA", (125, 300, 500)),
    ):
        for size in sizes:
            assert check_plan(plan(product, vial={"vial_units": size, "diluent_ml": 2.5}))["status"] in (
                "ok",
                "warn",
            )
