"""Laboratory limits: each case is one example or row of clinical.md §12.6 (which overrides §2.2), read
through `interpret` as the engine reads a case, or through `flag_one` as the lab-entry form does."""

import pytest

from dermatox.clinical.pathways.case import parse_case
from dermatox.clinical.pathways.labs import blocks_coc, flag_one, interpret, localize, referrals

AS_OF = "2026-11-21"
SAMPLED = "2026-11-01"


def birth_for(age: int) -> str:
    """A birth date that gives this age on the sample date (and still on as_of)."""
    return f"{2026 - age}-06-15"


def entry(
    test,
    value,
    unit,
    *,
    sex="female",
    age=30,
    pregnant=False,
    trimester=None,
    lang="en",
    **ref,
):
    patient = {"sex": sex, "birth_date": birth_for(age)}
    if pregnant:
        patient["pregnant"] = True
    if trimester:
        patient["pregnancy_trimester"] = trimester
    raw = {
        "as_of": AS_OF,
        "patient": patient,
        "labs": [{"test": test, "value": value, "unit": unit, "date": SAMPLED, **ref}],
    }
    (only,), _, _ = interpret(parse_case(raw), lang)
    return only


# --- Total testosterone ---------------------------------------------------------------------------------


def test_female_testosterone_2_5_nmol_is_raised_and_refers():
    """§12.6 total testosterone, women >= 19 y: 2.5 nmol/L (about 72 ng/dL) is above both ULNs, not normal;
    above the ULN is a raised androgen: refer, and no COC before endocrinology (§12.6 rule)."""
    e = entry("testosterone_total", 2.5, "nmol/L")
    assert e["value"] == pytest.approx(72.1)
    assert e["flag"] == "high"
    assert e["meaning_id"] == "testosterone_high_female"
    assert e["action"] == "refer_endocrinology" and e["refer"] == "referral_endocrinology"
    assert e["urgent"] is False
    assert e["interval"]["population"] == "female_19_plus"
    assert [t for t, _ in referrals([e])] == ["referral_endocrinology"]
    assert len(blocks_coc([e])) == 1


@pytest.mark.parametrize(
    ("value", "unit", "flag"),
    [
        (1.7, "nmol/L", "normal"),  # §12.6 UK ULN < 1.7 nmol/L: the stricter default (X with 60 ng/dL)
        (1.8, "nmol/L", "high"),
        (55, "ng/dL", "high"),  # within Mayo's 60 ng/dL but above the default 1.7 nmol/L (about 49 ng/dL)
        (8, "ng/dL", "normal"),  # §12.6 women >= 19 y: 8-60 ng/dL
        (7, "ng/dL", "low"),
    ],
)
def test_female_testosterone_default_upper_limit_is_the_uk_1_7_nmol(value, unit, flag):
    e = entry("testosterone_total", value, unit)
    assert e["flag"] == flag
    assert e["interval"]["high"] == pytest.approx(49.03, abs=0.01)
    assert e["interval"]["confidence"] == "X"  # conflicting sources: clinic-editable, and the text says so
    if flag == "high":
        assert "clinic-editable" in e["meaning"]


@pytest.mark.parametrize(
    ("age", "value", "flag", "population"),
    [
        (17, 70, "normal", "female_17_18"),  # §12.6 17-18 y: 20-75 ng/dL
        (18, 80, "high", "female_17_18"),
        (17, 15, "low", "female_17_18"),
        (14, 70, "normal", "female_12_16"),  # §12.6 12-16 y: < 7-75 ng/dL
        (14, 3, "normal", "female_12_16"),  # the lower limit is below detection: none applied
        (12, 80, "high", "female_12_16"),
        (10, 70, None, None),  # no interval under 12 in §12.6: not called normal
    ],
)
def test_female_testosterone_by_age_band(age, value, flag, population):
    e = entry("testosterone_total", value, "ng/dL", age=age)
    assert (e["flag"], e["interval"]["population"]) == (flag, population)
    if flag is None:
        assert e["meaning_id"] == "no_interval"


