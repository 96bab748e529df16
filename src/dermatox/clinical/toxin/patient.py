"""Who the patient is against this product (clinical.md §8.3, §12.1b, §12.4, §12.5, §12.8c).

- The shared toxin safety rules (toxin_safety.py), with this product's excipients: contraindications block,
  cautions (interactions, anticoagulants) warn.
- `under_18` (block): aesthetic botulinum toxin is for adults only (every label, R-BoNT-6).
- `above_labelled_age` (warning): at or above the product's labelled upper age (Dysport/Azzalure,
  Bocouture, Relfydess: under 65); `above_labelled_age_contraindicated` (block) where the label
  contraindicates it (Letybo UK/EU from 75).
- `not_indicated_by_pathway` (warning): the pathway's eligibility for the protocol's treatment (sex, age,
  stated diagnosis), with the pathway's own reasons.
"""

from __future__ import annotations

from dermatox.clinical.pathways.eligibility import pathway_eligibility
from dermatox.clinical.toxin.findings import BLOCK, WARNING, Finding, sentences
from dermatox.clinical.toxin.limits import ages
from dermatox.clinical.toxin.plan_input import PlanInput
from dermatox.clinical.toxin_safety import toxin_safety_for_case

TREATMENT_OF_INDICATION = {"hair": "botulinum_scalp", "sebum": "botulinum_intradermal"}
AGE_EVIDENCE = ("bont_label_safety",)


def shared_safety(plan: PlanInput):
    """(findings, last dose date, not-before date) from the rule set the pathways use too; an unknown
    area checks both injection-area infections."""
    case = plan.case
    by_area = toxin_safety_for_case(
        case, (plan.area,) if plan.area else ("scalp", "face"), product=plan.product["id"]
    )
    findings: dict[str, Finding] = {}
    for safety in by_area.values():
        for kind, rules in ((BLOCK, safety.contraindications), (WARNING, safety.cautions)):
            for rule in rules:
                findings.setdefault(rule.id, Finding(rule.id, kind, dict(rule.msg.params), rule.evidence))
    safety = next(iter(by_area.values()))  # the interval does not depend on the area
    return list(findings.values()), safety.last_dose, safety.not_before


def age_rules(plan: PlanInput) -> list[Finding]:
    product, age = plan.product["id"], plan.case.age
    findings = []
    for limit in ages(product):
        params = {
            "age": age,
            "product": product,
            "limit": limit.value,
            "confidence": limit.confidence,
            "source": limit.source,
        }
        if limit.bound == "min" and age < limit.value:
            findings.append(Finding("under_18", BLOCK, params, AGE_EVIDENCE))
        elif limit.bound == "below" and age >= limit.value:
            rule_id = (
                "above_labelled_age_contraindicated" if limit.action == "block" else "above_labelled_age"
            )
            findings.append(
                Finding(rule_id, BLOCK if limit.action == "block" else WARNING, params, AGE_EVIDENCE)
            )
    return findings


def pathway_rules(plan: PlanInput) -> list[Finding]:
    treatment = TREATMENT_OF_INDICATION.get(plan.indication or "")
    if treatment is None:
        return []
    reasons = pathway_eligibility(plan.case, treatment)
    if not reasons:
        return []
    params = {
        "treatment": treatment,
        "reasons": sentences([r.as_dict() for r in reasons]),
        "reason_ids": [r.id for r in reasons],
    }
    return [Finding("not_indicated_by_pathway", WARNING, params, ("bont_label_safety",))]
