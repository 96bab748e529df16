"""Reference data files (TOML under `data/`) with a small schema check, loaded once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
CONFIDENCE = {"C", "S", "U", "X"}


class ReferenceDataError(ValueError):
    pass


@dataclass(frozen=True)
class FieldSpec:
    type: type | tuple[type, ...]
    required: bool = True


# file name -> (top-level table name, field specs)
SCHEMAS: dict[str, tuple[str, dict[str, FieldSpec]]] = {
    "observation_types.toml": (
        "observation",
        {
            "id": FieldSpec(str),
            "display": FieldSpec(str),
            "display_tr": FieldSpec(str),
            "value_type": FieldSpec(str),
            "unit": FieldSpec(str, required=False),
            "min": FieldSpec((int, float), required=False),
            "max": FieldSpec((int, float), required=False),
            "codes": FieldSpec(list, required=False),
            "loinc": FieldSpec(str, required=False),
            "group": FieldSpec(str),
            "source": FieldSpec(str),
            "confidence": FieldSpec(str),
            "note": FieldSpec(str, required=False),
        },
    ),
    "conditions.toml": (
        "condition",
        {
            "id": FieldSpec(str),
            "display": FieldSpec(str),
            "display_tr": FieldSpec(str),
            "kind": FieldSpec(str),
            "icd10": FieldSpec(str, required=False),
            "snomed": FieldSpec(str, required=False),
            "source": FieldSpec(str),
            "confidence": FieldSpec(str),
            "note": FieldSpec(str, required=False),
        },
    ),
    "medications.toml": (
        "medication",
        {
            "id": FieldSpec(str),
            "display": FieldSpec(str),
            "display_tr": FieldSpec(str),
            "source": FieldSpec(str),
            "confidence": FieldSpec(str),
        },
    ),
    "allergens.toml": (
        "allergen",
        {
            "id": FieldSpec(str),
            "display": FieldSpec(str),
            "display_tr": FieldSpec(str),
            "source": FieldSpec(str),
            "confidence": FieldSpec(str),
        },
    ),
}


def _check(file_name: str, rows: list[dict], specs: dict[str, FieldSpec]) -> None:
    seen: set[str] = set()
    for index, row in enumerate(rows):
        where = f"{file_name}[{index}]"
        unknown = set(row) - set(specs)
        if unknown:
            raise ReferenceDataError(f"{where}: unknown key(s) {sorted(unknown)}")
        for key, spec in specs.items():
            if key not in row:
                if spec.required:
                    raise ReferenceDataError(f"{where}: '{key}' is required")
                continue
            if not isinstance(row[key], spec.type) or isinstance(row[key], bool):
                raise ReferenceDataError(f"{where}.{key}: wrong type {type(row[key]).__name__}")
        if row["confidence"] not in CONFIDENCE:
            raise ReferenceDataError(f"{where}.confidence: must be one of {sorted(CONFIDENCE)}")
        if row["id"] in seen:
            raise ReferenceDataError(f"{where}.id: duplicate id {row['id']!r}")
        seen.add(row["id"])


@cache
def load(file_name: str) -> tuple[dict, ...]:
    if file_name not in SCHEMAS:
        raise ReferenceDataError(f"{file_name}: no schema registered")
    table, specs = SCHEMAS[file_name]
    with (DATA_DIR / file_name).open("rb") as fh:
        data = tomllib.load(fh)
    rows = data.get(table, [])
    _check(file_name, rows, specs)
    return tuple(rows)


def by_id(file_name: str) -> dict[str, dict]:
    return {row["id"]: row for row in load(file_name)}
