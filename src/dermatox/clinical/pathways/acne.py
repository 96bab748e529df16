"""Acne, oily skin and acne-scar rules (clinical.md §5-§7; issue 3 §2 "Acne")."""

from __future__ import annotations

from dermatox.clinical.pathways.case import Case
from dermatox.clinical.pathways.recommendation import Rec

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
    """(severity or None when ungraded, how it was derived)."""
    if not acne:
        return None, ""
    if "gags" in acne:
        level, basis = gags_severity(acne["gags"]), f"GAGS {acne['gags']}"
    elif "iga" in acne:
        level, basis = IGA_SEVERITY[acne["iga"]], f"IGA {acne['iga']}"
    else:
        level, basis = None, ""
    if acne.get("nodules", 0) > 0 or acne.get("scarring"):
        why = "nodules" if acne.get("nodules", 0) > 0 else "scarring"
        if level is None or SEVERITIES.index(level) < SEVERITIES.index("severe"):
            level, basis = "severe", (f"{basis}; " if basis else "") + f"{why}: at least severe"
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
                recs[t].indicate("not_indicated", "No skin assessment in this case.")
        _hormonal(case, None, False, recs["hormonal_therapy_acne"], "No skin assessment in this case.")
        return None
    level, basis = severity(case.acne)
    present = level is not None and level != "clear"
    if case.gags_computed:
        findings.append(
            {
                "id": "gags_computed",
                "text": f"GAGS computed from the regions: {case.acne['gags']} (factor x worst lesion grade, summed).",
                "evidence": ["gags_doshi_1997"],
            }
        )
    if level is not None:
        findings.append(
            {
                "id": "acne_severity",
                "text": f"Acne severity: {level.replace('_', ' ')} ({basis}).",
                "evidence": ["gags_doshi_1997" if "GAGS" in basis else "fda_iga_2018"],
            }
        )
    elif case.acne is not None:
        findings.append(
            {
                "id": "acne_ungraded",
                "text": "Acne was recorded without a grade: give GAGS (or its regions) or IGA to get acne recommendations.",
                "evidence": ["gags_doshi_1997", "fda_iga_2018"],
            }
        )
    if case.sebum:
        findings.append(
            {
                "id": "sebum_recorded",
                "text": "Sebumeter readings are kept for the record and compared with the patient's own baseline; no "
                "absolute oily-skin cut-off is applied because none is validated.",
                "evidence": ["toxins_2021_review"],
            }
        )
    not_present = "No acne to treat."
    if case.acne is not None and level is None:
        not_present = "Acne not graded: grade it first (GAGS or IGA)."

    topical = recs["topical_first_line"]
    if present:
        topical.indicate(
            "recommended",
            "Acne present: a topical retinoid with benzoyl peroxide (± a topical antibiotic, never alone) is first line.",
            "aad_acne_2024",
        )
    else:
        topical.indicate("not_indicated", not_present)

    antibiotic = recs["oral_antibiotic"]
    if not at_least(level, "moderate"):
        antibiotic.indicate(
            "not_indicated",
            "Oral antibiotics are for moderate or worse acne." if present else not_present,
            "aad_acne_2024",
        )
    elif failed(case, "oral_antibiotic"):
        antibiotic.indicate(
            "not_indicated", "An oral antibiotic was already tried and failed.", "acne_failure_definition"
        )
    elif weeks_used(case, "oral_antibiotic") >= ANTIBIOTIC_LIMIT_WEEKS:
        antibiotic.indicate(
            "not_indicated",
            f"Not indicated: duration limit ({weeks_used(case, 'oral_antibiotic')} weeks already used; limit about 3-4 months).",
            "antibiotic_duration",
        )
    else:
        antibiotic.indicate(
            "recommended",
            "Moderate or worse acne: oral doxycycline with benzoyl peroxide, for the shortest duration (3-4 months at most).",
            "aad_acne_2024",
            "antibiotic_duration",
        )
    if case.pregnant:
        antibiotic.contraindicate("Pregnancy: tetracyclines (doxycycline) must not be used.", "aad_acne_2024")

    _hormonal(case, level, present, recs["hormonal_therapy_acne"], not_present)

    iso = recs["isotretinoin"]
    iso_why = []
    if at_least(level, "severe"):
        iso_why.append(f"{level.replace('_', ' ')} acne")
    if case.acne and case.acne.get("nodules", 0) > 0:
        iso_why.append("nodules")
    if case.acne and case.acne.get("scarring"):
        iso_why.append("scarring")
    if present and failed(case, "oral_antibiotic"):
        iso_why.append("a failed oral antibiotic")
    if iso_why:
        iso.indicate("recommended", "Oral isotretinoin: " + ", ".join(iso_why) + ".", "aad_acne_2024")
    else:
        iso.indicate(
            "not_indicated",
            "Isotretinoin is for severe, nodular or scarring acne, or acne failing standard therapy."
            if present
            else not_present,
            "aad_acne_2024",
        )
    if case.pregnant or case.breastfeeding:
        iso.contraindicate(
            "Pregnancy or breastfeeding: isotretinoin is teratogenic and must not be used.", "aad_acne_2024"
        )

    botox = recs["botulinum_intradermal"]
    if case.seborrhea != "marked":
        botox.indicate(
            "not_indicated",
            "Intradermal toxin is considered only for markedly oily skin (seborrhoea graded 'marked').",
            "toxins_2021_review",
        )
    else:
        first = ["topical_first_line"] + (["oral_antibiotic"] if at_least(level, "moderate") else [])
        # Tried means failed, or (for the antibiotic) used up to its duration limit.
        untried = [
            t
            for t in first
            if not failed(case, t)
            and not (t == "oral_antibiotic" and weeks_used(case, t) >= ANTIBIOTIC_LIMIT_WEEKS)
        ]
        botox.indicate(
            "option",
            "This use is off-label (not approved for acne or oily skin) and outside the acne guidelines (AAD 2024 does not list it).",
            "aad_acne_2024",
        )
        botox.note(
            "It is supported only by small studies of sebum (20-50 people; effect about 3-4 months, up to 6).",
            "li_2013_sebum",
            "kesty_goldberg",
            "sayed_2021",
            "min_2015",
        )
        if untried:
            botox.first(
                untried,
                "Conventional treatment first: "
                + ", ".join(untried)
                + " must have been tried and failed (8 weeks or more, or not tolerated).",
                "acne_failure_definition",
            )
    return level


