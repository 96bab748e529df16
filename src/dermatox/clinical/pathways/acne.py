"""Acne, oily skin and acne-scar rules (clinical.md §5-§7, §12.3-§12.5, §12.9; issues 3 and 11)."""

from __future__ import annotations

from dermatox.clinical.pathways.case import Case
from dermatox.clinical.pathways.hair import F, P, hyperandrogenism
from dermatox.clinical.pathways.recommendation import R, Rec

ACNE_TREATMENTS = (
    "topical_first_line",
    "oral_antibiotic",
    "hormonal_therapy_acne",
    "isotretinoin",
    "botulinum_intradermal",
)
SCAR_TREATMENTS = ("scar_microneedling", "scar_microneedling_rf")
SEVERITIES = ("clear", "mild", "moderate", "severe", "very_severe")
IGA_SEVERITY = {0: "clear", 1: "mild", 2: "mild", 3: "moderate", 4: "severe"}
ANTIBIOTIC_LIMIT_WEEKS = 16
FAILURE_WEEKS = 8


def gags_severity(score: int) -> str:
    """GAGS bands (Doshi 1997): 0 clear, 1-18 mild, 19-30 moderate, 31-38 severe, >= 39 very severe."""
    if score == 0:
        return "clear"
    if score <= 18:
        return "mild"
    if score <= 30:
        return "moderate"
    if score <= 38:
        return "severe"
    return "very_severe"


def severity(acne: dict | None) -> tuple[str | None, str]:
    """(severity or None when ungraded, how it was derived: GAGS n / IGA n, with nodules or scarring)."""
    if not acne:
        return None, ""
    if "gags" in acne:
        level, basis = gags_severity(acne["gags"]), f"GAGS {acne['gags']}"
    elif "iga" in acne:
        level, basis = IGA_SEVERITY[acne["iga"]], f"IGA {acne['iga']}"
    else:
        level, basis = None, ""
    floor = acne.get("nodules", 0) > 0 or acne.get("scarring")
    if floor and (level is None or SEVERITIES.index(level) < SEVERITIES.index("severe")):
        level = "severe"
    return level, basis


def at_least(level: str | None, floor: str) -> bool:
    return level is not None and SEVERITIES.index(level) >= SEVERITIES.index(floor)


def failed(case: Case, treatment: str) -> bool:
    """Tried and failed: >= 8 weeks with an inadequate or partial outcome, or not tolerated at any duration."""
    return any(
        p.treatment == treatment
        and (
            p.outcome == "not_tolerated"
            or (p.weeks >= FAILURE_WEEKS and p.outcome in ("inadequate", "partial"))
        )
        for p in case.prior_treatments
    )


def weeks_used(case: Case, treatment: str) -> int:
    return sum(p.weeks for p in case.prior_treatments if p.treatment == treatment)


def assess_acne(case: Case, findings: list, recs: dict[str, Rec]) -> str | None:
    if not case.skin_given:
        for t in ACNE_TREATMENTS:
            if t != "hormonal_therapy_acne":
                recs[t].indicate("not_indicated", R("no_skin_assessment"))
        _hormonal(case, None, False, recs["hormonal_therapy_acne"], R("no_skin_assessment"))
        return None
    level, basis = severity(case.acne)
    present = level is not None and level != "clear"
    if case.gags_computed:
        findings.append(F("gags_computed", "gags_doshi_1997", score=case.acne["gags"]))
    if level is not None:
        floor = (
            "nodules"
            if case.acne.get("nodules", 0) > 0
            else "scarring"
            if case.acne.get("scarring")
            else None
        )
        findings.append(
            F(
                "acne_severity",
                "gags_doshi_1997" if "GAGS" in basis else "fda_iga_2018",
                term=level,
                basis=P("severity_floor", basis=basis or "-", floor=P(floor)) if floor else basis,
            )
        )
    elif case.acne is not None:
        findings.append(F("acne_ungraded", "gags_doshi_1997", "fda_iga_2018"))
    if case.sebum:
        findings.append(F("sebum_recorded", "toxins_2021_review"))
    not_present = R("no_acne")
    if case.acne is not None and level is None:
        not_present = R("acne_not_graded")

    topical = recs["topical_first_line"]
    if present:
        if case.pregnant:
            # §12.3: topical retinoids must not be used in pregnancy (EMA 2018; tazarotene contraindicated).
            topical.indicate(
                "recommended",
                R("topical_first_line_pregnancy"),
                "aad_acne_2024",
                "retinoid_pregnancy_ema_2018",
            )
        else:
            topical.indicate("recommended", R("topical_first_line"), "aad_acne_2024")
            if case.pregnancy_potential:
                topical.note(R("topical_retinoid_planning_pregnancy"), "retinoid_pregnancy_ema_2018")
    else:
        topical.indicate("not_indicated", not_present)

    antibiotic = recs["oral_antibiotic"]
    if not at_least(level, "moderate"):
        antibiotic.indicate(
            "not_indicated", R("antibiotic_moderate_or_worse") if present else not_present, "aad_acne_2024"
        )
    elif failed(case, "oral_antibiotic"):
        antibiotic.indicate("not_indicated", R("antibiotic_failed"), "acne_failure_definition")
    elif weeks_used(case, "oral_antibiotic") >= ANTIBIOTIC_LIMIT_WEEKS:
        antibiotic.indicate(
            "not_indicated",
            R("antibiotic_duration_limit", weeks=weeks_used(case, "oral_antibiotic")),
            "antibiotic_duration",
        )
    else:
        antibiotic.indicate(
            "recommended", R("antibiotic_recommended"), "aad_acne_2024", "antibiotic_duration"
        )
        if 8 <= case.age < 12:
            antibiotic.note(R("tetracycline_child_off_label", age=case.age), "tetracycline_teeth")

    _hormonal(case, level, present, recs["hormonal_therapy_acne"], not_present)

    iso = recs["isotretinoin"]
    iso_why = []
    if at_least(level, "severe"):
        iso_why.append({"id": f"term.{level}", "params": {}})
    if case.acne and case.acne.get("nodules", 0) > 0:
        iso_why.append(P("nodules"))
    if case.acne and case.acne.get("scarring"):
        iso_why.append(P("scarring"))
    if present and failed(case, "oral_antibiotic"):
        iso_why.append(P("failed_antibiotic"))
    if iso_why:
        iso.indicate("recommended", R("isotretinoin_indicated", items=iso_why), "aad_acne_2024")
        if case.pregnancy_potential and not case.pregnant:
            iso.note(R("isotretinoin_ppp"), "isotretinoin_ppp")
        if case.age < 18:
            iso.note(R("isotretinoin_under_18"), "age_limits_12_5")
    else:
        iso.indicate("not_indicated", R("isotretinoin_criteria") if present else not_present, "aad_acne_2024")

    _intradermal_toxin(case, level, recs["botulinum_intradermal"])
    return level