@pytest.mark.parametrize("age", [10, 30])
def test_female_testosterone_tumour_cut_off_is_separate_and_urgent(age):
    """§2.2/§12.6: in women > 150 ng/dL (> 5.2 nmol/L) raises concern for a tumour: urgent referral, apart
    from the interval (it applies even where no age band gives an interval)."""
    e = entry("testosterone_total", 6, "nmol/L", age=age)  # 173 ng/dL
    assert e["flag"] == "high" and e["urgent"] is True
    assert e["meaning_id"] == "testosterone_tumour"
    assert e["limit"] == "testosterone_female_tumour_cutoff"
    assert e["refer"] == "referral_endocrinology"
    ((_, reason),) = referrals([e])
    assert "tumour-concern cut-off" in reason.text("en") and "acil" in reason.text("tr")
    below = entry("testosterone_total", 150, "ng/dL", age=age)
    assert below["urgent"] is False


@pytest.mark.parametrize(
    ("age", "value", "flag"),
    [
        (40, 500, "normal"),  # §12.6 men >= 19 y: 240-950 ng/dL
        (40, 200, "low"),
        (40, 1000, "high"),
        (17, 500, None),  # no men's interval under 19 in §12.6
    ],
)
def test_male_testosterone(age, value, flag):
    e = entry("testosterone_total", value, "ng/dL", sex="male", age=age)
    assert e["flag"] == flag
    assert e["refer"] is None and e["urgent"] is False  # the women's thresholds do not apply to men
    assert referrals([e]) == [] and blocks_coc([e]) == []


# --- DHEA-S ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "value", "flag", "population"),
    [
        (25, 300, "normal", "female_20_29"),  # §12.6 DHEA-S women 20-29 y 54-315 µg/dL
        (25, 320, "high", "female_20_29"),
        (35, 230, "high", "female_30_39"),  # 30-39 y 37-224
        (45, 250, "high", "female_40_49"),  # 40-49 y 27-199: the same 250 is normal at 25
        (25, 250, "normal", "female_20_29"),
        (55, 170, "high", "female_50_59"),  # 50-59 y 22-166
        (65, 10, "low", "female_60_69"),  # 60-69 y 11-108
        (75, 80, "high", "female_70_plus"),  # >= 70 y 8-75
        (17, 300, None, None),  # 15-19 y omitted in §12.6 (column parse uncertain)
    ],
)
def test_dhea_s_women_by_age_band(age, value, flag, population):
    """§12.6 example "DHEA-S same": apply the age/sex band, not only the tumour cut-off."""
    e = entry("dhea_s", value, "ug/dL", age=age)
    assert (e["flag"], e["interval"]["population"]) == (flag, population)
    if flag == "high":
        assert e["refer"] == "referral_endocrinology" and blocks_coc([e])
        assert e["urgent"] is False


def test_dhea_s_tumour_cut_off_in_a_woman():
    """§2.2/§12.6: DHEA-S > 700 µg/dL suggests an adrenal tumour: urgent, apart from the age band."""
    e = entry("dhea_s", 800, "ug/dL", age=40)
    assert e["flag"] == "high" and e["urgent"] is True and e["meaning_id"] == "dhea_s_tumour"


@pytest.mark.parametrize(
    ("age", "value", "flag"),
    [
        (25, 700, "normal"),  # §12.6 men 18-30 y 105-728 (Mayo): 700 is not a tumour cut-off in men
        (25, 750, "high"),
        (65, 250, "high"),  # 61-70 y 12-227
        (75, 150, "normal"),  # >= 71 y 6.6-162
    ],
)
def test_dhea_s_men_by_age_band(age, value, flag):
    e = entry("dhea_s", value, "ug/dL", sex="male", age=age)
    assert e["flag"] == flag and e["urgent"] is False
    assert e["interval"]["confidence"] == "X"  # X with PAML: the laboratory's interval is preferred
    assert blocks_coc([e]) == []


def test_dhea_s_in_umol_per_litre():
    """§12.6: DHEA-S µg/dL x 0.0271 = µmol/L."""
    e = entry("dhea_s", 8, "umol/L", age=25)
    assert e["value"] == pytest.approx(294.8) and e["flag"] == "normal"


# --- 17-OH-progesterone ---------------------------------------------------------------------------------


def test_17_ohp_264_is_indeterminate_refers_and_blocks_coc():
    """§12.6 17-OHP: > 200 to <= 1,000 ng/dL indeterminate -> ACTH test; example 264 ng/dL ->
    referral_endocrinology indicated, and no COC before that work-up."""
    e = entry("17_oh_progesterone", 264, "ng/dL")
    assert e["flag"] == "high" and e["meaning_id"] == "ohp17_indeterminate"
    assert e["refer"] == "referral_endocrinology" and e["urgent"] is False
    ((referral, reason),) = referrals([e])
    assert referral == "referral_endocrinology"
    assert "indeterminate" in reason.text("en") and "ACTH" in reason.text("en")
    (block,) = blocks_coc([e])
    assert "264" in block.text("tr")


