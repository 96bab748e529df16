"""Hair-loss pathway cases. Each cites its source in ../shared/reference/clinical.md (and the issue's rule)."""

import pytest

from dermatox.clinical.pathways import assess
from dermatox.clinical.pathways.hair import HAIR_TREATMENTS
from tests.clinical.pathway_helpers import case, finding_ids, lab, rec, status

HAIR = HAIR_TREATMENTS


def test_normal_shedding_means_no_hair_treatment():
    """§1.1: 50-100/day is the (unvalidated) norm; pull test <= 2 normal (McDonald 2017)."""
    result = assess(case(hair={"daily_shedding": 80, "pull_test_hairs": 2, "norwood": "II"}))
    assert "hair_within_normal" in finding_ids(result)
    assert {status(result, t) for t in HAIR} == {"not_indicated"}
    assert result["workup"] == {"suggested": [], "missing": []}


@pytest.mark.parametrize(
    ("hair", "indicated"),
    [
        ({"daily_shedding": 101}, True),  # §1.1: > 100/day
        ({"daily_shedding": 100}, False),
        ({"pull_test_hairs": 3}, True),  # §1.1 McDonald 2017: normal <= 2
        ({"pull_test_hairs": 2}, False),
        ({"scalp_gaps": True}, True),  # seed + issue rule
        ({"thinning": True}, True),
        ({"growth_problem": True}, True),
        ({"norwood": "III"}, True),  # §1.2: Norwood III first cosmetically significant stage
        ({"norwood": "III-vertex"}, True),
        ({"norwood": "IIa"}, False),
        ({"ludwig": "I"}, True),  # §1.2 Ludwig I: perceptible thinning
        ({"sinclair": 2}, True),  # §1.2 Sinclair 2: widened part
        ({"sinclair": 1}, False),
    ],
)
def test_when_hair_treatment_is_needed(hair, indicated):
    result = assess(case(sex="female", hair=hair))
    assert ("hair_treatment_indicated" in finding_ids(result)) is indicated
    assert ("hair_within_normal" in finding_ids(result)) is not indicated


def test_diffuse_shedding_work_up():
    """§2.2 suggested rule sets: diffuse shedding -> Hb, ferritin, TSH. Vitamin D only with a documented
    indication: §12.6 Endocrine Society 2024 (no routine testing) replaces the 2011 advice."""
    result = assess(case(hair={"daily_shedding": 150}))
    assert result["workup"]["suggested"] == ["hemoglobin", "ferritin", "tsh"]
    assert result["workup"]["missing"] == result["workup"]["suggested"]
    assert "vitamin_d_not_routine" in finding_ids(result)
    indicated = assess(case(hair={"daily_shedding": 150}, history={"conditions": ["malabsorption"]}))
    assert indicated["workup"]["suggested"] == ["hemoglobin", "ferritin", "tsh", "vitamin_d_25oh"]


def test_a_woman_gets_the_basic_panel_even_without_diffuse_shedding():
    result = assess(case(sex="female", hair={"ludwig": "I"}))
    assert result["workup"]["suggested"] == ["hemoglobin", "ferritin", "tsh"]


def test_woman_with_hyperandrogenism_adds_androgens_and_metabolic_screen():
    """§2.1 Endocrine Society 2018; §2.2 rule set for FPHL with hyperandrogenism."""
    result = assess(case(sex="female", hair={"ludwig": "II", "hyperandrogenism_signs": True}))
    suggested = result["workup"]["suggested"]
    for test in (
        "testosterone_total",
        "testosterone_free",
        "shbg",
        "dhea_s",
        "17_oh_progesterone",
        "prolactin",
        "hba1c",
    ):
        assert test in suggested
    assert "hyperandrogenism_workup" in finding_ids(result)


