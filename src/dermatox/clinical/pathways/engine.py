"""assess(case) -> Assessment: for one patient on one date, what fits, what comes first, what is
contraindicated, and why. Pure: no Django, no I/O beyond reference data, no clock."""

from __future__ import annotations

from dermatox.clinical.pathways import acne, hair, labs
from dermatox.clinical.pathways.case import Case, parse_case
from dermatox.clinical.pathways.recommendation import Rec
from dermatox.clinical.reference import by_id
from dermatox.clinical.toxin_safety import toxin_safety_by_area

ENGINE_VERSION = "1.0.0"
TOXIN_AREAS = {"botulinum_scalp": "scalp", "botulinum_intradermal": "face"}


def assess(raw) -> dict:
    """Assess a case given as a plain mapping (as from JSON). Raises CaseError on invalid input."""
    return assess_case(raw if isinstance(raw, Case) else parse_case(raw))


def assess_case(case: Case) -> dict:
    findings: list[dict] = []
    workup = {"suggested": [], "missing": []}
    recs = {t: Rec(t) for t in by_id("treatments.toml")}
    lab_entries, too_old, latest = labs.interpret(case)
    if too_old:
        findings.append(
            {
                "id": "labs_too_old",
                "text": "Results older than 180 days do not count: " + ", ".join(too_old) + ".",
                "evidence": ["kakpovbia_2021"],
            }
        )
    hair.assess_hair(case, latest, findings, workup, recs)
    level = acne.assess_acne(case, findings, recs)
    cautions: list[dict] = []
    acne.assess_scars(case, level, findings, cautions, recs)
    contraindications, toxin_cautions, not_before = _apply_toxin_safety(case, recs)
    cautions = toxin_cautions + cautions
    contraindications += _drug_contraindications(recs)
    return {
        "engine_version": ENGINE_VERSION,
        "as_of": case.as_of.isoformat(),
        "age": case.age,
        "findings": findings,
        "labs": lab_entries,
        "workup": workup,
        "recommendations": [r.to_dict() for r in recs.values()],
        "safety": {
            "contraindications": contraindications,
            "cautions": cautions,
            "toxin_not_before": not_before.isoformat() if not_before else None,
        },
        "follow_up": _follow_up(case, recs),
    }


def _apply_toxin_safety(case: Case, recs: dict[str, Rec]):
    contraindications: dict[str, dict] = {}
    cautions: dict[str, dict] = {}
    not_before = None
    by_area = toxin_safety_by_area(
        as_of=case.as_of,
        pregnant=case.pregnant,
        breastfeeding=case.breastfeeding,
        conditions=case.conditions,
        medications=case.medications,
        allergies=case.allergies,
        last_toxin_dates=[dose.date for dose in case.toxin_history],
        areas=tuple(TOXIN_AREAS.values()),
    )
    for treatment, area in TOXIN_AREAS.items():
        safety = by_area[area]
        rec = recs[treatment]
        for rule in safety.contraindications:
            rec.contraindicate(rule.text, *rule.evidence)
            entry = contraindications.setdefault(
                rule.id, {"id": rule.id, "text": rule.text, "treatments": [], "evidence": list(rule.evidence)}
            )
            entry["treatments"].append(treatment)
        for rule in safety.cautions:
            if rec.base != "not_indicated":
                rec.note(f"Caution: {rule.text}", *rule.evidence)
            entry = cautions.setdefault(
                rule.id, {"id": rule.id, "text": rule.text, "treatments": [], "evidence": list(rule.evidence)}
            )
            entry["treatments"].append(treatment)
        if safety.not_before:
            not_before = safety.not_before
            rec.defer(
                safety.not_before,
                f"Last botulinum toxin dose on {safety.last_dose.isoformat()}: wait 12 weeks, not before {safety.not_before.isoformat()}.",
                "bont_retreatment_interval",
            )
    return list(contraindications.values()), list(cautions.values()), not_before


def _drug_contraindications(recs: dict[str, Rec]) -> list[dict]:
    """Contraindications of the non-toxin treatments, listed in safety too (only where they apply)."""
    out = []
    for treatment in ("minoxidil_topical", "oral_antibiotic", "hormonal_therapy_acne", "isotretinoin"):
        rec = recs[treatment]
        if rec.status == "contraindicated":
            out.append(
                {
                    "id": f"{treatment}_contraindicated",
                    "text": rec.contraindications[0],
                    "treatments": [treatment],
                    "evidence": list(dict.fromkeys(rec.evidence)),
                }
            )
    return out


def _follow_up(case: Case, recs: dict[str, Rec]) -> list[dict]:
    given = {t for t in TOXIN_AREAS if recs[t].status in ("recommended", "option")}
    out = []
    if "botulinum_intradermal" in given:
        out.append(
            {
                "treatment": "botulinum_intradermal",
                "review_after_weeks": [2, 4],
                "text": "Review sebum (same site and conditions as the baseline), pores and adverse effects.",
            }
        )
        text = "Reconsider retreatment: the sebum effect fades over about 12-16 weeks (up to 6 months in one study)."
        in_scar_treatment = (
            bool(case.scars and case.scars.get("treatment_ongoing"))
            or recs["scar_microneedling"].status == "option"
        )
        if in_scar_treatment:
            text += (
                " Continue the scar treatment sessions while sebum stays lower (the clinic's sequence; "
                "its timing is unstudied)."
            )
        out.append({"treatment": "botulinum_intradermal", "review_after_weeks": [12, 24], "text": text})
    if "botulinum_scalp" in given:
        out.append(
            {
                "treatment": "botulinum_scalp",
                "review_after_weeks": [12, 12],
                "text": "Review hair count, shedding and photographs at 12 weeks.",
            }
        )
        out.append(
            {
                "treatment": "botulinum_scalp",
                "review_after_weeks": [24, 24],
                "text": "Review at 24 weeks: stop if there is no measurable benefit.",
            }
        )
    return out