@pytest.mark.parametrize(
    ("value", "unit", "meaning", "refer"),
    [
        (150, "ng/dL", "ohp17_normal", None),  # < 200 ng/dL: NCCAH unlikely
        (200, "ng/dL", "ohp17_normal", None),  # "> 200" is indeterminate: 200 itself is not
        (8, "nmol/L", "ohp17_indeterminate", "referral_endocrinology"),  # x 0.0303: 264 ng/dL
        (1000, "ng/dL", "ohp17_indeterminate", "referral_endocrinology"),  # <= 1,000 still indeterminate
        (1200, "ng/dL", "ohp17_nccah_likely", "referral_endocrinology"),  # > 1,000: NCCAH likely
    ],
)
def test_17_ohp_bands(value, unit, meaning, refer):
    e = entry("17_oh_progesterone", value, unit)
    assert (e["meaning_id"], e["refer"]) == (meaning, refer)
    assert bool(blocks_coc([e])) is (refer is not None)


def test_17_ohp_has_no_default_for_men():
    e = entry("17_oh_progesterone", 264, "ng/dL", sex="male")
    assert e["flag"] is None and referrals([e]) == []


# --- Prolactin ------------------------------------------------------------------------------------------


def test_prolactin_42_refers_and_blocks_coc():
    """§12.6 prolactin: above the ULN -> repeat, exclude causes, endocrine referral; 42 ng/mL -> referral.
    Default ULN women 25 µg/L (X, clinic-editable); raised prolactin blocks the COC suggestion."""
    e = entry("prolactin", 42, "ng/mL")
    assert e["flag"] == "high" and e["refer"] == "referral_endocrinology"
    assert e["interval"]["high"] == 25 and e["interval"]["population"] == "female_not_pregnant"
    assert "biotin" in e["meaning"] and "clinic-editable" in e["meaning"]
    assert blocks_coc([e])


@pytest.mark.parametrize(
    ("sex", "pregnant", "value", "unit", "flag"),
    [
        ("female", False, 24, "ng/mL", "normal"),
        ("female", False, 900, "mIU/L", "high"),  # x ~21 mIU/L per ng/mL (assay-dependent, U): 42.5 ng/mL
        ("male", False, 18, "ng/mL", "normal"),  # §12.6 default ULN men 20 µg/L
        ("male", False, 22, "ug/L", "high"),
        ("female", True, 42, "ng/mL", "normal"),  # §12.6 Quest: pregnant 10-209 ng/mL
        ("female", True, 250, "ng/mL", "high"),
    ],
)
def test_prolactin_by_sex_and_pregnancy(sex, pregnant, value, unit, flag):
    e = entry("prolactin", value, unit, sex=sex, pregnant=pregnant)
    assert e["flag"] == flag
    assert (e["refer"] == "referral_endocrinology") is (flag == "high")


def test_raised_prolactin_in_a_man_refers_without_a_coc_reason():
    e = entry("prolactin", 22, "ng/mL", sex="male")
    assert referrals([e]) and blocks_coc([e]) == []


# --- 25-OH vitamin D ------------------------------------------------------------------------------------


def test_vitamin_d_400_nmol_is_toxic_not_normal():
    """§12.6 vitamin D: > 375 nmol/L -> check calcium, urgent clinician review; example 400 nmol/L is not
    "normal" (ng/mL x 2.496 = nmol/L)."""
    e = entry("vitamin_d_25oh", 400, "nmol/L")
    assert e["value"] == pytest.approx(160.26, abs=0.01)
    assert e["flag"] == "high" and e["urgent"] is True
    assert e["action"] == "check_calcium" and e["meaning_id"] == "vitamin_d_toxic"
    assert e["refer"] is None and referrals([e]) == []
    assert "calcium" in e["meaning"]


@pytest.mark.parametrize(
    ("age", "nmol", "flag", "action", "urgent"),
    [
        (40, 150, "high", "stop_supplements", False),  # §12.6: > 125 nmol/L "high": stop supplements
        (40, 125, "normal", None, False),  # 50 ng/mL = 124.8 nmol/L: not above
        (40, 100, "normal", None, False),
        (40, 40, "low", "correct_deficiency", False),  # below the IOM's 20 ng/mL
        (10, 150, "normal", None, False),  # the upper row is for adults (§12.6)
        (10, 400, "high", "check_calcium", True),  # the toxic cut-off applies at any age
    ],
)
def test_vitamin_d_upper_and_toxic(age, nmol, flag, action, urgent):
    e = entry("vitamin_d_25oh", nmol, "nmol/L", age=age)
    assert (e["flag"], e["action"], e["urgent"]) == (flag, action, urgent)


