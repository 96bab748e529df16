"""Hair-loss rules (clinical.md §1-§4, §12.7 stated diagnoses, §12.8 evidence updates; issues 3 and 11)."""

from __future__ import annotations

from dermatox.clinical.pathways.case import NORWOOD, Case
from dermatox.clinical.pathways.eligibility import pathway_eligibility
from dermatox.clinical.pathways.recommendation import R, Rec

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
AGA_TREATMENTS = ("minoxidil_topical", "finasteride", "prp", "microneedling_scalp", "mesotherapy")
PROCEDURES = ("prp", "microneedling_scalp", "mesotherapy", "botulinum_scalp")  # withheld in scarring alopecia
FIRST_LINE = ("minoxidil_topical", "finasteride")  # before scalp toxin, an adjunct at most (§12.8c)
BASIC_PANEL = ("hemoglobin", "ferritin", "tsh")
# Vitamin D: the Endocrine Society 2024 guideline suggests against routine testing (§12.6); it joins the
# panel only with a documented indication in the history (the guideline's list was not read: U).
VITAMIN_D_INDICATIONS = ("malabsorption", "osteoporosis", "chronic_kidney_disease")
ANDROGEN_PANEL = (
    "testosterone_total",
    "testosterone_free",
    "shbg",
    "dhea_s",
    "17_oh_progesterone",
    "prolactin",
    "hba1c",
)
DEFICIENCIES = ("ferritin", "vitamin_d_25oh", "vitamin_b12", "folate", "zinc")
NORWOOD_III = NORWOOD.index("III")


def F(finding_id: str, *evidence: str, **params) -> dict:
    return {"id": finding_id, "params": params, "evidence": list(evidence)}


def P(part_id: str, **params) -> dict:
    """A part of a sentence (catalogue id part.<part_id>), as a parameter of another message."""
    return {"id": f"part.{part_id}", "params": params}


def indications(hair: dict) -> list[dict]:
    """Why treatment is needed, as message parts (empty: nothing points to hair loss needing treatment)."""
    why = []
    if hair.get("daily_shedding", 0) > 100:
        why.append(P("shedding", n=hair["daily_shedding"]))
    for flag in ("scalp_gaps", "thinning", "growth_problem", "scarring_alopecia_signs"):
        if hair.get(flag):
            why.append(P(flag))
    if hair.get("pull_test_hairs", 0) > 2:
        why.append(P("pull_test", n=hair["pull_test_hairs"]))
    if "norwood" in hair and NORWOOD.index(hair["norwood"]) >= NORWOOD_III:
        why.append(P("stage", stage=f"Norwood {hair['norwood']}"))
    if "ludwig" in hair:
        why.append(P("stage", stage=f"Ludwig {hair['ludwig']}"))
    if hair.get("sinclair", 1) >= 2:
        why.append(P("stage", stage=f"Sinclair {hair['sinclair']}"))
    return why


def pattern_stage(hair: dict) -> str | None:
    if "norwood" in hair and NORWOOD.index(hair["norwood"]) >= NORWOOD_III:
        return f"Norwood {hair['norwood']}"
    if "ludwig" in hair:
        return f"Ludwig {hair['ludwig']}"
    if hair.get("sinclair", 1) >= 2:
        return f"Sinclair {hair['sinclair']}"
    return None


def hyperandrogenism(case: Case) -> bool:
    """Signs on examination, or PCOS in the history (§12.6 rule: the PCOS pathway must read history)."""
    return bool(case.hair and case.hair.get("hyperandrogenism_signs")) or "pcos" in case.conditions


def scarring_suspected(case: Case) -> bool:
    return "scarring_alopecia" in case.hair_diagnoses or bool(
        (case.hair or {}).get("scarring_alopecia_signs")
    )


def current_or_tried(case: Case, treatment: str) -> bool:
    return treatment in case.medications or any(p.treatment == treatment for p in case.hair_prior_treatments)


