"""Hair-loss rules (clinical.md §1-§4; issue 3 §2 "Hair")."""

from __future__ import annotations

from dermatox.clinical.pathways.case import NORWOOD, Case
from dermatox.clinical.pathways.recommendation import Rec

HAIR_TREATMENTS = (
    "minoxidil_topical",
    "finasteride",
    "botulinum_scalp",
    "prp",
    "microneedling_scalp",
    "mesotherapy",
    "oral_supplements",
    "hormonal_therapy",
    "referral_endocrinology",
    "referral_dermatology",
)
BASIC_PANEL = ("hemoglobin", "ferritin", "tsh", "vitamin_d_25oh")
ANDROGEN_PANEL = (
    "testosterone_total",
    "testosterone_free",
    "shbg",
    "dhea_s",
    "17_oh_progesterone",
    "prolactin",
    "hba1c",
)
DEFICIENCIES = {
    "ferritin": "iron (low ferritin)",
    "vitamin_d_25oh": "vitamin D",
    "vitamin_b12": "vitamin B12",
    "folate": "folate",
    "zinc": "zinc",
}
NORWOOD_III = NORWOOD.index("III")


def indications(hair: dict) -> list[str]:
    """Why treatment is needed (empty: nothing points to a hair problem needing treatment)."""
    why = []
    if hair.get("daily_shedding", 0) > 100:
        why.append(f"shedding of {hair['daily_shedding']} hairs/day (> 100)")
    for flag, text in (
        ("scalp_gaps", "gaps in the scalp"),
        ("thinning", "thinning hair"),
        ("growth_problem", "a hair growth problem"),
    ):
        if hair.get(flag):
            why.append(text)
    if hair.get("pull_test_hairs", 0) > 2:
        why.append(f"a positive pull test ({hair['pull_test_hairs']} hairs; normal is 2 or fewer)")
    if "norwood" in hair and NORWOOD.index(hair["norwood"]) >= NORWOOD_III:
        why.append(f"Norwood {hair['norwood']}")
    if "ludwig" in hair:
        why.append(f"Ludwig {hair['ludwig']}")
    if hair.get("sinclair", 1) >= 2:
        why.append(f"Sinclair {hair['sinclair']}")
    return why


def pattern_stage(hair: dict) -> str | None:
    if "norwood" in hair and NORWOOD.index(hair["norwood"]) >= NORWOOD_III:
        return f"Norwood {hair['norwood']}"
    if "ludwig" in hair:
        return f"Ludwig {hair['ludwig']}"
    if hair.get("sinclair", 1) >= 2:
        return f"Sinclair {hair['sinclair']}"
    return None