def test_vitamin_d_cites_the_2024_guideline_not_the_2011_cut_offs():
    """§12.6: the Endocrine Society 2024 guideline endorses no threshold; stop citing <20 / 21-29 ng/mL as
    its advice."""
    low = entry("vitamin_d_25oh", 15, "ng/mL")
    normal = entry("vitamin_d_25oh", 25, "ng/mL")
    assert "endorses no threshold" in low["meaning"] and "IOM" in low["meaning"]
    assert "against routine testing" in normal["meaning"]
    assert "insufficiency" not in low["meaning"] + normal["meaning"]


# --- Ferritin -------------------------------------------------------------------------------------------


def test_ferritin_1200_is_high_and_referred():
    """§12.6 ferritin: > 1,000 µg/L -> prompt referral (U); example 1,200 µg/L is not "normal"."""
    e = entry("ferritin", 1200, "ug/L", sex="male", age=45)
    assert e["flag"] == "high" and e["meaning_id"] == "ferritin_very_high"
    assert e["action"] == "refer_physician"
    assert e["refer"] is None  # no pathway referral id for a physician outside endocrinology
    assert (
        "clinic-editable" in e["meaning"]
        and "klinik tarafından değiştirilebilir" in localize([e], "tr")[0]["meaning"]
    )


@pytest.mark.parametrize(
    ("sex", "value", "flag"),
    [
        ("female", 160, "high"),  # §12.6 WHO 2020 (U): risk of iron overload > 150 µg/L in women
        ("female", 140, "normal"),
        ("male", 160, "normal"),  # > 200 µg/L in men
        ("male", 250, "high"),
        ("female", 12, "low"),  # §2.2: low stores (30 ng/mL default; <= 15 confirms deficiency)
    ],
)
def test_ferritin_upper_limits_by_sex(sex, value, flag):
    e = entry("ferritin", value, "ug/L", sex=sex, age=40)
    assert e["flag"] == flag
    if flag == "high":
        assert e["action"] == "further_tests" and "transferrin saturation" in e["meaning"]


# --- Haemoglobin ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "age", "pregnant", "trimester", "value", "flag"),
    [
        ("female", 30, True, 1, 11.5, "normal"),  # §12.6 example: Hb 11.5 g/dL in pregnancy is not anaemic
        ("female", 30, True, 2, 10.8, "normal"),  # 2nd trimester < 10.5 g/dL
        ("female", 30, True, 1, 10.8, "low"),  # 1st and 3rd trimester < 11.0 g/dL
        ("female", 30, True, 3, 10.8, "low"),
        ("female", 30, True, None, 10.8, "low"),  # trimester unknown: default 11.0
        ("female", 30, True, None, 11.5, "normal"),
        ("female", 16, True, 2, 10.6, "normal"),  # pregnancy cut-offs at any age
        ("female", 30, False, None, 11.5, "low"),  # non-pregnant women >= 15 y < 12.0
        ("male", 30, False, None, 12.5, "low"),  # men >= 15 y < 13.0
        ("male", 30, False, None, 13.5, "normal"),
        ("female", 12, False, None, 11.5, None),  # no cut-off under 15 in §12.6
    ],
)
def test_haemoglobin_by_sex_and_pregnancy_trimester(sex, age, pregnant, trimester, value, flag):
    e = entry("hemoglobin", value, "g/dL", sex=sex, age=age, pregnant=pregnant, trimester=trimester)
    assert e["flag"] == flag


def test_haemoglobin_in_g_per_litre():
    e = entry("hemoglobin", 108, "g/L", pregnant=True, trimester=2)
    assert e["value"] == pytest.approx(10.8) and e["flag"] == "normal"


# --- TSH and the laboratory's own interval --------------------------------------------------------------


@pytest.mark.parametrize(("value", "referred"), [(7.5, True), (0.1, True), (2.0, False)])
def test_tsh_outside_its_interval_refers(value, referred):
    e = entry("tsh", value, "mIU/L", sex="male")
    assert bool(referrals([e])) is referred
    assert blocks_coc([e]) == []


