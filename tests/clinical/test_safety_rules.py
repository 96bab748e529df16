"""Issue 11 safety rules in the pathways, each case citing its row in ../shared/reference/clinical.md §12,
and the invariants (hypothesis) that no recommended/option ever breaks a hard stop."""

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermatox.clinical.messages import catalogue
from dermatox.clinical.pathways import CaseError, assess
from dermatox.clinical.pathways.case import HAIR_DIAGNOSES, LUDWIG, NORWOOD, SEBORRHEA
from dermatox.clinical.pathways.eligibility import age_limits
from dermatox.clinical.pathways.engine import drug_rules
from dermatox.clinical.reference import by_id
from tests.clinical.pathway_helpers import AS_OF, case, finding_ids, rec, status

OFFERED = ("recommended", "option")
TERATOGENS = (  # §12.3: treatments that are never offered in pregnancy
    "isotretinoin",
    "oral_antibiotic",
    "hormonal_therapy_acne",
    "hormonal_therapy",
    "finasteride",
    "minoxidil_topical",
    "botulinum_scalp",
    "botulinum_intradermal",
)


def born(age: int) -> str:
    """A birth date that gives `age` on AS_OF (mid-year, far from the birthday)."""
    return f"{int(AS_OF[:4]) - age - 1}-12-31" if age else AS_OF


def woman(age=30, **parts):
    return case(sex="female", birth_date=born(age), **parts)


def alert(result, alert_id):
    return next((a for a in result["safety"]["alerts"] if a["id"] == alert_id), None)


SEVERE = {"acne": {"gags": 35}}
MODERATE = {"acne": {"gags": 25}}


# --- §12.3 pregnancy, pregnancy potential and breastfeeding -------------------------------------------


def test_pregnant_acne_first_line_is_without_retinoid():
    """§12.3 topical retinoids (EMA 2018): 'pregnant, moderate acne -> topical retinoid recommended' must
    not occur; the first line becomes benzoyl peroxide / azelaic acid / topical clindamycin."""
    result = assess(woman(pregnant=True, skin=MODERATE))
    topical = rec(result, "topical_first_line")
    assert topical["status"] == "recommended"
    assert topical["reason_ids"][0] == "topical_first_line_pregnancy"
    text = topical["reasons"][0]
    assert "benzoyl peroxide" in text and "azelaic acid" in text and "clindamycin" in text
    assert "no topical retinoid" in text
    assert "retinoid" not in topical["display"].lower()


def test_pregnancy_contraindicates_every_indicated_teratogen():
    """§12.3 table: isotretinoin, tetracyclines, spironolactone/COCs, finasteride, minoxidil, BoNT."""
    result = assess(
        woman(
            pregnant=True,
            skin={**SEVERE, "seborrhea": "marked"},
            hair={"ludwig": "II", "hyperandrogenism_signs": True},
        )
    )
    for treatment in TERATOGENS:
        if treatment != "botulinum_scalp":  # not indicated for women at all (studied in men only)
            assert status(result, treatment) == "contraindicated", treatment


@pytest.mark.parametrize(
    ("medication", "rule"),
    [
        ("isotretinoin", "isotretinoin_pregnancy"),  # §12.3: stop at once, refer (teratology)
        ("finasteride", "finasteride_pregnancy"),  # §12.3 Proscar label
        ("dutasteride", "dutasteride_pregnancy"),  # §12.3
        ("spironolactone", "spironolactone_pregnancy"),  # §12.3 (X: Canada CI)
        ("oral_minoxidil", "oral_minoxidil_pregnancy"),  # §12.3
        ("tazarotene", "retinoid_pregnancy"),  # §12.3 (US label CI)
        ("topical_retinoid", "retinoid_pregnancy"),  # §12.3 EMA 2018
        ("oral_tetracycline", "tetracycline_pregnancy"),  # §12.3 class warning
    ],
)
def test_pregnant_woman_already_taking_a_teratogen_gets_a_critical_alert(medication, rule):
    """§12.3 rule: pregnant + a current medication of the table -> 'stop and refer', whatever the pathway
    (no hair or skin section at all here)."""
    result = assess(woman(pregnant=True, history={"medications": [medication]}))
    found = alert(result, rule)
    assert found is not None and found["severity"] == "critical"
    assert found["medications"] == [medication]
    assert "stop" in found["text"].lower()