def test_recent_trigger_with_diffuse_shedding_needs_no_labs():
    """§2.1/§2.2: skip labs when a clear trigger 2-3 months earlier explains the shedding (Kakpovbia 2021)."""
    result = assess(case(sex="female", hair={"daily_shedding": 180, "trigger_last_3_months": True}))
    assert "te_after_trigger" in finding_ids(result)
    assert result["workup"]["suggested"] == []


def test_typical_male_aga_without_diffuse_shedding_needs_no_labs():
    """§2.2 rule sets: male AGA, typical pattern, no systemic signs: no mandatory labs (U)."""
    result = assess(case(hair={"norwood": "IV", "daily_shedding": 60}))
    assert result["workup"]["suggested"] == []
    assert "no_labs_required" in finding_ids(result)
    assert "aga_inferred" in finding_ids(result)


def test_missing_counts_only_recent_results():
    """Issue rule: results older than 180 days before as_of do not count."""
    result = assess(
        case(
            hair={"daily_shedding": 150},
            labs=[
                lab("ferritin", 50, "ng/mL", "2026-06-01"),  # 173 days: counts
                lab("hemoglobin", 14, "g/dL", "2026-05-01"),  # 204 days: too old
            ],
        )
    )
    assert result["workup"]["missing"] == ["hemoglobin", "tsh"]
    assert "labs_too_old" in finding_ids(result)
    assert [entry["test"] for entry in result["labs"]] == ["ferritin"]


@pytest.mark.parametrize(
    ("test", "value", "unit", "canonical", "flag"),
    [
        ("vitamin_d_25oh", 40, "nmol/L", 16.03, "low"),  # §12.6: ng/mL x 2.496 = nmol/L; IOM < 20 ng/mL
        ("vitamin_d_25oh", 50, "nmol/L", 20.03, "normal"),
        ("vitamin_d_25oh", 20, "ng/mL", 20.0, "normal"),  # exactly 20 ng/mL is not < 20
        ("vitamin_d_25oh", 35, "ng/mL", 35.0, "normal"),
        ("ferritin", 12, "ug/L", 12.0, "low"),  # §2.2: ng/mL = ug/L; <= 15 confirms deficiency
        ("ferritin", 12, "µg/L", 12.0, "low"),
        ("testosterone_total", 6, "nmol/L", 173.04, "high"),  # §2.2: > 5.2 nmol/L (> 150 ng/dL) in women
        ("vitamin_b12", 100, "pmol/L", 135.5, "low"),  # B12 pmol/L <-> pg/mL
        ("hemoglobin", 11.5, "g/dL", 11.5, "low"),  # §2.2: anaemia in women < 12.0 g/dL
        ("17_oh_progesterone", 250, "ng/dL", 250.0, "high"),  # §2.2: > 200 ng/dL suggests NCCAH
        ("dhea_s", 800, "ug/dL", 800.0, "high"),  # §2.2: > 700 ug/dL suggests adrenal tumour
    ],
)
def test_lab_units_are_converted_and_flagged(test, value, unit, canonical, flag):
    result = assess(case(sex="female", hair={"thinning": True}, labs=[lab(test, value, unit)]))
    (entry,) = result["labs"]
    assert entry["value"] == pytest.approx(canonical, abs=0.01)
    assert entry["flag"] == flag
    assert entry["loinc"] and entry["meaning"]


def test_loinc_code_names_the_test_and_the_laboratory_interval_wins():
    result = assess(
        case(hair={"thinning": True}, labs=[lab("3016-3", 4.5, "mIU/L", ref_low=0.3, ref_high=5.0)])
    )
    (entry,) = result["labs"]
    assert entry["test"] == "tsh" and entry["flag"] == "normal"
    assert entry["interval"]["source"] == "laboratory"


def test_lab_specific_test_without_interval_is_not_called_normal():
    """§2.2: free testosterone interval is lab-specific: no flag is invented."""
    result = assess(
        case(sex="female", hair={"thinning": True}, labs=[lab("testosterone_free", 3.1, "pg/mL")])
    )
    assert result["labs"][0]["flag"] is None