def _hormonal(case: Case, level: str | None, present: bool, rec: Rec, not_present: str) -> None:
    """Women with moderate or worse acne, or with signs of hyperandrogenism (from the hair assessment)."""
    signs = bool(case.hair and case.hair.get("hyperandrogenism_signs"))
    if case.sex != "female":
        rec.indicate("not_indicated", "Hormonal acne therapy is for women.", "aad_acne_2024")
    elif (present and at_least(level, "moderate")) or signs:
        why = (
            "moderate or worse acne"
            if present and at_least(level, "moderate")
            else "signs of hyperandrogenism"
        )
        rec.indicate(
            "option",
            f"Woman with {why}: combined oral contraceptive or spironolactone (conditional recommendation).",
            "aad_acne_2024",
        )
    else:
        rec.indicate(
            "not_indicated",
            "For women with moderate or worse acne or signs of hyperandrogenism." if present else not_present,
        )
    if case.pregnant:
        rec.contraindicate(
            "Pregnancy: hormonal acne therapy (contraceptives, spironolactone) must not be used.",
            "aad_acne_2024",
        )


def assess_scars(case: Case, level: str | None, findings: list, cautions: list, recs: dict[str, Rec]) -> None:
    grade = (case.scars or {}).get("goodman_baron")
    scar_cautions = []
    if "keloid_tendency" in case.conditions:
        scar_cautions.append(
            (
                "keloid_tendency",
                "Keloid tendency: microneedling can provoke keloids; test a small area or avoid.",
                "microneedling_precautions",
            )
        )
    if "herpes_simplex" in case.conditions:
        scar_cautions.append(
            (
                "herpes_simplex",
                "Herpes simplex: give antiviral prophylaxis before facial microneedling.",
                "microneedling_precautions",
            )
        )
    if "isotretinoin" in case.medications:
        scar_cautions.append(
            (
                "isotretinoin_current",
                "Current isotretinoin: the label advises waiting 6 months; consensus finds superficial procedures acceptable, microneedling not named.",
                "isotretinoin_procedure_consensus",
            )
        )
    for t in SCAR_TREATMENTS:
        rec = recs[t]
        if grade is None:
            rec.indicate(
                "not_indicated",
                "No acne scars graded (Goodman-Baron)."
                if case.skin_given
                else "No skin assessment in this case.",
            )
            continue
        if grade == 1:
            rec.indicate(
                "not_indicated",
                "Goodman-Baron grade 1 (macular) is a colour, not a contour problem.",
                "goodman_baron_2006",
            )
            continue
        rec.indicate(
            "option",
            f"Acne scars, Goodman-Baron grade {grade}: microneedling-based treatment improves scar grades.",
            "goodman_baron_2006",
        )
        for _id, text, evidence in scar_cautions:
            rec.note(f"Caution: {text}", evidence)
        if at_least(level, "moderate"):
            acne_first = [
                t
                for t in ("topical_first_line", "oral_antibiotic", "isotretinoin", "hormonal_therapy_acne")
                if recs[t].status == "recommended"
            ]
            rec.first(
                acne_first or ["topical_first_line"],
                "Active acne first: moderate or worse acne is a contraindication to microneedling.",
                "microneedling_precautions",
            )
    if grade is not None and grade >= 2:
        for rule_id, text, evidence in scar_cautions:
            cautions.append(
                {"id": rule_id, "text": text, "treatments": list(SCAR_TREATMENTS), "evidence": [evidence]}
            )