def _intradermal_toxin(case: Case, level: str | None, botox: Rec) -> None:
    from dermatox.clinical.pathways.eligibility import pathway_eligibility

    if case.seborrhea != "marked":
        botox.indicate("not_indicated", R("intradermal_marked_seborrhoea_only"), "toxins_2021_review")
        return
    ineligible = pathway_eligibility(case, "botulinum_intradermal")
    if ineligible:
        botox.indicate("not_indicated", ineligible[0], "age_limits_12_5")
        return
    first = ["topical_first_line"] + (["oral_antibiotic"] if at_least(level, "moderate") else [])
    # Tried means failed, or (for the antibiotic) used up to its duration limit.
    untried = [
        t
        for t in first
        if not failed(case, t)
        and not (t == "oral_antibiotic" and weeks_used(case, t) >= ANTIBIOTIC_LIMIT_WEEKS)
    ]
    botox.indicate("option", R("intradermal_off_label"), "aad_acne_2024", "regulatory_status")
    botox.note(R("intradermal_small_studies"), "li_2013_sebum", "kesty_goldberg", "sayed_2021", "min_2015")
    if untried:
        botox.first(untried, R("conventional_first", treatments=untried), "acne_failure_definition")


def _hormonal(case: Case, level: str | None, present: bool, rec: Rec, not_present) -> None:
    """Women with moderate or worse acne, or with hyperandrogenism (signs, or PCOS in the history)."""
    signs = hyperandrogenism(case)
    if case.sex != "female":
        rec.indicate("not_indicated", R("hormonal_acne_women"), "aad_acne_2024")
    elif (present and at_least(level, "moderate")) or signs:
        why = "moderate_acne" if present and at_least(level, "moderate") else "hyperandrogenism"
        rec.indicate("option", R("hormonal_acne_option", basis=P(why)), "aad_acne_2024")
        rec.note(R("spironolactone_off_label"), "regulatory_status")
    else:
        rec.indicate(
            "not_indicated", R("hormonal_acne_criteria") if present else not_present, "aad_acne_2024"
        )


def assess_scars(case: Case, level: str | None, findings: list, cautions: list, recs: dict[str, Rec]) -> None:
    grade = (case.scars or {}).get("goodman_baron")
    override = bool((case.scars or {}).get("keloid_specialist_override"))
    keloid = "keloid_tendency" in case.conditions
    scar_cautions = []
    if keloid and override:
        scar_cautions.append(("keloid_override", "keloid_microneedling"))
    if "herpes_simplex" in case.conditions:
        scar_cautions.append(("herpes_simplex", "microneedling_precautions"))
    for t in SCAR_TREATMENTS:
        rec = recs[t]
        if grade is None:
            rec.indicate(
                "not_indicated", R("no_scars_graded") if case.skin_given else R("no_skin_assessment")
            )
            continue
        if grade == 1:
            rec.indicate("not_indicated", R("scar_grade_1"), "goodman_baron_2006")
            continue
        rec.indicate("option", R("scar_microneedling", grade=grade), "goodman_baron_2006")
        if keloid and (t == "scar_microneedling_rf" or not override):
            # §12.9: keloid tendency contraindicates RF microneedling, and microneedling by default
            rec.contraindicate(
                R("keloid_rf_microneedling" if t == "scar_microneedling_rf" else "keloid_microneedling"),
                "keloid_microneedling",
            )
        for rule_id, evidence in scar_cautions:
            if t == "scar_microneedling" or rule_id != "keloid_override":
                rec.note(R(f"caution_{rule_id}"), evidence)
        if case.age < 22 and case.age >= 18:
            rec.note(R("microneedling_device_age", age=case.age), "age_limits_12_5")
        if at_least(level, "mild"):  # §12.9 expert review: active acne contraindicates microneedling
            acne_first = [
                t
                for t in ("topical_first_line", "oral_antibiotic", "isotretinoin", "hormonal_therapy_acne")
                if recs[t].status == "recommended"
            ]
            rec.first(
                acne_first or ["topical_first_line"], R("active_acne_first"), "microneedling_precautions"
            )
    if grade is not None and grade >= 2:
        for rule_id, evidence in scar_cautions:
            treatments = ["scar_microneedling"] if rule_id == "keloid_override" else list(SCAR_TREATMENTS)
            cautions.append(
                {
                    "id": rule_id,
                    "params": {},
                    "treatments": treatments,
                    "evidence": [evidence],
                }
            )
