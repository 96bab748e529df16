"""Observation types and the validation of one measured value against its type."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from dermatox.clinical.reference import ReferenceDataError, by_id, load

VALUE_TYPES = {"integer", "decimal", "code"}
MAX_DECIMALS = 4  # what the record stores (Observation.value_number)


@dataclass(frozen=True)
class ObservationType:
    id: str
    display: str
    display_tr: str
    value_type: str
    group: str
    unit: str = ""
    min: float | None = None
    max: float | None = None
    codes: tuple[str, ...] = ()
    units: tuple[str, ...] = ()  # other accepted units (lab results), each with a conversion
    loinc: str = ""
    source: str = ""
    confidence: str = "U"
    note: str = ""


class ObservationValueError(ValueError):
    def __init__(self, field: str, rule: str):
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


@cache
def observation_types() -> dict[str, ObservationType]:
    """Measurement types: observation_types.toml plus every laboratory test of lab_tests.toml."""
    types = {}
    for row in load("observation_types.toml"):
        if row["value_type"] not in VALUE_TYPES:
            raise ReferenceDataError(
                f"observation {row['id']}: value_type must be one of {sorted(VALUE_TYPES)}"
            )
        if row["value_type"] == "code" and not row.get("codes"):
            raise ReferenceDataError(f"observation {row['id']}: a code type needs 'codes'")
        types[row["id"]] = ObservationType(**{**row, "codes": tuple(row.get("codes", ()))})
    for lab in load("lab_tests.toml"):
        if lab["id"] in types:
            raise ReferenceDataError(f"lab test {lab['id']}: id already used by an observation type")
        types[lab["id"]] = ObservationType(
            id=lab["id"],
            display=lab["display"],
            display_tr=lab["display_tr"],
            value_type="decimal",
            group="lab",
            unit=lab["unit"],
            min=0,
            units=tuple(c["unit"] for c in lab.get("conversions", ())),
            loinc=lab["loinc"],
            source=f"clinical.md §2.2 ({lab['threshold_source']})",
            confidence=lab["threshold_confidence"],
        )
    return types


@dataclass(frozen=True)
class CheckedValue:
    number: Decimal | None
    code: str
    unit: str


def check_observation_value(
    type_id: str, raw: str | int | float | Decimal, unit: str | None = None
) -> CheckedValue:
    """Validate a value for an observation type. The unit, when given, must be the type's unit or (for lab
    tests) one with a documented conversion; values are stored as reported, never converted silently."""
    types = observation_types()
    if type_id not in types:
        raise ObservationValueError("code", f"unknown measurement {type_id!r}")
    kind = types[type_id]
    if unit not in (None, "", kind.unit, *kind.units):
        accepted = " or ".join(repr(u) for u in (kind.unit, *kind.units))
        raise ObservationValueError("unit", f"must be {accepted} for {kind.id}")
    text = str(raw).strip()
    if kind.value_type == "code":
        if text not in kind.codes:
            raise ObservationValueError("value", f"must be one of {', '.join(kind.codes)}")
        return CheckedValue(None, text, kind.unit)
    unit = unit or kind.unit
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ObservationValueError("value", "must be a number")
    if kind.value_type == "integer" and number != number.to_integral_value():
        raise ObservationValueError("value", "must be a whole number")
    if number.normalize().as_tuple().exponent < -MAX_DECIMALS:
        raise ObservationValueError("value", f"must have at most {MAX_DECIMALS} decimal places")
    if kind.min is not None and number < Decimal(str(kind.min)):
        raise ObservationValueError("value", f"must be >= {kind.min:g}")
    if kind.max is not None and number > Decimal(str(kind.max)):
        raise ObservationValueError("value", f"must be <= {kind.max:g}")
    return CheckedValue(number, "", unit)


def vocabulary(file_name: str) -> dict[str, dict]:
    return by_id(file_name)


def check_components(type_id: str, value: Decimal | None, components: dict) -> dict:
    """Parts of a composite score must add up to it. Only GAGS has parts here: region -> grade 0-4."""
    if not components:
        return {}
    if type_id != "gags":
        raise ObservationValueError("components", f"{type_id} has no components")
    from dermatox.clinical.pathways.case import GAGS_REGIONS, gags_score

    grades = {}
    for region, grade in components.items():
        if region not in GAGS_REGIONS:
            raise ObservationValueError("components", f"unknown GAGS region {region!r}")
        if not isinstance(grade, int) or isinstance(grade, bool) or not 0 <= grade <= 4:
            raise ObservationValueError(f"components.{region}", "must be a whole number from 0 to 4")
        grades[region] = grade
    if value is not None and gags_score(grades) != value:
        raise ObservationValueError("value", f"must equal the regions' score {gags_score(grades)}")
    return grades