def test_no_alert_without_pregnancy_or_medication():
    assert (
        assess(woman(pregnant=False, can_become_pregnant=False, history={"medications": ["finasteride"]}))[
            "safety"
        ]["alerts"]
        == []
    )
    assert assess(woman(pregnant=True))["safety"]["alerts"] == []


def test_isotretinoin_for_a_woman_who_can_become_pregnant_carries_the_ppp():
    """§12.3 rule example: woman, 23, severe acne -> isotretinoin with PPP/iPLEDGE requirements in its
    reasons and in safety.cautions."""
    result = assess(woman(23, skin=SEVERE))
    iso = rec(result, "isotretinoin")
    assert iso["status"] == "recommended"
    assert {"isotretinoin_ppp", "isotretinoin_pregnancy_prevention"} <= set(iso["reason_ids"])
    assert "pregnancy test" in " ".join(iso["reasons"])
    assert "isotretinoin_pregnancy_prevention" in {c["id"] for c in result["safety"]["cautions"]}
    assumed = result["assumptions"][0]
    assert assumed["id"] == "pregnancy_potential_by_age" and assumed["field"] == "patient.can_become_pregnant"


def test_stated_no_pregnancy_potential_drops_the_requirement_and_the_assumption():
    result = assess(woman(23, can_become_pregnant=False, skin=SEVERE))
    assert "isotretinoin_ppp" not in rec(result, "isotretinoin")["reason_ids"]
    assert result["assumptions"] == []
    man = assess(case(skin=SEVERE))
    assert man["assumptions"] == [] and "isotretinoin_ppp" not in rec(man, "isotretinoin")["reason_ids"]


@pytest.mark.parametrize(("age", "potential"), [(11, False), (12, True), (55, True), (56, False)])
def test_pregnancy_potential_default_by_age(age, potential):
    """§12.3: default true for a female aged 12-55 (issue 11; §12.10 item 16: design default, U)."""
    result = assess(woman(age, skin=SEVERE))
    assert (result["assumptions"][0]["value"]) is potential


def test_finasteride_contraindicated_for_a_woman_who_can_become_pregnant():
    """§12.3 finasteride: contraindicated in women who are or may become pregnant."""
    result = assess(woman(30, hair={"ludwig": "II"}))
    assert status(result, "finasteride") == "contraindicated"
    assert "finasteride_contraindicated" in {c["id"] for c in result["safety"]["contraindications"]}
    assert status(assess(woman(30, can_become_pregnant=False, hair={"ludwig": "II"})), "finasteride") == (
        "not_indicated"
    )


def test_hormonal_options_carry_the_contraception_requirement():
    """§12.3 rule: spironolactone (and anti-androgens) carry a contraception requirement."""
    result = assess(woman(25, skin=MODERATE))
    assert "contraception_required" in rec(result, "hormonal_therapy_acne")["reason_ids"]


def test_breastfeeding_contraindicates_isotretinoin():
    """§12.3 isotretinoin: contraindicated in breastfeeding (EU SmPC)."""
    result = assess(woman(30, breastfeeding=True, skin=SEVERE))
    assert status(result, "isotretinoin") == "contraindicated"


# --- §12.4 interactions ----------------------------------------------------------------------------------


def test_no_tetracycline_while_on_isotretinoin_and_the_reverse():
    """§12.4 isotretinoin + any tetracycline: contraindicated (EU SmPC)."""
    on_iso = assess(case(skin=MODERATE, history={"medications": ["isotretinoin"]}))
    assert status(on_iso, "oral_antibiotic") == "contraindicated"
    on_doxy = assess(case(skin=SEVERE, history={"medications": ["oral_tetracycline"]}))
    assert status(on_doxy, "isotretinoin") == "contraindicated"
    both = assess(case(history={"medications": ["isotretinoin", "oral_tetracycline"]}))
    found = alert(both, "isotretinoin_tetracycline")
    assert found["severity"] == "critical" and set(found["medications"]) == {
        "isotretinoin",
        "oral_tetracycline",
    }


def test_vitamin_a_supplement_blocks_isotretinoin():
    """§12.4 isotretinoin + vitamin A: hypervitaminosis A is a contraindication."""
    result = assess(case(skin=SEVERE, history={"medications": ["vitamin_a"]}))
    assert status(result, "isotretinoin") == "contraindicated"


