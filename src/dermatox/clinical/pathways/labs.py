"""Laboratory results: unit conversion to each test's canonical unit, and low/normal/high flags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from dermatox.clinical.messages import Msg
from dermatox.clinical.reference import load

RESULT_MAX_AGE_DAYS = 180


class UnknownUnit(ValueError):
    pass


@cache
def lab_tests() -> dict[str, dict]:
    return {row["id"]: row for row in load("lab_tests.toml")}


@cache
def _by_loinc() -> dict[str, str]:
    return {row["loinc"]: row["id"] for row in load("lab_tests.toml")}


def resolve_test(name) -> str | None:
    """Our test id, from our id or its LOINC code."""
    if not isinstance(name, str):
        return None
    return name if name in lab_tests() else _by_loinc().get(name.strip())


@cache
def _unit_key(unit: str) -> str:
    # Spellings people type for the same UCUM unit: µ/μ/mc for micro, any case.
    return unit.strip().replace("µ", "u").replace("μ", "u").replace("mcg", "ug").replace("mc", "u").lower()


def units_of(test: dict) -> list[str]:
    return [test["unit"], *(c["unit"] for c in test.get("conversions", []))]


def to_canonical(test: dict, value: float, unit) -> float:
    if not isinstance(unit, str):
        raise UnknownUnit(f"must be a unit text (one of {', '.join(units_of(test))})")
    key = _unit_key(unit)
    if key == _unit_key(test["unit"]):
        return value
    for conversion in test.get("conversions", []):
        if key == _unit_key(conversion["unit"]):
            return value * conversion["factor"] + conversion.get("offset", 0.0)
    raise UnknownUnit(f"unknown unit {unit!r} for {test['id']} (use one of {', '.join(units_of(test))})")


@dataclass(frozen=True)
class Interval:
    low: float | None
    high: float | None
    source: str
    confidence: str
    high_inclusive: bool = False  # diagnostic cut-offs written as ">= x" (HbA1c 6.5 %, glucose 126 mg/dL)


def interval_for(test: dict, sex: str, ref_low: float | None, ref_high: float | None, unit: str) -> Interval:
    """The reporting laboratory's interval when given (converted), else the documented default."""
    if ref_low is not None or ref_high is not None:
        low = to_canonical(test, ref_low, unit) if ref_low is not None else None
        high = to_canonical(test, ref_high, unit) if ref_high is not None else None
        return Interval(low, high, "laboratory", "C")
    return Interval(
        test.get(f"low_{sex}", test.get("low")),
        test.get(f"high_{sex}", test.get("high")),
        test["threshold_source"],
        test["threshold_confidence"],
        test.get("high_inclusive", False),
    )


def flag(value: float, interval: Interval) -> str | None:
    """low | normal | high, or None when no interval is known for this patient (lab-specific tests)."""
    if interval.low is None and interval.high is None:
        return None
    if interval.low is not None and value < interval.low:
        return "low"
    if interval.high is not None and (
        value >= interval.high if interval.high_inclusive else value > interval.high
    ):
        return "high"
    return "normal"


def counts(result_date: dt.date, as_of: dt.date) -> bool:
    return (as_of - result_date).days <= RESULT_MAX_AGE_DAYS


def interpret(case) -> tuple[list[dict], list[str], dict[str, dict]]:
    """(lab entries for the output, ids of results too old to count, latest counting entry per test)."""
    tests = lab_tests()
    latest: dict[str, tuple] = {}
    too_old: set[str] = set()
    for result in case.labs:
        if not counts(result.date, case.as_of):
            too_old.add(result.test)
            continue
        current = latest.get(result.test)
        if current is None or (result.date, result.index) > (current.date, current.index):
            latest[result.test] = result
    entries = {}
    for test_id, result in latest.items():
        test = tests[test_id]
        value = round(to_canonical(test, result.value, result.unit), 4)
        interval = interval_for(test, case.sex, result.ref_low, result.ref_high, result.unit)
        state = flag(value, interval)
        meaning = (
            test[f"meaning_{state}"]
            if state
            else (
                "No reference interval for this patient: read it against the reporting laboratory's interval "
                "(give ref_low / ref_high)."
            )
        )
        entries[test_id] = {
            "test": test_id,
            "loinc": test["loinc"],
            "value": value,
            "unit": test["unit"],
            "date": result.date.isoformat(),
            "flag": state,
            "meaning": meaning,
            "reported": {"value": result.value, "unit": result.unit},
            "interval": {
                "low": None if interval.low is None else round(interval.low, 4),
                "high": None if interval.high is None else round(interval.high, 4),
                "source": interval.source,
                "confidence": interval.confidence,
            },
        }
    ordered = [entries[t] for t in tests if t in entries]
    return ordered, sorted(too_old - set(latest)), entries


def flag_one(test_id: str, value: float, unit: str, sex: str) -> dict:
    """One result as the lab-entry form shows it at once: canonical value, flag and the interval used.
    Raises KeyError for an unknown test and UnknownUnit for a unit without a documented conversion."""
    test = lab_tests()[test_id]
    canonical = round(to_canonical(test, value, unit), 4)
    interval = interval_for(test, sex, None, None, unit)
    state = flag(canonical, interval)
    return {
        "test": test_id,
        "value": canonical,
        "unit": test["unit"],
        "flag": state,
        "low": interval.low,
        "high": interval.high,
        "source": interval.source,
        "confidence": interval.confidence,
        "meaning": test[f"meaning_{state}"] if state else "",
    }


def referrals(entries: dict[str, dict]) -> list[tuple[str, Msg]]:
    """(referral treatment id, reason) for results whose meaning is "refer" (interim: TSH outside its
    interval; in women total testosterone > 150 ng/dL and DHEA-S > 700 µg/dL, clinical.md §2.2)."""
    out = []
    tsh = entries.get("tsh", {})
    if tsh.get("flag") in ("low", "high"):
        out.append(
            ("referral_endocrinology", Msg("lab.refer_tsh", {"value": tsh["value"], "term": tsh["flag"]}))
        )
    return out


def blocks_coc(entries: dict[str, dict]) -> list[Msg]:
    """Results that keep combined oral contraceptives waiting for endocrinology (interim: none)."""
    return []
