"""Reference data files (TOML under `data/`) with a small schema check, loaded once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
CONFIDENCE = {"C", "S", "U", "X"}
# The regulatory status of a treatment for its use (clinical.md §12.8b), as treatments.toml `regulatory` says it.
REGULATORY = (
    "approved",
    "approved_in_part",
    "off_label",
    "investigational",
    "device",
    "procedure",
    "not_approved",
    "referral",
)


class ReferenceDataError(ValueError):
    pass


@dataclass(frozen=True)
class FieldSpec:
    type: type | tuple[type, ...]
    required: bool = True


# file name -> (top-level table name, field specs[, the key holding the confidence flag, or "no-confidence"])
# The shape of every safety threshold row (issue 11): what, the value and unit, who it applies to, what happens
# beyond it, the source and its confidence. Files add their own structured keys.
THRESHOLD = {
    "id": FieldSpec(str),
    "item": FieldSpec(str),
    "value": FieldSpec((int, float)),
    "unit": FieldSpec(str),
    "population": FieldSpec(str),
    "action": FieldSpec(str),
    "source": FieldSpec(str),
    "confidence": FieldSpec(str),
}

SCHEMAS: dict[str, tuple] = {
    "age_limits.toml": ("limit", {**THRESHOLD, "bound": FieldSpec(str)}),
    "drug_safety.toml": (
        "rule",
        {
            **THRESHOLD,
            "when": FieldSpec(str),
            "taking": FieldSpec(list, required=False),
            "having": FieldSpec(list, required=False),
            "treatments": FieldSpec(list),
            "cautions": FieldSpec(list, required=False),
            "medications": FieldSpec(list),
            "severity": FieldSpec(str),
            "evidence": FieldSpec(list),
        },
    ),
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
    "evidence.toml": (
        "evidence",
        {
            "id": FieldSpec(str),
            "citation": FieldSpec(str),
            "year": FieldSpec(int, required=False),
            "design": FieldSpec(str),
            "n": FieldSpec(int, required=False),
            "summary": FieldSpec(str),
            "url": FieldSpec(str),
            "where": FieldSpec(str),
            "confidence": FieldSpec(str),
        },
    ),
    "treatments.toml": (
        "treatment",
        {
            "id": FieldSpec(str),
            "area": FieldSpec(str),
            "display": FieldSpec(str),
            "display_tr": FieldSpec(str),
            "evidence": FieldSpec(list),
            "evidence_level": FieldSpec(str),
            "regulatory": FieldSpec(str),
            "regulatory_note": FieldSpec(str),
            "regulatory_note_tr": FieldSpec(str),
            "regulatory_source": FieldSpec(str),
            "regulatory_confidence": FieldSpec(str),
        },
        "no-confidence",
    ),
    "lab_tests.toml": (
        "lab",
        {
            "id": FieldSpec(str),
            "display": FieldSpec(str),
            "display_tr": FieldSpec(str),
            "loinc": FieldSpec(str),
            "unit": FieldSpec(str),
            "conversions": FieldSpec(list, required=False),
            "threshold_source": FieldSpec(str),
            "threshold_confidence": FieldSpec(str),
            "meaning_low": FieldSpec(str),
            "meaning_normal": FieldSpec(str),
            "meaning_high": FieldSpec(str),
        },
        "threshold_confidence",
    ),
    # Lower / upper limits and urgent cut-offs per lab test (clinical.md §12.6); lab_limits.py checks the
    # closed sets (bound, action, sex, trimester), the unit and the message ids when it loads them.
    "lab_limits.toml": (
        "limit",
        {
            **THRESHOLD,
            "bound": FieldSpec(str),
            "sex": FieldSpec(str, required=False),
            "age_min": FieldSpec(int, required=False),
            "age_max": FieldSpec(int, required=False),
            "pregnant": FieldSpec(bool, required=False),
            "trimester": FieldSpec(int, required=False),
            "inclusive": FieldSpec(bool, required=False),
            "urgent": FieldSpec(bool, required=False),
            "blocks_coc": FieldSpec(bool, required=False),
            "meaning": FieldSpec(str),
            "reason": FieldSpec(str, required=False),
        },
    ),
    "map_regions.toml": (
        "region",
        {
            "id": FieldSpec(str),
            "display": FieldSpec(str),
            "display_tr": FieldSpec(str),
            "view": FieldSpec(str),
            "x": FieldSpec(float),
            "y": FieldSpec(float),
            "source": FieldSpec(str),
            "confidence": FieldSpec(str),
        },
    ),
    "seed_claims.toml": (
        "claim",
        {
            "id": FieldSpec(str),
            "seed": FieldSpec(str),
            "claim": FieldSpec(str),
            "verdict": FieldSpec(str),
            "detail": FieldSpec(str),
            "source": FieldSpec(str),
            "confidence": FieldSpec(str),
        },
    ),
    "toxin_products.toml": (
        "product",
        {
            "id": FieldSpec(str),
            "display": FieldSpec(str),
            "display_tr": FieldSpec(str),
            "brands": FieldSpec(list),
            "vial_sizes": FieldSpec(list),
            "excipients": FieldSpec(list),
            "excipients_unconfirmed": FieldSpec(list, required=False),
            "excipient_source": FieldSpec(str),
            "storage": FieldSpec(str),
            "use_by_hours": FieldSpec(int, required=False),
            "ready_to_use": FieldSpec(bool),
            "liquid_units_per_0_1_ml": FieldSpec(float, required=False),
            "source": FieldSpec(str),
            "confidence": FieldSpec(str),
        },
    ),
    "toxin_label_doses.toml": (
        "dose",
        {**THRESHOLD, "product": FieldSpec(str), "indication": FieldSpec(str)},
    ),
    "toxin_limits.toml": (
        "limit",
        {
            **THRESHOLD,
            "product": FieldSpec(str),
            "scope": FieldSpec(str, required=False),
            "window_days": FieldSpec(int, required=False),
            "indications": FieldSpec(list, required=False),
            "bound": FieldSpec(str, required=False),
        },
    ),
    "toxin_conversions.toml": (
        "conversion",
        {
            **THRESHOLD,
            "from": FieldSpec(str),
            "to": FieldSpec(str),
            "value_max": FieldSpec((int, float)),
        },
    ),
    "intake_questions.toml": (
        "question",
        {
            "id": FieldSpec(str),
            "section": FieldSpec(str),
            "text": FieldSpec(str),
            "text_tr": FieldSpec(str),
            "adds": FieldSpec(list, required=False),
            "which": FieldSpec(list, required=False),
            "why": FieldSpec(str),
            "sex": FieldSpec(str, required=False),
        },
        "no-confidence",
    ),
    "aftercare.toml": (
        "item",
        {
            "id": FieldSpec(str),
            "protocols": FieldSpec(list),
            "kind": FieldSpec(str),
            "text": FieldSpec(str),
            "text_tr": FieldSpec(str),
            "confidence": FieldSpec(str),
            "source": FieldSpec(str),
            "note": FieldSpec(str, required=False),
        },
    ),
    "toxin_protocols.toml": (
        "protocol",
        {
            "id": FieldSpec(str),
            "display": FieldSpec(str),
            "display_tr": FieldSpec(str),
            "product": FieldSpec(str),
            "indication": FieldSpec(str),
            "area": FieldSpec(str),
            "off_label": FieldSpec(bool),
            "depth": FieldSpec(str),
            "units_per_0_1_ml": FieldSpec(float),
            "points": FieldSpec(list),
            "review_weeks": FieldSpec(list),
            "clinic_choices": FieldSpec(list),
            "published": FieldSpec(str),
            "published_tr": FieldSpec(str, required=False),
            "source": FieldSpec(str),
            "confidence": FieldSpec(str),
        },
    ),
}


def _check(
    file_name: str, rows: list[dict], specs: dict[str, FieldSpec], confidence_key: str = "confidence"
) -> None:
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
            if not isinstance(row[key], spec.type) or (isinstance(row[key], bool) and spec.type is not bool):
                if spec.type is float and isinstance(row[key], int) and not isinstance(row[key], bool):
                    continue
                raise ReferenceDataError(f"{where}.{key}: wrong type {type(row[key]).__name__}")
        if confidence_key != "no-confidence" and row[confidence_key] not in CONFIDENCE:
            raise ReferenceDataError(f"{where}.{confidence_key}: must be one of {sorted(CONFIDENCE)}")
        if row["id"] in seen:
            raise ReferenceDataError(f"{where}.id: duplicate id {row['id']!r}")
        seen.add(row["id"])


# A clinic's own values for the unconfirmed defaults (issue 11): <directory>/<data file name> holds rows
# {id, <key> = <value>} under the same table name. Only rows whose confidence is U or X may be changed, never
# their id, source or confidence; the row's source then says it is the clinic's value.
OVERRIDE_ENV = "DERMATOX_CLINICAL_OVERRIDES"
EDITABLE = {"U", "X"}
_overrides: list[Path] = []


def use_overrides(directory: str | Path | None) -> None:
    """Read a clinic's overrides from `directory` (call once at start, before any data is read)."""
    _overrides.clear()
    if not directory:
        return
    path = Path(directory)
    if not path.is_dir():
        raise ReferenceDataError(f"{OVERRIDE_ENV}: {directory} is not a folder")
    _overrides.append(path)
    for file in sorted(path.glob("*.toml")):  # refuse a bad override at start, not at first use
        if file.name not in SCHEMAS:
            raise ReferenceDataError(f"{OVERRIDE_ENV}: {file.name} is not a Dermatox data file")
        load.cache_clear()
        load(file.name)