def test_spironolactone_with_potassium_or_ace_inhibitor_asks_for_a_potassium_check():
    """§12.4 spironolactone + K / ACE inhibitors / ARBs: warn, check K within 1 week."""
    result = assess(
        woman(
            25,
            can_become_pregnant=False,
            skin=MODERATE,
            history={"medications": ["potassium_sparing_or_ace_inhibitor"]},
        )
    )
    hormonal = rec(result, "hormonal_therapy_acne")
    assert hormonal["status"] == "option" and "spironolactone_potassium" in hormonal["reason_ids"]
    assert "spironolactone_potassium" in {c["id"] for c in result["safety"]["cautions"]}


def test_intradermal_toxin_never_waits_for_a_contraindicated_antibiotic():
    """Issue 11 'no self-contradiction': on isotretinoin the antibiotic is contraindicated, so the toxin's
    `after` names only the topical first line."""
    raw = case(skin={"acne": {"gags": 25}, "seborrhea": "marked"}, history={"medications": ["isotretinoin"]})
    botox = rec(assess(raw), "botulinum_intradermal")
    assert botox["status"] == "not_yet" and botox["after"] == ["topical_first_line"]


# --- §12.5 ages ----------------------------------------------------------------------------------------------


def test_doxycycline_is_contraindicated_for_a_seven_year_old():
    """§12.5 tetracyclines: block < 8 y (example: 7 y doxycycline)."""
    result = assess(case(birth_date=born(7), skin=MODERATE))
    antibiotic = rec(result, "oral_antibiotic")
    assert antibiotic["status"] == "contraindicated" and "age_contraindicated" in antibiotic["reason_ids"]
    nine = rec(assess(case(birth_date=born(9), skin=MODERATE)), "oral_antibiotic")
    assert nine["status"] == "recommended" and "tetracycline_child_off_label" in nine["reason_ids"]


def test_finasteride_is_not_level_one_for_a_fourteen_year_old():
    """§12.5 finasteride 1 mg: block < 18 (example: 14 y finasteride 'level 1'); topical minoxidil OTC <18."""
    result = assess(case(birth_date=born(14), hair={"norwood": "III"}))
    for treatment in ("finasteride", "minoxidil_topical"):
        entry = rec(result, treatment)
        assert entry["status"] == "not_indicated" and entry["reason_ids"][0] == "age_range", treatment
    referral = rec(result, "referral_dermatology")  # off-label under 18: a specialist decides
    assert referral["status"] == "recommended" and referral["reason_ids"] == ["refer_minor_hair_loss"]


def test_aesthetic_toxin_is_never_offered_under_18():
    """§12.5 aesthetic BoNT: block < 18 (example: 15 y intradermal option)."""
    result = assess(case(birth_date=born(15), skin={"acne": {"gags": 5}, "seborrhea": "marked"}))
    entry = rec(result, "botulinum_intradermal")
    assert entry["status"] == "not_indicated" and entry["reason_ids"][0] == "aesthetic_bont_under_18"


def test_no_contraceptive_for_a_seven_year_old():
    """§12.5 COCs: not before menarche, by default not < 12 (example: 7 y COC option)."""
    result = assess(woman(7, skin=MODERATE))
    assert status(result, "hormonal_therapy_acne") == "contraindicated"
    assert status(assess(woman(13, skin=MODERATE)), "hormonal_therapy_acne") == "not_indicated"


def test_isotretinoin_from_twelve_with_specialist_oversight_under_18():
    """§12.5 isotretinoin: block < 12 y; < 18 specialist-only."""
    assert status(assess(case(birth_date=born(10), skin=SEVERE)), "isotretinoin") == "not_indicated"
    teen = rec(assess(case(birth_date=born(16), skin=SEVERE)), "isotretinoin")
    assert teen["status"] == "recommended" and "isotretinoin_under_18" in teen["reason_ids"]


def test_over_65_keeps_the_evidence_based_options():
    """§12.5: no upper age for minoxidil or finasteride in the US labels; scalp BoNT above the enrolled 63."""
    result = assess(
        case(birth_date=born(70), hair={"norwood": "V"}, history={"medications": ["finasteride"]})
    )
    assert status(result, "minoxidil_topical") == "recommended"
    assert status(result, "finasteride") == "recommended"
    assert rec(result, "botulinum_scalp")["reason_ids"][0] == "age_range"


# --- §12.7 stated diagnoses --------------------------------------------------------------------------------