def assess_hair(
    case: Case, labs: dict[str, dict], findings: list, workup: dict, recs: dict[str, Rec]
) -> None:
    _referral_endocrinology(case, labs, recs["referral_endocrinology"])
    hair = case.hair
    if hair is None:
        for t in HAIR_TREATMENTS:
            if t != "referral_endocrinology":
                recs[t].indicate("not_indicated", R("no_hair_assessment"))
        return
    diagnoses = case.hair_diagnoses
    why = indications(hair)
    if diagnoses:
        why.append(P("stated_diagnosis", terms=list(diagnoses)))
    if not why:
        findings.append(F("hair_within_normal", "daily_shedding_folk_figure", "mcdonald_2017"))
        for t in HAIR_TREATMENTS:
            if t != "referral_endocrinology":
                recs[t].indicate("not_indicated", R("hair_within_normal"), "daily_shedding_folk_figure")
        return
    findings.append(
        F(
            "hair_treatment_indicated",
            "daily_shedding_folk_figure",
            "mcdonald_2017",
            "hamilton_norwood_ludwig",
            items=why,
        )
    )

    female = case.sex == "female"
    diffuse = hair.get("daily_shedding", 0) > 100 or hair.get("pull_test_hairs", 0) > 2
    trigger = bool(hair.get("trigger_last_3_months"))
    stage = pattern_stage(hair)
    te = "telogen_effluvium" in diagnoses
    areata = "alopecia_areata" in diagnoses
    scarring = scarring_suspected(case)
    # A pattern stage means androgenetic alopecia unless another diagnosis explains the loss; telogen
    # effluvium and AGA often coexist, so TE does not hide the stage (§12.7).
    stage_counts = stage is not None and set(diagnoses) <= {"telogen_effluvium", "androgenetic_alopecia"}
    aga = "androgenetic_alopecia" in diagnoses or stage_counts
    if diagnoses:
        findings.append(F("stated_diagnosis", "stated_hair_diagnoses", terms=list(diagnoses)))
    if stage_counts and "androgenetic_alopecia" not in diagnoses:
        if te:
            findings.append(F("te_with_aga", "stated_hair_diagnoses", stage=stage))
        else:
            findings.append(F("aga_inferred", "hamilton_norwood_ludwig", stage=stage))
    if te:
        findings.append(F("te_workup", "stated_hair_diagnoses", "kakpovbia_2021"))
    if areata:
        findings.append(F("alopecia_areata_refer", "stated_hair_diagnoses"))
    if scarring:
        findings.append(F("scarring_alopecia_refer", "stated_hair_diagnoses", "scarring_alopecia_procedures"))
    if diffuse:
        findings.append(F("diffuse_shedding", "rebora_2005", "mcdonald_2017"))
    if trigger and diffuse:
        findings.append(F("te_after_trigger", "kakpovbia_2021", "te_lab_yield"))

    _workup(case, labs, findings, workup, diffuse=diffuse or te, trigger=trigger and diffuse)
    _supplements(case, labs, workup, recs["oral_supplements"])

    derm = recs["referral_dermatology"]
    if scarring:
        derm.indicate("recommended", R("refer_scarring_alopecia"), "stated_hair_diagnoses")
    elif areata:
        derm.indicate("recommended", R("refer_alopecia_areata"), "stated_hair_diagnoses")
    elif aga and case.age < 18:
        # §12.5: under 18 minoxidil and finasteride are off-label or not indicated: a specialist decides
        derm.indicate("recommended", R("refer_minor_hair_loss", age=case.age), "age_limits_12_5")
    else:
        derm.indicate("not_indicated", R("no_dermatology_referral"))

    if aga:
        _aga_treatments(case, recs, female=female)
    else:
        if areata:
            why_not = R("aga_treatments_not_for", terms=["alopecia_areata"])
        elif scarring:
            why_not = R("scarring_establish_diagnosis")
        elif te:
            why_not = R("te_treat_cause")
        else:
            why_not = R("establish_diagnosis")
        for t in (*AGA_TREATMENTS, "hormonal_therapy"):
            recs[t].indicate("not_indicated", why_not)
    _scalp_toxin(case, recs, aga=aga)
    if areata:  # §12.7 AA row: withhold scalp BoNT, and PRP outside trials (U), even with AGA stated too
        for t in ("botulinum_scalp", "prp"):
            recs[t].withhold(R("areata_no_procedures"), "stated_hair_diagnoses")
    if scarring:
        for t in PROCEDURES:
            recs[t].withhold(R("scarring_no_procedures"), "scarring_alopecia_procedures")
        for t in ("minoxidil_topical", "finasteride"):
            if recs[t].base in ("recommended", "option"):
                recs[t].note(R("scarring_drugs_with_specialist"), "scarring_alopecia_procedures")


def _workup(case: Case, labs: dict, findings: list, workup: dict, *, diffuse: bool, trigger: bool) -> None:
    female = case.sex == "female"
    suggested: list[str] = []
    if (diffuse or female) and not trigger:
        suggested += BASIC_PANEL
        vitamin_d = [c for c in VITAMIN_D_INDICATIONS if c in case.conditions]
        if vitamin_d:
            suggested.append("vitamin_d_25oh")
        detail = P("vitamin_d_indicated", conditions=vitamin_d) if vitamin_d else P("vitamin_d_left_out")
        findings.append(F("vitamin_d_not_routine", "endocrine_society_vitamin_d_2024", detail=detail))
    if female and hyperandrogenism(case):
        suggested += ANDROGEN_PANEL
        findings.append(
            F(
                "hyperandrogenism_workup",
                "endocrine_society_hirsutism_2018",
                basis=P("pcos" if "pcos" in case.conditions else "signs"),
            )
        )
    aga = pattern_stage(case.hair) is not None or "androgenetic_alopecia" in case.hair_diagnoses
    if not suggested and case.sex == "male" and aga and not diffuse:
        findings.append(F("no_labs_required", "trost_2006"))
    workup["suggested"] = list(dict.fromkeys(suggested))
    workup["missing"] = [t for t in workup["suggested"] if t not in labs]


