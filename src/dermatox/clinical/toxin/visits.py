"""The patient's earlier toxin doses against this plan (clinical.md §8.3, §12.1b R-BoNT-4).

- `retreatment_interval` (block): a dose on an earlier day less than 12 weeks ago, whatever is unknown
  about it (product, units); the shared rule of toxin_safety.py gives the date.
- `same_area_same_day` (block): a dose today in the plan's area, unless both name different known
  indications (e.g. glabellar then forehead lines at one visit, which the labels treat together).
- `other_product_same_day` (block): a dose today of another product, or of an unknown one (it cannot be
  told apart from another product).
- `other_product_recent` (warning): another or unknown product within the last 4 months (120 days).
A dose today in another area of the same product is the same visit: allowed (it counts toward the
product's maximum, dose_limits.py).
"""

from __future__ import annotations

import datetime as dt

from dermatox.clinical.pathways.case import ToxinDose
from dermatox.clinical.toxin.findings import BLOCK, WARNING, Finding, dose_text
from dermatox.clinical.toxin.limits import setting
from dermatox.clinical.toxin.plan_input import PlanInput
from dermatox.clinical.toxin_safety import RETREATMENT_DAYS

EVIDENCE = ("bont_retreatment_interval",)
OTHER_PRODUCT_EVIDENCE = ("bont_interactions",)


def retreatment_interval(plan: PlanInput, last_dose: dt.date | None, not_before: dt.date | None):
    if not_before is None:
        return []
    doses = [d for d in plan.case.toxin_history if d.date == last_dose]
    params = {
        "last_dose": last_dose.isoformat(),
        "not_before": not_before.isoformat(),
        "days": (plan.case.as_of - last_dose).days,
        "interval_days": RETREATMENT_DAYS,
        "doses": [dose_text(d) for d in doses],
        "units_unknown": any(d.units is None for d in doses),
    }
    return [Finding("retreatment_interval", BLOCK, params, EVIDENCE)]


def _same_visit_other_indication(dose: ToxinDose, plan: PlanInput, known: frozenset[str]) -> bool:
    return plan.indication in known and dose.indication in known and dose.indication != plan.indication


def same_day(plan: PlanInput, known: frozenset[str]) -> list[Finding]:
    product, as_of = plan.product["id"], plan.case.as_of
    today = [d for d in plan.case.toxin_history if d.date == as_of]
    findings = []
    same_area = [
        d
        for d in today
        if plan.area is not None and d.area == plan.area and not _same_visit_other_indication(d, plan, known)
    ]
    if same_area:
        params = {"area_term": plan.area, "doses": [dose_text(d) for d in same_area]}
        findings.append(Finding("same_area_same_day", BLOCK, params, EVIDENCE))
    other = [d for d in today if d.product != product]
    if other:
        params = {"product": product, "doses": [dose_text(d) for d in other]}
        findings.append(Finding("other_product_same_day", BLOCK, params, OTHER_PRODUCT_EVIDENCE))
    return findings


def other_product_recent(plan: PlanInput) -> list[Finding]:
    window = setting("other_product_window")
    product, as_of = plan.product["id"], plan.case.as_of
    recent = [
        d
        for d in plan.case.toxin_history
        if d.product != product and 1 <= (as_of - d.date).days <= window.value
    ]
    if not recent:
        return []
    params = {
        "product": product,
        "window_days": window.value,
        "doses": [dose_text(d) for d in recent],
        "confidence": window.confidence,
        "source": window.source,
    }
    return [Finding("other_product_recent", WARNING, params, OTHER_PRODUCT_EVIDENCE)]