def test_alopecia_areata_alone_is_never_shedding_within_normal():
    """§12.7: a stated diagnosis is the working diagnosis; AA: refer to dermatology."""
    result = assess(case(hair={"diagnosis": "alopecia_areata"}))
    assert "hair_within_normal" not in finding_ids(result)
    assert {"stated_diagnosis", "alopecia_areata_refer"} <= finding_ids(result)
    assert status(result, "referral_dermatology") == "recommended"
    assert status(result, "botulinum_scalp") == "not_indicated"


def test_scarring_alopecia_refers_for_biopsy_and_withholds_procedures():
    """§12.7 suspected scarring alopecia: refer for biopsy; no PRP, microneedling, mesotherapy or scalp BoNT
    until seen; 5-ARIs and minoxidil are not contraindicated."""
    raw = case(
        hair={"norwood": "IV", "scarring_alopecia_signs": True},
        history={"medications": ["minoxidil_topical"]},
    )
    result = assess(raw)
    assert status(result, "referral_dermatology") == "recommended"
    for treatment in ("prp", "microneedling_scalp", "mesotherapy", "botulinum_scalp"):
        entry = rec(result, treatment)
        assert entry["status"] == "not_indicated" and "scarring_no_procedures" in entry["reason_ids"]
    assert status(result, "minoxidil_topical") == "recommended"
    assert status(result, "finasteride") == "recommended"
    stated = assess(case(hair={"diagnosis": "scarring_alopecia"}))
    assert status(stated, "referral_dermatology") == "recommended"
    assert "scarring_alopecia_refer" in finding_ids(stated)


def test_scarring_alopecia_is_an_answer_not_an_error():
    """§12.7: exit code 'refer', not 'error': the CLI exits 0."""
    raw = json.dumps(case(hair={"diagnosis": ["scarring_alopecia", "androgenetic_alopecia"]}))
    done = subprocess.run(
        [sys.executable, "-m", "dermatox", "assess", "-"],
        input=raw,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert rec(json.loads(done.stdout), "referral_dermatology")["status"] == "recommended"


def test_telogen_effluvium_with_norwood_iv_keeps_aga_treatment():
    """§12.7 TE + AGA together: TE + Norwood IV must not withhold AGA treatment."""
    result = assess(case(hair={"diagnosis": "telogen_effluvium", "norwood": "IV"}))
    assert status(result, "minoxidil_topical") == "recommended"
    assert status(result, "finasteride") == "recommended"
    assert "te_workup" in finding_ids(result)


def test_several_diagnoses_hold_at_once():
    result = assess(case(hair={"diagnosis": ["telogen_effluvium", "alopecia_areata"]}))
    stated = next(f for f in result["findings"] if f["id"] == "stated_diagnosis")
    assert stated["params"]["terms"] == ["telogen_effluvium", "alopecia_areata"]
    assert status(result, "referral_dermatology") == "recommended"
    assert status(result, "minoxidil_topical") == "not_indicated"


def test_stated_aga_at_norwood_ii_stands():
    """§12.7 AGA, Norwood II: a stated AGA diagnosis stands; offer minoxidil and finasteride (men >= 18)."""
    result = assess(case(hair={"norwood": "II", "diagnosis": "androgenetic_alopecia"}))
    assert status(result, "minoxidil_topical") == "recommended"
    assert status(result, "finasteride") == "recommended"


# --- §12.8c scalp BoNT ------------------------------------------------------------------------------------------


def test_scalp_toxin_waits_for_minoxidil_or_finasteride():
    """§12.8c: investigational, adjunct at most, not first line: not_yet until one is current or tried."""
    result = assess(case(hair={"norwood": "IV"}))
    botox = rec(result, "botulinum_scalp")
    assert botox["status"] == "not_yet" and botox["after"] == ["minoxidil_topical", "finasteride"]
    text = " ".join(botox["reasons"])
    assert "Studies enrolled adult men aged 19-63; the placebo-controlled trials were negative" in text
    tried = assess(
        case(
            hair={
                "norwood": "IV",
                "prior_treatments": [{"treatment": "finasteride", "weeks": 30, "outcome": "partial"}],
            }
        )
    )
    assert status(tried, "botulinum_scalp") == "option"


def test_no_message_repeats_the_seed_age_range():
    """§12.8c: the seed's '18-65' is wrong; no text may say it."""
    assert not [key for key, row in catalogue().items() if "18-65" in row["en"] or "18–65" in row["en"]]


# --- §12.9 keloid tendency ---------------------------------------------------------------------------------------


def test_keloid_tendency_contraindicates_scar_microneedling_unless_a_specialist_overrides():
    """§12.9 rule: contraindication for RF microneedling, and for microneedling by default."""
    skin = {"acne": {"gags": 0}, "scars": {"goodman_baron": 3}}
    keloid = {"conditions": ["keloid_tendency"]}
    result = assess(case(skin=skin, history=keloid))
    assert status(result, "scar_microneedling") == "contraindicated"
    assert status(result, "scar_microneedling_rf") == "contraindicated"
    override = {**skin, "scars": {"goodman_baron": 3, "keloid_specialist_override": True}}
    result = assess(case(skin=override, history=keloid))
    assert status(result, "scar_microneedling") == "option"
    assert status(result, "scar_microneedling_rf") == "contraindicated"


# --- bad input -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (case(history={"medications": ["doxy"]}), "history.medications[0]: unknown medication id 'doxy'"),
        (case(hair={"diagnosis": "lichen"}), "hair.diagnosis[0]: must be one of"),
        (woman(pregnant=True, pregnancy_trimester=4), "patient.pregnancy_trimester: must be one of 1, 2, 3"),
        (woman(pregnancy_trimester=2), "patient.pregnancy_trimester: needs pregnant true"),
        (case(can_become_pregnant=True), "patient.can_become_pregnant: cannot be true for sex male"),
        (case(can_become_pregnant="yes"), "patient.can_become_pregnant: must be true or false"),
        (woman(pregnant=True, can_become_pregnant=False), "patient.can_become_pregnant: cannot be false"),
    ],
)
def test_bad_safety_input_names_the_field(raw, problem):
    with pytest.raises(CaseError) as info:
        assess(raw)
    assert any(problem in p for p in info.value.problems), info.value.problems


