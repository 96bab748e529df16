"""Laboratory tests and their units: each result is converted to its test's canonical unit through a
documented conversion (data/lab_tests.toml); an unknown unit is an error, never a guess."""

from __future__ import annotations

from functools import cache

from dermatox.clinical.reference import load


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