def _apply_overrides(
    file_name: str, table: str, rows: list[dict], specs: dict, confidence_key: str
) -> list[dict]:
    path = _overrides[0] / file_name if _overrides else None
    if path is None or not path.exists():
        return rows
    with path.open("rb") as fh:
        changes = tomllib.load(fh).get(table, [])
    by_row = {row["id"]: dict(row) for row in rows}
    for index, change in enumerate(changes):
        where = f"{path}[{index}]"
        row = by_row.get(change.get("id"))
        if row is None:
            raise ReferenceDataError(f"{where}.id: no row {change.get('id')!r} in {file_name}")
        if row.get(confidence_key) not in EDITABLE:
            raise ReferenceDataError(
                f"{where}: {row['id']} is confirmed ({row.get(confidence_key)}); only unconfirmed (U) or "
                "conflicting (X) defaults are clinic-editable"
            )
        for key, value in change.items():
            if key in ("id", "source", confidence_key) or key not in specs:
                if key != "id":
                    raise ReferenceDataError(f"{where}.{key}: not a clinic-editable key")
                continue
            row[key] = value
        row["source"] = f"{row.get('source', '')} [clinic override of an unconfirmed default]".strip()
    merged = [by_row[row["id"]] for row in rows]
    _check(str(path), merged, specs, confidence_key)
    return merged


@cache
def load(file_name: str) -> tuple[dict, ...]:
    if file_name not in SCHEMAS:
        raise ReferenceDataError(f"{file_name}: no schema registered")
    table, specs, *rest = SCHEMAS[file_name]
    with (DATA_DIR / file_name).open("rb") as fh:
        data = tomllib.load(fh)
    rows = data.get(table, [])
    _check(file_name, rows, specs, *rest)
    confidence_key = rest[0] if rest else "confidence"
    if confidence_key != "no-confidence":
        rows = _apply_overrides(file_name, table, rows, specs, confidence_key)
    return tuple(rows)


@cache
def by_id(file_name: str) -> dict[str, dict]:
    """Rows keyed by id (cached: treat the result as read-only)."""
    return {row["id"]: row for row in load(file_name)}
