"""The vial against this plan: `vial_expired` and `vial_beyond_use` block, `exceeds_vial` warns."""

from __future__ import annotations

import datetime as dt

from dermatox.clinical.toxin.findings import BLOCK, WARNING, Finding
from dermatox.clinical.toxin.plan_input import PlanInput

EVIDENCE = ("bont_products",)


def _day(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def vial_rules(plan: PlanInput, total: float) -> list[Finding]:
    findings = []
    if plan.expiry is not None and _day(plan.expiry) < plan.case.as_of:
        findings.append(Finding("vial_expired", BLOCK, {"expiry": _day(plan.expiry).isoformat()}, EVIDENCE))
    beyond, now = plan.beyond_use, plan.at
    if beyond is not None:
        if (
            isinstance(beyond, dt.datetime)
            and isinstance(now, dt.datetime)
            and (beyond.tzinfo is None) == (now.tzinfo is None)
        ):
            past = beyond < now  # to the minute when the time of the injection is known
        else:
            past = _day(beyond) < plan.case.as_of
        if past:
            findings.append(Finding("vial_beyond_use", BLOCK, {"beyond_use": beyond.isoformat()}, EVIDENCE))
    available = plan.remaining if plan.remaining is not None else plan.concentration.vial_units
    if total > available:
        params = {"units": total, "available_units": available, "product": plan.product["id"]}
        findings.append(Finding("exceeds_vial", WARNING, params, EVIDENCE))
    return findings
