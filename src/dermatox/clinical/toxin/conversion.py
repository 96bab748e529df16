"""A protocol written in another product's units (clinical.md §8.2, §12.2): blocked unless an acknowledged
ratio inside §12.2's published range for that pair and direction is given; then converted, as an estimate."""

from __future__ import annotations

from dataclasses import dataclass

from dermatox.clinical.toxin.findings import BLOCK, WARNING, Finding, nested, unconfirmed_note
from dermatox.clinical.toxin.limits import conversion
from dermatox.clinical.toxin.plan_input import PlanInput
from dermatox.clinical.toxin.protocols import expand_points, total_units

ROUNDING = 0.005  # a ratio written to two decimals (0.33 for 1/3) is inside its range
EVIDENCE = ("bont_products",)


@dataclass(frozen=True)
class Converted:
    findings: list[Finding]
    reference_points: list[dict]  # the protocol's points in the plan product's units (when convertible)
    ratio_ok: (
        bool  # the protocol's units may stand for the plan product's (same product, or a ratio in range)
    )
    summary: dict | None  # the `conversion` output field


def convert(plan: PlanInput) -> Converted:
    protocol, target = plan.protocol, plan.product["id"]
    points = expand_points(protocol) if protocol else []
    if protocol is None or protocol["product"] == target:
        return Converted([], points, True, None)
    source = protocol["product"]
    if plan.conversion is None:
        block = Finding(
            "units_not_interchangeable", BLOCK, {"protocol_product": source, "product": target}, EVIDENCE
        )
        return Converted([block], points, False, None)
    ratio = plan.conversion
    converted = [{**p, "units": p["units"] * ratio} for p in points]
    row = conversion(source, target)
    base = {"from_product": source, "product": target, "ratio": ratio}
    summary = {
        "from": source,
        "to": target,
        "ratio": ratio,
        "units": round(total_units(protocol) * ratio, 2),
        "range": None,
        "estimate_units": None,
    }
    if row is None or row.action == "block":
        detail = (
            nested("plan.conversion_not_published")
            if row is None
            else nested("plan.conversion_do_not_convert")
        )
        summary["confidence"] = row.confidence if row else None
        block = Finding("conversion_ratio_out_of_range", BLOCK, {**base, "detail": detail}, EVIDENCE)
        return Converted([block], converted, False, summary)
    total = total_units(protocol)
    low, high = row.value, row.value_max
    estimate = [round(total * low, 2), round(total * high, 2)]
    summary.update(range=[round(low, 3), round(high, 3)], estimate_units=estimate, confidence=row.confidence)
    in_range = low - ROUNDING <= ratio <= high + ROUNDING
    params = {
        **base,
        "low": round(low, 3),
        "high": round(high, 3),
        "protocol_units": total,
        "estimate_low": estimate[0],
        "estimate_high": estimate[1],
        "confidence": row.confidence,
        "source": row.source,
    }
    if not in_range:
        wrong = {**params, "converted_units": round(total * ratio, 2)}
        keys = ("low", "high", "protocol_units", "estimate_low", "estimate_high", "converted_units")
        detail = nested("plan.conversion_range", **{k: wrong[k] for k in keys})
        block = Finding("conversion_ratio_out_of_range", BLOCK, {**wrong, "detail": detail}, EVIDENCE)
        return Converted([block], converted, False, summary)
    warning = Finding(
        "conversion_applied", WARNING, {**params, "note": unconfirmed_note(row.confidence)}, EVIDENCE
    )
    return Converted([warning], converted, True, summary)