def assess_hair(
    case: Case, labs: dict[str, dict], findings: list, workup: dict, recs: dict[str, Rec]
) -> None:
    hair = case.hair
    if hair is None:
        for t in HAIR_TREATMENTS:
            recs[t].indicate("not_indicated", "No hair assessment in this case.")
        return
    why = indications(hair)
    if not why:
        findings.append(
            {
                "id": "hair_within_normal",
                "text": "Hair: shedding is within normal and no sign of hair loss needing treatment was given "
                "(the 50-100 hairs/day norm is a folk figure, never validated; pull test <= 2 is normal).",
                "evidence": ["daily_shedding_folk_figure", "mcdonald_2017"],
            }
        )
        for t in HAIR_TREATMENTS:
            recs[t].indicate(
                "not_indicated",
                "No hair loss needing treatment: shedding within normal.",
                "daily_shedding_folk_figure",
            )
        return
    findings.append(
        {
            "id": "hair_treatment_indicated",
            "text": "Hair loss needs assessment and treatment: " + "; ".join(why) + ".",
            "evidence": ["daily_shedding_folk_figure", "mcdonald_2017", "hamilton_norwood_ludwig"],
        }
    )

    female = case.sex == "female"
    diffuse = hair.get("daily_shedding", 0) > 100 or hair.get("pull_test_hairs", 0) > 2
    trigger = bool(hair.get("trigger_last_3_months"))
    diagnosis = (case.hair_diagnoses or (None,))[0]
    stage = pattern_stage(hair)
    aga = diagnosis == "androgenetic_alopecia" or (diagnosis is None and stage is not None)
    if diagnosis is None and stage is not None:
        findings.append(
            {
                "id": "aga_inferred",
                "text": f"Androgenetic alopecia inferred from the pattern stage ({stage}); confirm clinically (trichoscopy).",
                "evidence": ["hamilton_norwood_ludwig"],
            }
        )
    if diffuse:
        findings.append(
            {
                "id": "diffuse_shedding",
                "text": "Diffuse shedding (more than 100 hairs/day or a positive pull test): think of telogen effluvium.",
                "evidence": ["rebora_2005", "mcdonald_2017"],
            }
        )
    if trigger and diffuse:
        findings.append(
            {
                "id": "te_after_trigger",
                "text": "Diffuse shedding with a trigger in the last 3 months: likely telogen effluvium after a trigger; no laboratory tests are required "
                "while the trigger explains the shedding (it is often self-limiting).",
                "evidence": ["kakpovbia_2021", "te_lab_yield"],
            }
        )

    # Work-up
    suggested: list[str] = []
    if (diffuse or female) and not (trigger and diffuse):
        suggested += BASIC_PANEL
    if female and hair.get("hyperandrogenism_signs"):
        suggested += ANDROGEN_PANEL
        findings.append(
            {
                "id": "hyperandrogenism_workup",
                "text": "Signs of hyperandrogenism in a woman: test androgens (early morning, cycle days 4-10) and screen "
                "for insulin resistance.",
                "evidence": ["endocrine_society_hirsutism_2018"],
            }
        )
    if not suggested and case.sex == "male" and aga and not diffuse:
        findings.append(
            {
                "id": "no_labs_required",
                "text": "Typical male androgenetic alopecia without diffuse shedding: no laboratory tests are required "
                "(the diagnosis is clinical; no guideline text retrieved, U).",
                "evidence": ["trost_2006"],
            }
        )
    workup["suggested"] = list(dict.fromkeys(suggested))
    workup["missing"] = [t for t in workup["suggested"] if t not in labs]

    # Supplements only against a documented deficiency.
    deficient = [
        f"{DEFICIENCIES[t]} ({labs[t]['value']:g} {labs[t]['unit']})"
        for t in DEFICIENCIES
        if labs.get(t, {}).get("flag") == "low"
    ]
    if deficient:
        recs["oral_supplements"].indicate(
            "recommended",
            "Correct the documented deficiency: " + ", ".join(deficient) + ".",
            "guo_katta_2017",
        )
    else:
        rec = recs["oral_supplements"].indicate(
            "not_indicated",
            "No documented deficiency: supplements without a deficiency are not supported (and some can worsen hair loss).",
            "guo_katta_2017",
            "almohanna_2019",
        )
        missing = [t for t in DEFICIENCIES if t in workup["missing"]]
        if missing:
            rec.note("Deficiency not yet known: results missing for " + ", ".join(missing) + ".")

    # Referrals
    endo = recs["referral_endocrinology"]
    reasons = []
    if labs.get("tsh", {}).get("flag") in ("low", "high"):
        reasons.append(
            f"TSH {labs['tsh']['value']:g} mIU/L is {labs['tsh']['flag']}: thyroid disease can cause hair loss"
        )
    if female and labs.get("testosterone_total", {}).get("value", 0) > 150:
        reasons.append(f"total testosterone {labs['testosterone_total']['value']:g} ng/dL (> 150 in a woman)")
    if female and labs.get("dhea_s", {}).get("value", 0) > 700:
        reasons.append(f"DHEA-S {labs['dhea_s']['value']:g} ug/dL (> 700 in a woman)")
    if reasons:
        endo.indicate(
            "recommended", "Refer to endocrinology: " + "; ".join(reasons) + ".", "androgen_tumour_thresholds"
        )
    else:
        endo.indicate(
            "not_indicated", "No abnormal thyroid or androgen result that needs an endocrinologist."
        )
    derm = recs["referral_dermatology"]
    if diagnosis == "alopecia_areata":
        derm.indicate("recommended", "Alopecia areata: refer to dermatology for its own treatment pathway.")
    else:
        derm.indicate("not_indicated", "No alopecia areata.")

    # Androgenetic alopecia treatments
    if aga:
        recs["minoxidil_topical"].indicate(
            "recommended",
            "Androgenetic alopecia: topical minoxidil has level-1 evidence (men 5%, women 2% twice daily).",
            "edf_s3_aga_2011",
        )
        if case.pregnant or case.breastfeeding:
            recs["minoxidil_topical"].contraindicate(
                "Pregnancy or breastfeeding: do not use topical minoxidil.", "edf_s3_aga_2011"
            )
        if female:
            recs["finasteride"].indicate(
                "not_indicated",
                "Finasteride is for men: teratogenic, avoid in women who may become pregnant.",
                "edf_s3_aga_2011",
            )
        else:
            recs["finasteride"].indicate(
                "recommended",
                "Androgenetic alopecia in a man: finasteride 1 mg/day has level-1 evidence.",
                "edf_s3_aga_2011",
            )
        recs["prp"].indicate(
            "option",
            "Adjunct to minoxidil or finasteride: most studies positive, protocols not standardised.",
            "prp_reviews",
        )
        recs["microneedling_scalp"].indicate(
            "option",
            "Adjunct: weekly microneedling with minoxidil beat minoxidil alone in randomised trials.",
            "dhurat_2013",
        )
        recs["mesotherapy"].indicate(
            "option",
            "Very low evidence: not standardised and without guideline support (insufficient evidence in the S3 guideline).",
            "edf_s3_aga_2011",
        )
        if female and hair.get("hyperandrogenism_signs"):
            recs["hormonal_therapy"].indicate(
                "option",
                "Woman with signs of hyperandrogenism: oral hormonal therapy (combined contraceptive or anti-androgen) has level-3 evidence.",
                "edf_s3_aga_2011",
            )
        else:
            recs["hormonal_therapy"].indicate(
                "not_indicated", "Hormonal therapy is for women with signs of hyperandrogenism."
            )
    else:
        why_not = {
            "telogen_effluvium": "Telogen effluvium: treat the cause; androgenetic alopecia treatments do not apply.",
            "alopecia_areata": "Alopecia areata: androgenetic alopecia treatments do not apply.",
        }.get(
            diagnosis,
            "No androgenetic alopecia stated or shown by a pattern stage: establish the diagnosis first.",
        )
        for t in (
            "minoxidil_topical",
            "finasteride",
            "prp",
            "microneedling_scalp",
            "mesotherapy",
            "hormonal_therapy",
        ):
            recs[t].indicate("not_indicated", why_not)

    # Scalp botulinum toxin: studied only in men with AGA; contested.
    botox = recs["botulinum_scalp"]
    if diagnosis in ("telogen_effluvium", "alopecia_areata"):
        botox.indicate(
            "not_indicated",
            f"Not for {diagnosis.replace('_', ' ')}: studied only in androgenetic alopecia.",
            "english_ruiz_2022",
        )
    elif not aga:
        botox.indicate(
            "not_indicated",
            "No androgenetic alopecia: scalp toxin was studied only in androgenetic alopecia.",
            "english_ruiz_2022",
        )
    elif female:
        botox.indicate("not_indicated", "Studied in men only; not offered to women.", "english_ruiz_2022")
    elif not 18 <= case.age <= 65:
        botox.indicate(
            "not_indicated",
            f"Age {case.age}: studies enrolled men aged 18-65 only.",
            "freund_2010",
            "english_ruiz_2022",
        )
    else:
        botox.indicate(
            "option",
            "This use is off-label: botulinum toxin is not approved for hair loss anywhere; informed consent required.",
            "bont_label_safety",
        )
        botox.note(
            "The uncontrolled studies were positive (2010-2020, 10-50 men, more hair), but the placebo-controlled ones "
            "were negative: a split-scalp trial (2024) and a randomised trial (2025) found no effect.",
            "freund_2010",
            "singh_2017",
            "melo_2024",
            "lima_galindo_2025",
        )
        botox.note("An adjunct at most: it does not replace minoxidil or finasteride.", "english_ruiz_2022")
