"""assess(case) -> Assessment: for one patient on one date, what fits, what comes first, what is
contraindicated, and why. Pure: no Django, no I/O beyond reference data, no clock.

Order: the indication rules (hair, acne, scars) give each treatment a base; then the safety rules that
hold whatever the pathway says (toxin rules, pregnancy and current medicines, ages); then `after` lists
are kept to treatments this patient can have. Texts are rendered last, in the requested language.
"""

from __future__ import annotations

import datetime as dt

from dermatox.clinical.messages import Msg, check_lang
from dermatox.clinical.pathways import acne, hair, labs
from dermatox.clinical.pathways.case import PREGNANCY_POTENTIAL_AGES, Case, parse_case
from dermatox.clinical.pathways.eligibility import outside_age
from dermatox.clinical.pathways.localize import localize
from dermatox.clinical.pathways.recommendation import AVAILABLE, R, Rec
from dermatox.clinical.reference import by_id, load
from dermatox.clinical.toxin_safety import RETREATMENT_DAYS, toxin_safety_for_case

ENGINE_VERSION = "2.0.0"
TOXIN_AREAS = {"botulinum_scalp": "scalp", "botulinum_intradermal": "face"}


def assess(raw, lang: str = "en") -> dict:
    """Assess a case given as a plain mapping (as from JSON). Raises CaseError on invalid input."""
    return assess_case(raw if isinstance(raw, Case) else parse_case(raw), lang)


def assess_case(case: Case, lang: str = "en") -> dict:
    check_lang(lang)
    findings: list[dict] = []
    workup = {"suggested": [], "missing": []}
    recs = {t: Rec(t) for t in by_id("treatments.toml")}
    lab_entries, too_old, latest = labs.interpret(case)
    if too_old:
        findings.append({"id": "labs_too_old", "params": {"tests": too_old}, "evidence": ["kakpovbia_2021"]})
    hair.assess_hair(case, latest, findings, workup, recs)
    level = acne.assess_acne(case, findings, recs)
    cautions: list[dict] = []
    acne.assess_scars(case, level, findings, cautions, recs)
    _coc_after_endocrinology(case, latest, recs)
    contraindications, toxin_cautions, not_before = _apply_toxin_safety(case, recs)
    alerts, drug_contraindications, drug_cautions = _apply_drug_safety(case, recs)
    _apply_ages(case, recs)
    _procedures(case, recs)
    _keep_after_available(recs)
    contraindications += drug_contraindications + _other_contraindications(recs, contraindications)
    result = {
        "engine_version": ENGINE_VERSION,
        "as_of": case.as_of.isoformat(),
        "age": case.age,
        "assumptions": _assumptions(case),
        "findings": findings,
        "labs": lab_entries,
        "workup": workup,
        "recommendations": [r.to_dict(lang) for r in recs.values()],
        "safety": {
            "alerts": alerts,
            "contraindications": contraindications,
            "cautions": toxin_cautions + drug_cautions + cautions,
            "toxin_not_before": not_before.isoformat() if not_before else None,
        },
        "follow_up": _follow_up(case, recs),
    }
    return localize(result, lang, recommendations=False)  # the recommendations are rendered already


def _entry(rule_id: str, msg: Msg, treatments: list[str], evidence, **extra) -> dict:
    return {
        "id": rule_id,
        "msg": msg.id,
        "params": dict(msg.params),
        "treatments": treatments,
        "evidence": list(evidence),
        **extra,
    }


def _rule_msg(rule) -> Msg:
    return (
        rule.msg
        if getattr(rule, "msg", None) is not None
        else Msg("safety.untranslated", {"text": rule.text})
    )