def test_supplements_only_for_a_documented_deficiency():
    """§2.1 Guo & Katta 2017; Almohanna 2019: supplements only against a documented deficiency."""
    result = assess(
        case(
            hair={"daily_shedding": 150},
            labs=[lab("ferritin", 12, "ng/mL"), lab("vitamin_d_25oh", 15, "ng/mL")],
        )
    )
    supplements = rec(result, "oral_supplements")
    assert supplements["status"] == "recommended"
    assert "iron" in supplements["reasons"][0] and "vitamin D" in supplements["reasons"][0]
    result = assess(case(hair={"daily_shedding": 150}, labs=[lab("ferritin", 80, "ng/mL")]))
    supplements = rec(result, "oral_supplements")
    assert supplements["status"] == "not_indicated"
    assert "supplements without a deficiency are not supported" in supplements["reasons"][0].lower()


@pytest.mark.parametrize(
    ("sex", "labs", "referred"),
    [
        ("male", [lab("tsh", 7.5, "mIU/L")], True),  # abnormal TSH (default interval, U)
        ("female", [lab("tsh", 0.1, "mIU/L")], True),
        ("female", [lab("tsh", 2.0, "mIU/L")], False),
        ("female", [lab("testosterone_total", 160, "ng/dL")], True),  # §2.2: > 150 ng/dL in a woman
        ("female", [lab("testosterone_total", 45, "ng/dL")], False),  # §12.6: within 8 ng/dL-1.7 nmol/L
        ("female", [lab("testosterone_total", 150, "ng/dL")], True),  # §12.6: above the 1.7 nmol/L ULN
        ("female", [lab("dhea_s", 701, "ug/dL")], True),  # §2.2: > 700 ug/dL
        ("male", [lab("testosterone_total", 700, "ng/dL")], False),  # the thresholds are for women
    ],
)
def test_referral_to_endocrinology(sex, labs, referred):
    result = assess(case(sex=sex, hair={"thinning": True}, labs=labs))
    assert status(result, "referral_endocrinology") == ("recommended" if referred else "not_indicated")


def test_alopecia_areata_goes_to_dermatology_not_toxin():
    result = assess(case(hair={"scalp_gaps": True, "diagnosis": "alopecia_areata"}))
    assert status(result, "referral_dermatology") == "recommended"
    assert status(result, "botulinum_scalp") == "not_indicated"


def test_male_aga_pathway():
    """§4 (EDF S3 2011): minoxidil and finasteride level 1; PRP and microneedling adjuncts; mesotherapy
    insufficient evidence. §3, §12.8c: scalp toxin investigational, uncontrolled positive, placebo-controlled
    negative; an adjunct once minoxidil or finasteride is under way."""
    result = assess(
        case(
            hair={"norwood": "IV", "diagnosis": "androgenetic_alopecia"},
            history={"medications": ["finasteride"]},
        )
    )
    assert status(result, "minoxidil_topical") == "recommended"
    assert status(result, "finasteride") == "recommended"
    assert status(result, "prp") == "option"
    assert status(result, "microneedling_scalp") == "option"
    mesotherapy = rec(result, "mesotherapy")
    assert mesotherapy["status"] == "option" and mesotherapy["evidence_level"] == "very_low"
    assert status(result, "hormonal_therapy") == "not_indicated"
    botox = rec(result, "botulinum_scalp")
    assert botox["status"] == "option"
    text = " ".join(botox["reasons"]).lower()
    assert "off-label" in text and "uncontrolled" in text and "placebo-controlled" in text
    assert {"melo_2024", "freund_2010"} <= set(botox["evidence"])


