"""How many units, against what (clinical.md §12.1, §12.1b R-BoNT-1).

- `above_label_maximum` (block): the product's per-session or rolling-window maximum, summed with the
  patient's doses of that product in the same session (that day, every area) or window.
- `far_above_reference_dose` (block, above 2x) and `above_reference_dose` (warning, above 1x): the area's
  units today against its reference dose: the product's label dose for a labelled indication, else the
  protocol's published total (converted when an in-range ratio was applied).
- `dose_not_counted` (warning): a dose inside a maximum's window whose units or product are unknown.
Units of different products are never added: only doses of the plan's product count.
"""

from __future__ import annotations

from dataclasses import dataclass

from dermatox.clinical.pathways.case import UNKNOWN_PRODUCT, ToxinDose
from dermatox.clinical.toxin.findings import (
    BLOCK,
    WARNING,
    Finding,
    dose_text,
    indication_text,
    nested,
    unconfirmed_note,
)
from dermatox.clinical.toxin.limits import Limit, label_dose, maxima, setting
from dermatox.clinical.toxin.plan_input import PlanInput
from dermatox.clinical.toxin.protocols import total_units

EVIDENCE = ("bont_label_safety",)


@dataclass(frozen=True)
class Reference:
    units: float
    basis: dict  # nested message: where the reference comes from
    confidence: str
    source: str


def reference_for(plan: PlanInput, ratio_ok: bool, protocols: dict | None = None) -> Reference | None:
    """The plan's reference dose in the plan product's units, or None when nothing fair compares. Without
    a label dose or a chosen protocol, a protocol of the same indication and product stands in (points
    charted freehand for hair or sebum still meet the published total)."""
    product = plan.product["id"]
    label = label_dose(product, plan.indication)
    if label is not None:
        basis = nested("plan.basis_label", indication=indication_text(plan.indication))
        return Reference(label.value, basis, label.confidence, label.source)
    protocol = plan.protocol
    if protocol is None:
        protocol = next(
            (
                p
                for p in (protocols or {}).values()
                if p["indication"] == plan.indication and p["product"] == product
            ),
            None,
        )
    if protocol is None or not ratio_ok:
        return None
    if protocol["product"] == product:
        basis = nested("plan.basis_protocol")
        return Reference(total_units(protocol), basis, protocol["confidence"], protocol["source"])
    ratio = plan.conversion
    basis = nested("plan.basis_protocol_converted", ratio=ratio)
    return Reference(total_units(protocol) * ratio, basis, "U", protocol["source"])


def _in_scope(limit: Limit, dose: ToxinDose, plan: PlanInput, known: frozenset[str]) -> bool:
    days = (plan.case.as_of - dose.date).days
    if limit.scope == "window":
        return 0 <= days < limit.window_days
    if days != 0:
        return False
    if not limit.indications:
        return True  # a session maximum counts the whole day, every area
    if dose.indication in limit.indications:
        return True
    # An area-bound maximum (e.g. the upper face) counts a dose of another labelled indication only if it
    # is one of the limit's; a dose of unknown indication counts if it may have been in this area.
    return dose.indication not in known and dose.area in (plan.area, None)


def above_label_maximum(plan: PlanInput, planned: float, known: frozenset[str]) -> list[Finding]:
    product = plan.product["id"]
    exceeded = []
    uncounted: dict[ToxinDose, None] = {}
    for limit in maxima(product):
        if not limit.applies_to(plan.indication):
            continue
        doses = [d for d in plan.case.toxin_history if _in_scope(limit, d, plan, known)]
        earlier = sum(d.units for d in doses if d.product == product and d.units is not None)
        for d in doses:
            if d.product == UNKNOWN_PRODUCT or (d.product == product and d.units is None):
                uncounted[d] = None
        total = earlier + planned
        if total > limit.value:
            exceeded.append((total / limit.value, limit, earlier, total))
    findings = []
    if exceeded:
        _, limit, earlier, total = max(exceeded, key=lambda e: e[0])
        period = (
            nested("plan.period_window", days=limit.window_days)
            if limit.scope == "window"
            else nested(
                "plan.period_session_for",
                indications=[indication_text(i) for i in limit.indications],
            )
            if limit.indications
            else nested("plan.period_session")
        )
        params = {
            "product": product,
            "total_units": round(total, 4),
            "earlier_units": round(earlier, 4),
            "planned_units": round(planned, 4),
            "limit_units": limit.value,
            "period": period,
            "limit_id": limit.id,
            "limit_ids": [e[1].id for e in exceeded],
            "confidence": limit.confidence,
            "source": limit.source,
            "note": unconfirmed_note(limit.confidence),
        }
        findings.append(Finding("above_label_maximum", BLOCK, params, EVIDENCE))
    if uncounted:
        params = {"product": product, "doses": [dose_text(d) for d in uncounted]}
        findings.append(Finding("dose_not_counted", WARNING, params, EVIDENCE))
    return findings


def _same_day_same_area(plan: PlanInput) -> list[ToxinDose]:
    product = plan.product["id"]
    return [
        d
        for d in plan.case.toxin_history
        if d.date == plan.case.as_of and d.area == plan.area and d.product == product
    ]


def reference_dose(plan: PlanInput, planned: float, reference: Reference | None) -> list[Finding]:
    """The area's units today (this plan and earlier doses of the product there) against its reference;
    an earlier dose today of another labelled indication in the area adds that indication's label dose."""
    if reference is None or plan.area is None:
        return []
    product = plan.product["id"]
    today = _same_day_same_area(plan)
    earlier = sum(d.units for d in today if d.units is not None)
    others = {d.indication for d in today} - {plan.indication}
    extra = sum(dose.value for i in others if (dose := label_dose(product, i)) is not None)
    reference_units = reference.units + extra
    units = planned + earlier
    factor = setting("reference_factor")
    if units <= reference_units:
        return []
    far = units > factor.value * reference_units
    params = {
        "product": product,
        "area_term": plan.area,
        "units": round(units, 4),
        "planned_units": round(planned, 4),
        "earlier_units": round(earlier, 4),
        "reference_units": round(reference_units, 4),
        "times": round(units / reference_units, 2),
        "factor": factor.value,
        "factor_confidence": factor.confidence,
        "basis": reference.basis,
        "confidence": reference.confidence,
        "source": reference.source,
        "note": unconfirmed_note(reference.confidence),
    }
    if far:
        return [Finding("far_above_reference_dose", BLOCK, params, EVIDENCE)]
    return [Finding("above_reference_dose", WARNING, params, EVIDENCE)]
