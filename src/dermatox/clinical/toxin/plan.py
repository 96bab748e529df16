"""The plan check: is this toxin plan safe and sound for this patient today? Pure; the date is an argument.

One rule set, by use case (docs/toxin.md lists every rule with its id, action and clinical.md source):
  patient.py      shared toxin safety (toxin_safety.py, with the product's excipients), ages, pathway
  visits.py       retreatment interval, same area / other product on the same day, other product recently
  dose_limits.py  label maxima summed with the history, the area's reference dose, doses not counted
  conversion.py   a protocol written in another product's units
  vial.py         expiry, beyond-use time, units left
and here: off-label use and a dose per point far from the protocol's.

Each block and warning is `{id, text, params}`: `text` in the requested language from the message
catalogue (`plan.<id>`, or `safety.<id>` for the shared rules), `params` plain JSON so `localize_plan`
renders a stored result in another language. `evidence` maps each id to its evidence-register ids.
"""

from __future__ import annotations

from dermatox.clinical.messages import LANGS, render
from dermatox.clinical.pathways.case import CaseError
from dermatox.clinical.toxin.conversion import convert
from dermatox.clinical.toxin.dose_limits import above_label_maximum, reference_dose, reference_for
from dermatox.clinical.toxin.findings import (
    BLOCK,
    WARNING,
    Finding,
    entry,
    indication_text,
    message_id,
)
from dermatox.clinical.toxin.limits import label_dose, labelled_indications
from dermatox.clinical.toxin.patient import age_rules, pathway_rules, shared_safety
from dermatox.clinical.toxin.plan_input import PlanInput, parse_plan
from dermatox.clinical.toxin.protocols import load_protocols
from dermatox.clinical.toxin.vial import vial_rules
from dermatox.clinical.toxin.visits import other_product_recent, retreatment_interval, same_day

OFF_LABEL_INDICATIONS = ("hair", "sebum")
DOSE_TOLERANCE = 0.5  # a point more than 50% away from the protocol's dose per point is flagged


def _off_label(plan: PlanInput) -> list[Finding]:
    """Hair and sebum are off-label for every product; a labelled indication is off-label for a product
    whose label does not include it (clinical.md §12.1 "—")."""
    indication, product = plan.indication, plan.product["id"]
    unlabelled = indication in labelled_indications() and label_dose(product, indication) is None
    if not (
        indication in OFF_LABEL_INDICATIONS or unlabelled or (plan.protocol and plan.protocol["off_label"])
    ):
        return []
    params = {"indication": indication_text(indication), "product": product}
    return [Finding("off_label", WARNING, params, ("bont_label_safety",))]


def _dose_per_point(plan: PlanInput, reference: list[dict], points: list[dict]) -> list[Finding]:
    if not reference or plan.points is None:
        return []
    usual = sorted(p["units"] for p in reference)[len(reference) // 2]
    far = [p for p in points if abs(p["units"] - usual) > DOSE_TOLERANCE * usual]
    if not far:
        return []
    params = {"count": len(far), "usual_units": round(usual, 4)}
    return [Finding("dose_per_point", WARNING, params, ())]


def check_plan(raw, *, protocols: dict | None = None, lang: str = "en") -> dict:
    """Check a toxin plan; raises CaseError listing every input problem."""
    if lang not in LANGS:
        raise CaseError([f"lang: must be one of {', '.join(LANGS)}"])
    protocols = protocols if protocols is not None else load_protocols()
    plan = parse_plan(raw, protocols)
    known = labelled_indications() | {p["indication"] for p in protocols.values()}
    converted = convert(plan)
    points = plan.points if plan.points is not None else converted.reference_points
    total = round(sum(p["units"] for p in points), 4)
    safety, last_dose, not_before = shared_safety(plan)
    reference = reference_for(plan, converted.ratio_ok, protocols)
    no_reference = [] if reference is not None else [Finding("no_reference_dose", WARNING, {}, ())]
    findings = [
        *safety,
        *age_rules(plan),
        *retreatment_interval(plan, last_dose, not_before),
        *same_day(plan, known),
        *above_label_maximum(plan, total, known),
        *reference_dose(plan, total, reference),
        *no_reference,
        *converted.findings,
        *vial_rules(plan, total),
        *other_product_recent(plan),
        *pathway_rules(plan),
        *_off_label(plan),
        *_dose_per_point(plan, converted.reference_points, points),
    ]
    blocks = [entry(f, lang) for f in findings if f.kind == BLOCK]
    warnings = [entry(f, lang) for f in findings if f.kind == WARNING]
    out_points = [{**p, "volume_ml": round(plan.concentration.volume_ml(p["units"]), 4)} for p in points]
    result = {
        "status": "blocked" if blocks else "warn" if warnings else "ok",
        "product": plan.product["id"],
        "protocol": plan.protocol["id"] if plan.protocol else None,
        "total_units": total,
        "total_volume_ml": round(sum(p["volume_ml"] for p in out_points), 4),
        "units_per_0_1_ml": round(plan.concentration.units_per_0_1_ml, 4),
        "points": out_points,
        "warnings": warnings,
        "blocks": blocks,
        "reference_dose": None
        if reference is None
        else {
            "units": round(reference.units, 4),
            "confidence": reference.confidence,
            "source": reference.source,
        },
        "evidence": {f.id: list(f.evidence) for f in findings},
        "lang": lang,
    }
    if converted.summary is not None:
        result["conversion"] = converted.summary
    if not_before:
        result["not_before"] = not_before.isoformat()
    return result


def localize_plan(result: dict, lang: str) -> dict:
    """A stored plan check with its blocks and warnings re-rendered in another language."""
    if lang not in LANGS:
        raise ValueError(f"lang: must be one of {', '.join(LANGS)}")

    def again(items: list[dict]) -> list[dict]:
        return [{**i, "text": render(message_id(i["id"]), i.get("params", {}), lang)} for i in items]

    return {**result, "blocks": again(result["blocks"]), "warnings": again(result["warnings"]), "lang": lang}


__all__ = ["BLOCK", "WARNING", "check_plan", "localize_plan"]