# --- language ----------------------------------------------------------------------------------------------------


def test_a_turkish_result_has_no_english_engine_text():
    raw = woman(
        23, pregnant=True, history={"medications": ["isotretinoin"]}, skin=SEVERE, hair={"ludwig": "II"}
    )
    english, turkish = assess(raw, "en"), assess(raw, "tr")
    pairs = [(e["text"], t["text"]) for e, t in zip(english["findings"], turkish["findings"], strict=True)]
    pairs += [
        (e["text"], t["text"])
        for e, t in zip(english["safety"]["alerts"], turkish["safety"]["alerts"], strict=True)
    ]
    for e, t in zip(english["recommendations"], turkish["recommendations"], strict=True):
        pairs += list(zip(e["reasons"], t["reasons"], strict=True))
    assert pairs and all(en != tr for en, tr in pairs if any(c.isalpha() for c in en))
    assert turkish["lang"] == "tr"


# --- invariants (hypothesis) ---------------------------------------------------------------------------------------

AGES = st.integers(0, 95)


@st.composite
def patients(draw):
    sex = draw(st.sampled_from(["male", "female"]))
    age = draw(AGES)
    raw = case(sex=sex, birth_date=born(age))
    if sex == "female":
        raw["patient"]["pregnant"] = draw(st.booleans())
        raw["patient"]["breastfeeding"] = draw(st.booleans())
        if not raw["patient"]["pregnant"] and draw(st.booleans()):
            raw["patient"]["can_become_pregnant"] = draw(st.booleans())
    raw["history"] = {
        "medications": draw(
            st.lists(st.sampled_from(sorted(by_id("medications.toml"))), max_size=4, unique=True)
        ),
        "conditions": draw(
            st.lists(st.sampled_from(sorted(by_id("conditions.toml"))), max_size=3, unique=True)
        ),
    }
    raw["hair"] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "norwood": st.sampled_from(NORWOOD),
                "ludwig": st.sampled_from(LUDWIG),
                "daily_shedding": st.integers(0, 300),
                "diagnosis": st.lists(st.sampled_from(HAIR_DIAGNOSES), min_size=1, max_size=2, unique=True),
                "hyperandrogenism_signs": st.booleans(),
                "scarring_alopecia_signs": st.booleans(),
                "prior_treatments": st.lists(
                    st.fixed_dictionaries(
                        {
                            "treatment": st.sampled_from(["minoxidil_topical", "finasteride"]),
                            "weeks": st.integers(0, 60),
                            "outcome": st.sampled_from(["inadequate", "partial", "good", "not_tolerated"]),
                        }
                    ),
                    max_size=1,
                ),
            },
        )
    )
    raw["skin"] = {
        "acne": {"gags": draw(st.integers(0, 44)), "nodules": draw(st.integers(0, 2))},
        "seborrhea": draw(st.sampled_from(SEBORRHEA)),
        "scars": {
            "goodman_baron": draw(st.integers(1, 4)),
            "keloid_specialist_override": draw(st.booleans()),
        },
    }
    return raw