def _apply_toxin_safety(case: Case, recs: dict[str, Rec]):
    contraindications: dict[str, dict] = {}
    cautions: dict[str, dict] = {}
    not_before = None
    by_area = toxin_safety_for_case(case, tuple(TOXIN_AREAS.values()))
    for treatment, area in TOXIN_AREAS.items():
        safety = by_area[area]
        rec = recs[treatment]
        for rule in safety.contraindications:
            msg = rule.msg
            rec.contraindicate(msg, *rule.evidence)
            contraindications.setdefault(rule.id, _entry(rule.id, msg, [], rule.evidence))[
                "treatments"
            ].append(treatment)
        for rule in safety.cautions:
            msg = rule.msg
            if rec.base != "not_indicated":
                rec.note(R("caution", rule=msg.as_dict()), *rule.evidence)
            cautions.setdefault(rule.id, _entry(rule.id, msg, [], rule.evidence))["treatments"].append(
                treatment
            )
        same_day = [d for d in case.toxin_history if d.date == case.as_of and d.area == area]
        if same_day and not safety.not_before:
            # a session in this area was given today: not the same area twice in a day (issue 11 §2)
            until = case.as_of + dt.timedelta(days=RETREATMENT_DAYS)
            rec.defer(
                until, R("toxin_same_area_today", not_before=until.isoformat()), "bont_retreatment_interval"
            )
            not_before = max(not_before or until, until)
        if safety.not_before:
            not_before = safety.not_before
            rec.defer(
                safety.not_before,
                R(
                    "toxin_interval",
                    last=safety.last_dose.isoformat(),
                    not_before=safety.not_before.isoformat(),
                ),
                "bont_retreatment_interval",
            )
    return list(contraindications.values()), list(cautions.values()), not_before


def _rule_applies(case: Case, rule: dict) -> bool:
    when = rule["when"]
    if when == "pregnant":
        return case.pregnant
    if when == "breastfeeding":
        return case.breastfeeding
    if when == "pregnancy_potential":
        return case.pregnancy_potential and not case.pregnant
    if when == "taking":
        return any(m in case.medications for m in rule["taking"])
    if when == "condition":
        return any(c in case.conditions for c in rule["having"])
    raise ValueError(f"drug_safety.toml {rule['id']}: unknown when {when!r}")


def drug_rules() -> tuple[dict, ...]:
    return load("drug_safety.toml")


def _apply_drug_safety(case: Case, recs: dict[str, Rec]) -> tuple[list, list, list]:
    """Pregnancy, breastfeeding, pregnancy potential and interactions (clinical.md §12.3, §12.4, §12.9):
    alerts for what the patient already takes; contraindications and requirements for what is offered."""
    alerts, contraindications, cautions = [], [], []
    for rule in drug_rules():
        if not _rule_applies(case, rule):
            continue
        taken = [m for m in rule["medications"] if m in case.medications]
        if rule["when"] == "taking":
            taken = sorted({*taken, *(m for m in rule["taking"] if m in case.medications)}) if taken else []
        if taken:
            alerts.append(
                {
                    "id": rule["id"],
                    "severity": rule["severity"],
                    "params": {"medications": taken},
                    "medications": taken,
                    "evidence": list(rule["evidence"]),
                }
            )
        hit = [t for t in rule["treatments"] if recs[t].base != "not_indicated"]
        for t in hit:
            recs[t].contraindicate(R(rule["id"]), *rule["evidence"])
        if hit:
            contraindications.append(_entry(rule["id"], R(rule["id"]), hit, rule["evidence"]))
        offered = [t for t in rule.get("cautions", []) if recs[t].base in ("recommended", "option")]
        for t in offered:
            recs[t].note(R(rule["id"]), *rule["evidence"])
        if offered:
            cautions.append(_entry(rule["id"], R(rule["id"]), offered, rule["evidence"]))
    return alerts, contraindications, cautions


def _apply_ages(case: Case, recs: dict[str, Rec]) -> None:
    """Each treatment's labelled or studied age range (age_limits.toml, clinical.md §12.5)."""
    for treatment, rec in recs.items():
        hit = outside_age(treatment, case.age, case.sex)
        if hit is None or rec.base == "not_indicated":  # not offered anyway: its own reason says why
            continue
        action, reason = hit
        if action == "contraindicated":
            rec.contraindicate(reason, "age_limits_12_5")
        elif reason not in rec.reasons:
            rec.withhold(reason, "age_limits_12_5")


ADJUNCTS = ("prp", "microneedling_scalp", "mesotherapy")
INFECTED_AREA = {
    "active_infection_scalp": ("prp", "microneedling_scalp", "mesotherapy"),
    "active_infection_face": ("scar_microneedling", "scar_microneedling_rf"),
}


def _procedures(case: Case, recs: dict[str, Rec]) -> None:
    """Needling and injections not into an infected area (§12.9: local infection); the hair adjuncts only
    beside minoxidil or finasteride the patient can have (so none in pregnancy through the back door)."""
    for condition, treatments in INFECTED_AREA.items():
        if condition in case.conditions:
            for t in treatments:
                recs[t].contraindicate(R("infection_no_procedures"), "microneedling_precautions")
    if not any(recs[t].status in AVAILABLE for t in ("minoxidil_topical", "finasteride")):
        for t in ADJUNCTS:
            if recs[t].base in ("recommended", "option"):
                recs[t].withhold(R("adjunct_without_first_line"), "kanti_2018")