def test_female_aga_pathway():
    """§12.3: finasteride is contraindicated in women who are or may become pregnant (a woman of 40 may,
    by default); a woman who cannot become pregnant is outside its label (not indicated)."""
    result = assess(case(sex="female", hair={"ludwig": "II", "hyperandrogenism_signs": True}))
    assert status(result, "minoxidil_topical") == "recommended"
    assert status(result, "finasteride") == "contraindicated"
    after = assess(case(sex="female", birth_date="1960-01-01", hair={"ludwig": "II"}))
    assert status(after, "finasteride") == "not_indicated"
    assert status(result, "hormonal_therapy") == "option"
    assert status(result, "botulinum_scalp") == "not_indicated"
    result = assess(case(sex="female", hair={"ludwig": "II"}))
    assert status(result, "hormonal_therapy") == "not_indicated"


def test_minoxidil_is_contraindicated_in_pregnancy_and_breastfeeding():
    for flag in ("pregnant", "breastfeeding"):
        result = assess(case(sex="female", hair={"ludwig": "I"}, **{flag: True}))
        assert status(result, "minoxidil_topical") == "contraindicated"


@pytest.mark.parametrize(
    ("birth_date", "expected", "reason"),
    [
        ("2008-11-22", "not_indicated", "aesthetic_bont_under_18"),  # 17 on as_of: never under 18
        ("2008-11-21", "not_indicated", "age_range"),  # 18: below the enrolled 19
        ("2007-11-21", "option", "scalp_bont_investigational"),  # 19
        ("1963-11-21", "option", "scalp_bont_investigational"),  # 63
        ("1962-11-21", "not_indicated", "age_range"),  # 64: above the enrolled 63
    ],
)
def test_scalp_toxin_only_for_men_aged_19_to_63(birth_date, expected, reason):
    """§12.8c: studies enrolled adult men aged 19-63 (the seed's 18-65 is wrong); §12.5 no BoNT < 18."""
    result = assess(
        case(birth_date=birth_date, hair={"norwood": "V"}, history={"medications": ["minoxidil_topical"]})
    )
    assert status(result, "botulinum_scalp") == expected
    assert reason in rec(result, "botulinum_scalp")["reason_ids"]


def test_scalp_toxin_not_for_telogen_effluvium_alone():
    """§12.7: TE alone withholds scalp BoNT and AGA drugs; TE with a pattern stage still gets AGA treatment."""
    alone = assess(case(hair={"daily_shedding": 200, "diagnosis": "telogen_effluvium"}))
    assert status(alone, "botulinum_scalp") == "not_indicated"
    assert status(alone, "minoxidil_topical") == "not_indicated"
    staged = assess(case(hair={"daily_shedding": 200, "norwood": "III", "diagnosis": "telogen_effluvium"}))
    assert status(staged, "minoxidil_topical") == "recommended"
    assert "te_with_aga" in finding_ids(staged)


@pytest.mark.parametrize(
    ("test", "value", "unit", "flag"),
    [
        ("hba1c", 6.5, "%", "high"),  # §2.2 ADA: >= 6.5 % diabetes (U)
        ("hba1c", 6.4, "%", "normal"),
        ("fasting_glucose", 126, "mg/dL", "high"),  # §2.2 ADA: >= 126 mg/dL (U)
        ("fasting_glucose", 125, "mg/dL", "normal"),
    ],
)
def test_diagnostic_cut_offs_written_as_at_least_are_inclusive(test, value, unit, flag):
    result = assess(case(sex="female", hair={"thinning": True}, labs=[lab(test, value, unit)]))
    assert result["labs"][0]["flag"] == flag


def test_spec_phrases_appear_in_the_texts():
    """The issue's wording: 'shedding is within normal', 'likely telogen effluvium after a trigger',
    'supplements without a deficiency are not supported'."""
    normal = assess(case(hair={"daily_shedding": 50}))
    assert any("shedding is within normal" in f["text"] for f in normal["findings"])
    te = assess(case(hair={"daily_shedding": 150, "trigger_last_3_months": True}))
    assert any("likely telogen effluvium after a trigger" in f["text"] for f in te["findings"])
    assert "supplements without a deficiency are not supported" in " ".join(
        rec(te, "oral_supplements")["reasons"]
    )