def _rule_applies(raw, rule) -> bool:
    p = raw["patient"]
    meds = set(raw["history"]["medications"])
    potential = p.get("can_become_pregnant")
    age = int(AS_OF[:4]) - int(p["birth_date"][:4]) - 1 if p["birth_date"] != AS_OF else 0
    if potential is None:
        potential = p["sex"] == "female" and 12 <= age <= 55
    return {
        "pregnant": p.get("pregnant", False),
        "breastfeeding": p.get("breastfeeding", False),
        "pregnancy_potential": potential and not p.get("pregnant", False),
        "taking": bool(meds & set(rule.get("taking", []))),
        "condition": bool(set(raw["history"]["conditions"]) & set(rule.get("having", []))),
    }[rule["when"]]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients())
def test_no_offer_ever_breaks_a_hard_stop(raw):
    result = assess(raw)
    statuses = {r["treatment"]: r["status"] for r in result["recommendations"]}
    age = result["age"]
    offered = {t for t, s in statuses.items() if s in OFFERED}
    # pregnancy: no teratogen (§12.3)
    if raw["patient"].get("pregnant"):
        assert not offered & set(TERATOGENS)
    # every pregnancy / breastfeeding / interaction rule's treatments (§12.3, §12.4, §12.9)
    for rule in drug_rules():
        if _rule_applies(raw, rule):
            assert not offered & set(rule["treatments"]), rule["id"]
    # every age limit (§12.5, §12.8c)
    for treatment, limits in age_limits().items():
        for limit in limits:
            if limit.population not in ("all", raw["patient"]["sex"]):
                continue
            outside = age < limit.value if limit.bound == "min" else age > limit.value
            if outside:
                assert statuses[treatment] not in OFFERED, (treatment, age)
                if limit.action == "contraindicated" and statuses[treatment] != "not_indicated":
                    assert statuses[treatment] == "contraindicated"
    if age < 18:
        assert not offered & {"botulinum_scalp", "botulinum_intradermal"}
    # no `after` points at a treatment this patient cannot have
    for entry in result["recommendations"]:
        for first in entry.get("after", []):
            assert statuses[first] not in ("not_indicated", "contraindicated"), (entry["treatment"], first)
    # keloid: RF microneedling never offered (§12.9)
    if "keloid_tendency" in raw["history"]["conditions"]:
        assert statuses["scar_microneedling_rf"] not in OFFERED
    # alerts for every teratogen already taken in pregnancy
    if raw["patient"].get("pregnant"):
        taken = set(raw["history"]["medications"]) & {
            "isotretinoin",
            "finasteride",
            "dutasteride",
            "spironolactone",
            "tazarotene",
            "topical_retinoid",
            "oral_minoxidil",
        }
        alerted = {
            m for a in result["safety"]["alerts"] if a["severity"] == "critical" for m in a["medications"]
        }
        assert taken <= alerted


def test_a_stored_english_result_reads_in_turkish_as_if_assessed_in_turkish():
    """Issue 11 §3: a signed snapshot (stored in English) is re-rendered from its ids for a Turkish reader."""
    from dermatox.clinical.pathways import localize

    raw = woman(
        23, pregnant=True, history={"medications": ["isotretinoin"]}, skin=SEVERE, hair={"ludwig": "II"}
    )
    stored = json.loads(json.dumps(assess(raw, "en")))
    assert localize(stored, "tr") == assess(raw, "tr")


# --- found by the adversarial review -----------------------------------------------------------------------


def test_no_minoxidil_adjunct_is_offered_when_minoxidil_and_finasteride_are_not():
    """§12.3 topical minoxidil row + §12.9 SkinPen: in pregnancy no scalp microneedling, and PRP or
    mesotherapy (adjuncts to minoxidil/finasteride) not as a back door."""
    result = assess(woman(30, pregnant=True, hair={"ludwig": "II"}))
    assert status(result, "microneedling_scalp") == "contraindicated"
    for treatment in ("prp", "mesotherapy"):
        assert rec(result, treatment)["reason_ids"][0] == "adjunct_without_first_line"
        assert status(result, treatment) == "not_indicated"