def test_the_laboratory_interval_replaces_the_default_but_keeps_its_meaning_and_the_cut_offs():
    """clinical.md header: the reporting laboratory's interval wins when given; the tumour cut-off is a
    separate field and still applies."""
    within = entry("testosterone_total", 55, "ng/dL", ref_low=8, ref_high=60)
    assert within["flag"] == "normal" and within["interval"]["source"] == "laboratory"
    assert within["interval"]["population"] == "laboratory"
    above = entry("testosterone_total", 65, "ng/dL", ref_low=8, ref_high=60)
    assert above["flag"] == "high" and above["refer"] == "referral_endocrinology"
    assert "laboratory" in above["meaning"]
    tumour = entry("testosterone_total", 160, "ng/dL", ref_low=8, ref_high=200)
    assert tumour["flag"] == "high" and tumour["urgent"] is True
    in_nmol = entry("testosterone_total", 2.5, "nmol/L", ref_high=2.08)  # the interval in the result's unit
    assert in_nmol["interval"]["high"] == pytest.approx(59.99, abs=0.01) and in_nmol["flag"] == "high"


def test_free_testosterone_without_an_interval_is_not_called_normal():
    """§2.2: free testosterone is lab-specific: no flag without the laboratory's interval."""
    e = entry("testosterone_free", 3.1, "pg/mL")
    assert e["flag"] is None and e["action"] is None
    assert entry("testosterone_free", 3.1, "pg/mL", ref_high=2.0)["flag"] == "high"


# --- Language -------------------------------------------------------------------------------------------


def test_meanings_render_in_turkish_and_re_render_from_their_ids():
    tr = entry("prolactin", 42, "ng/mL", lang="tr")
    en = entry("prolactin", 42, "ng/mL")
    assert tr["meaning"].startswith("Prolaktin yüksekliği") and "biyotin" in tr["meaning"]
    assert "klinik tarafından değiştirilebilir" in tr["meaning"]
    assert tr["meaning_id"] == en["meaning_id"] and tr["params"] == en["params"]
    assert localize([en], "tr") == [tr]
    ((_, reason),) = referrals([en])
    assert reason.text("tr").startswith("Prolaktin 42 ng/mL (25 ng/mL üzerinde;")
    pregnant = entry("hemoglobin", 11.5, "g/dL", pregnant=True, trimester=1, lang="tr")
    assert pregnant["meaning"] == "Anemi yok (gebeler, 1. trimester için varsayılan değer)."


def test_population_words_in_both_languages():
    e = entry("dhea_s", 250, "ug/dL", age=45)
    assert "women aged 40-49" in e["meaning"]
    assert "40-49 yaş arası kadınlar" in localize([e], "tr")[0]["meaning"]
    hb = entry("hemoglobin", 11.0, "g/dL")
    assert "non-pregnant women aged 15 or more" in hb["meaning"]
    assert "gebe olmayan 15 yaş ve üzeri kadınlar" in localize([hb], "tr")[0]["meaning"]
    unknown = entry("hemoglobin", 10.8, "g/dL", pregnant=True)  # the Hb limit depends on the trimester
    assert "pregnant women, trimester not stated" in unknown["meaning"]
    prolactin = entry("prolactin", 250, "ng/mL", pregnant=True, trimester=2)  # one limit for all trimesters
    assert "default for pregnant women)" in prolactin["meaning"]


# --- The lab-entry form ---------------------------------------------------------------------------------


def test_flag_one_uses_age_and_pregnancy():
    """The form flags as the engine does: the same limits, given the patient's age and pregnancy."""
    assert flag_one("testosterone_total", 2.5, "nmol/L", "female", age=30)["flag"] == "high"
    assert flag_one("testosterone_total", 2.5, "nmol/L", "female")["flag"] is None  # no age: no band guessed
    pregnant = flag_one("hemoglobin", 11.5, "g/dL", "female", age=30, pregnant=True, trimester=1)
    assert pregnant["flag"] == "normal" and pregnant["population"] == "pregnant_trimester_1"
    assert flag_one("hemoglobin", 11.5, "g/dL", "female", age=30)["flag"] == "low"
    toxic = flag_one("vitamin_d_25oh", 400, "nmol/L", "unknown", lang="tr")
    assert toxic["flag"] == "high" and toxic["urgent"] is True and "kalsiyum" in toxic["meaning"]
    assert flag_one("ferritin", 1200, "ug/L", "unknown")["action"] == "refer_physician"