def _supplements(case: Case, labs: dict, workup: dict, rec: Rec) -> None:
    """Supplements only against a documented deficiency (EDF S3 2018: not without one)."""
    deficient = [t for t in DEFICIENCIES if labs.get(t, {}).get("flag") == "low"]
    if deficient:
        rec.indicate(
            "recommended",
            R(
                "correct_deficiency",
                items=[
                    P("deficiency", term=f"deficiency_{t}", value=labs[t]["value"], unit=labs[t]["unit"])
                    for t in deficient
                ],
            ),
            "guo_katta_2017",
        )
        if "isotretinoin" in case.medications:
            rec.note(R("no_vitamin_a_with_isotretinoin"), "isotretinoin_vitamin_a")
    else:
        rec.indicate("not_indicated", R("no_deficiency"), "guo_katta_2017", "almohanna_2019", "kanti_2018")
        missing = [t for t in DEFICIENCIES if t in workup["missing"]]
        if missing:
            rec.note(R("deficiency_unknown", tests=missing))


def _referral_endocrinology(case: Case, labs: dict, endo: Rec) -> None:
    """A result whose meaning is "refer" recommends the referral, whatever else the case holds (§12.6)."""
    from dermatox.clinical.pathways.labs import referrals

    reasons = [msg for referral, msg in referrals(labs) if referral == "referral_endocrinology"]
    if reasons:
        endo.indicate(
            "recommended",
            R("refer_endocrinology", items=[m.as_dict() for m in reasons]),
            "androgen_tumour_thresholds",
        )
    else:
        endo.indicate("not_indicated", R("no_endocrine_result"))


def _aga_treatments(case: Case, recs: dict[str, Rec], *, female: bool) -> None:
    recs["minoxidil_topical"].indicate("recommended", R("aga_minoxidil"), "edf_s3_aga_2011", "kanti_2018")
    finasteride = recs["finasteride"]
    if female and case.pregnancy_potential:
        finasteride.indicate("contraindicated", R("finasteride_women_potential"), "finasteride_pregnancy")
    elif female:
        finasteride.indicate("not_indicated", R("finasteride_men_only"), "edf_s3_aga_2011")
    else:
        finasteride.indicate("recommended", R("aga_finasteride"), "edf_s3_aga_2011", "kanti_2018")
        finasteride.note(R("finasteride_counselling"), "finasteride_counselling_ema_2025", "finasteride_psa")
    recs["prp"].indicate("option", R("prp_adjunct"), "prp_reviews", "kanti_2018")
    recs["microneedling_scalp"].indicate("option", R("microneedling_adjunct"), "dhurat_2013")
    recs["mesotherapy"].indicate("option", R("mesotherapy_low_evidence"), "edf_s3_aga_2011")
    hormonal = recs["hormonal_therapy"]
    if female and hyperandrogenism(case):
        hormonal.indicate("option", R("hormonal_hair_hyperandrogenism"), "edf_s3_aga_2011", "kanti_2018")
    else:
        hormonal.indicate("not_indicated", R("hormonal_hair_only_hyperandrogenism"), "kanti_2018")


def _scalp_toxin(case: Case, recs: dict[str, Rec], *, aga: bool) -> None:
    """Investigational (§12.8c): adult men with AGA, an adjunct after minoxidil or finasteride at most."""
    botox = recs["botulinum_scalp"]
    ineligible = pathway_eligibility(case, "botulinum_scalp")
    if ineligible:
        botox.indicate("not_indicated", ineligible[0], "english_ruiz_2022", "age_limits_12_5")
        for extra in ineligible[1:]:
            botox.note(extra)
        return
    if not aga:
        botox.indicate("not_indicated", R("scalp_bont_no_aga"), "english_ruiz_2022")
        return
    botox.indicate("option", R("scalp_bont_investigational"), "bont_label_safety", "regulatory_status")
    botox.note(
        R("scalp_bont_evidence"),
        "freund_2010",
        "singh_2017",
        "yu_2024",
        "melo_2024",
        "lima_galindo_2025",
    )
    botox.note(R("scalp_bont_adjunct"), "english_ruiz_2022")
    if not any(current_or_tried(case, t) for t in FIRST_LINE):
        botox.first(list(FIRST_LINE), R("scalp_bont_after_first_line"), "english_ruiz_2022")