def _coc_after_endocrinology(case: Case, latest: dict, recs: dict[str, Rec]) -> None:
    """A result that needs an endocrinologist keeps combined oral contraceptives waiting for that visit
    (COCs lower androgen readings; clinical.md §12.6 rule, U)."""
    reasons = labs.blocks_coc(latest)
    if not reasons:
        return
    for t in ("hormonal_therapy_acne", "hormonal_therapy"):
        if recs[t].base in ("recommended", "option"):
            recs[t].first(
                ["referral_endocrinology"],
                R("coc_after_endocrinology", items=[m.as_dict() for m in reasons]),
                "androgen_tumour_thresholds",
            )


def _keep_after_available(recs: dict[str, Rec]) -> None:
    """`not_yet` never names a treatment this patient cannot have; with none left it is not indicated."""
    changed = True
    while changed:
        changed = False
        for rec in recs.values():
            if not rec.after or rec.status in ("not_indicated", "contraindicated"):
                continue
            keep = [t for t in rec.after if recs[t].status in AVAILABLE]
            if keep == rec.after:
                continue
            dropped = [t for t in rec.after if t not in keep]
            rec.after = keep
            if not keep:
                rec.withhold(R("first_steps_unavailable", treatments=dropped))
            changed = True


def _other_contraindications(recs: dict[str, Rec], toxin: list[dict]) -> list[dict]:
    """Contraindications set by the indication or age rules, listed in safety too (only where they apply)."""
    listed = {t for entry in toxin for t in entry["treatments"]}
    out = []
    for treatment, rec in recs.items():
        if rec.status != "contraindicated" or treatment in listed:
            continue
        own = [m for m in rec.contraindications if m.id.startswith("reason.age_")]
        if rec.base == "contraindicated":
            own = [rec.reasons[0], *own]
        if own:
            out.append(
                _entry(f"{treatment}_contraindicated", own[0], [treatment], dict.fromkeys(rec.evidence))
            )
    return out


def _assumptions(case: Case) -> list[dict]:
    out = []
    if case.sex == "female" and case.can_become_pregnant is None and not case.pregnant:
        low, high = PREGNANCY_POTENTIAL_AGES
        out.append(
            {
                "id": "pregnancy_potential_by_age",
                "params": {
                    "assumed": {
                        "id": f"part.potential_{'yes' if case.pregnancy_potential else 'no'}",
                        "params": {},
                    },
                    "age": case.age,
                    "low": low,
                    "high": high,
                },
                "field": "patient.can_become_pregnant",
                "value": case.pregnancy_potential,
                "source": "clinical.md §12.3 (iPLEDGE: from the first period until menopause); age band §12.10 "
                "item 16 (design default, U)",
                "confidence": "U",
            }
        )
    if case.pregnant and case.pregnancy_trimester is None and any(t.test == "hemoglobin" for t in case.labs):
        out.append(
            {
                "id": "trimester_unknown",
                "params": {},
                "field": "patient.pregnancy_trimester",
                "value": None,
                "source": "clinical.md §12.6 (WHO 2024: default 11.0 g/dL when the trimester is unknown)",
                "confidence": "S",
            }
        )
    return out


def _follow_up(case: Case, recs: dict[str, Rec]) -> list[dict]:
    given = {t for t in TOXIN_AREAS if recs[t].offered}
    out = []
    if "botulinum_intradermal" in given:
        out.append(
            {"id": "sebum_review", "params": {}, "treatment": "botulinum_intradermal", "weeks": [2, 4]}
        )
        in_scar_treatment = (
            bool(case.scars and case.scars.get("treatment_ongoing")) or recs["scar_microneedling"].offered
        )
        out.append(
            {
                "id": "sebum_retreatment_with_scars" if in_scar_treatment else "sebum_retreatment",
                "params": {},
                "treatment": "botulinum_intradermal",
                "weeks": [12, 24],
            }
        )
    if "botulinum_scalp" in given:
        out.append({"id": "scalp_review_12", "params": {}, "treatment": "botulinum_scalp", "weeks": [12, 12]})
        out.append({"id": "scalp_review_24", "params": {}, "treatment": "botulinum_scalp", "weeks": [24, 24]})
    return [
        {"id": f["id"], "params": f["params"], "treatment": f["treatment"], "review_after_weeks": f["weeks"]}
        for f in out
    ]