def test_local_infection_stops_needling_in_that_area():
    """§12.9 expert review: local infection contraindicates microneedling (and injections there)."""
    raw = case(
        hair={"norwood": "IV"},
        skin={"acne": {"gags": 0}, "scars": {"goodman_baron": 3}},
        history={"conditions": ["active_infection_scalp", "active_infection_face"]},
    )
    result = assess(raw)
    for treatment in (
        "prp",
        "microneedling_scalp",
        "mesotherapy",
        "scar_microneedling",
        "scar_microneedling_rf",
    ):
        assert status(result, treatment) == "contraindicated", treatment


def test_alopecia_areata_with_aga_withholds_scalp_toxin_and_prp():
    """§12.7 AA row: withhold scalp BoNT; PRP outside trials (U)."""
    raw = case(
        hair={"norwood": "IV", "diagnosis": ["alopecia_areata", "androgenetic_alopecia"]},
        history={"medications": ["minoxidil_topical"]},
    )
    result = assess(raw)
    assert status(result, "botulinum_scalp") == "not_indicated"
    assert status(result, "prp") == "not_indicated"
    assert status(result, "referral_dermatology") == "recommended"


def test_a_hair_diagnosis_among_the_conditions_is_a_stated_diagnosis():
    """§12.7 row 1: never 'shedding within normal' for a stated diagnosis, wherever it is given."""
    result = assess(case(history={"conditions": ["alopecia_areata"]}, hair={"daily_shedding": 50}))
    assert "hair_within_normal" not in finding_ids(result)
    assert status(result, "referral_dermatology") == "recommended"


def test_scalp_toxin_is_not_offered_the_day_a_scalp_session_was_given():
    """Issue 11 §2: not the same area twice in a day (one rule set for the pathway and the plan)."""
    dose = {
        "date": AS_OF,
        "product": "onabotulinumtoxinA",
        "units": 150,
        "indication": "hair",
        "area": "scalp",
    }
    raw = case(hair={"norwood": "IV"}, history={"medications": ["finasteride"], "toxin_history": [dose]})
    entry = rec(assess(raw), "botulinum_scalp")
    assert entry["status"] == "defer" and entry["reason_ids"][0] == "toxin_same_area_today"


def test_renal_impairment_asks_for_a_potassium_check_on_spironolactone():
    """§12.4: a K/renal check when renal impairment is present."""
    raw = woman(
        25, can_become_pregnant=False, skin=MODERATE, history={"conditions": ["chronic_kidney_disease"]}
    )
    assert "spironolactone_renal" in rec(assess(raw), "hormonal_therapy_acne")["reason_ids"]


def test_an_albumin_allergy_leaves_the_albumin_free_product_possible():
    """§12.1b R-BoNT-3: offer only albumin-free daxibotulinumtoxinA: a caution in the pathway, a block per
    product in the plan."""
    result = assess(
        case(hair={"norwood": "IV"}, history={"allergies": ["human_albumin"], "medications": ["finasteride"]})
    )
    assert status(result, "botulinum_scalp") == "option"
    assert "allergy_human_albumin" in {c["id"] for c in result["safety"]["cautions"]}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            case(
                history={
                    "toxin_history": [
                        {"date": AS_OF, "product": "onabotulinumtoxinA", "units": 1e300, "indication": "hair"}
                    ]
                }
            ),
            "history.toxin_history[0].units: must be at most 10000",
        ),
        (
            case(labs=[{"test": "ferritin", "value": 1e308, "unit": "ng/mL", "date": AS_OF}]),
            "labs[0].value: must be at most",
        ),
        (
            case(
                labs=[
                    {
                        "test": "ferritin",
                        "value": 50,
                        "unit": "ng/mL",
                        "date": AS_OF,
                        "ref_low": 300,
                        "ref_high": 20,
                    }
                ]
            ),
            "labs[0].ref_low: must not be above ref_high",
        ),
    ],
)
def test_absurd_numbers_are_refused_not_turned_into_infinity(raw, problem):
    """Found by the adversarial review: 1e300 units gave "Infinity" in the JSON output."""
    with pytest.raises(CaseError) as info:
        assess(raw)
    assert any(problem in p for p in info.value.problems), info.value.problems
