"""JSON Schemas (draft 2020-12) of the assess input and output, built from the same reference data the
engine uses, so ids in the schema cannot drift from ids the engine accepts. Published in docs/schema/."""

from __future__ import annotations

from dermatox.clinical.pathways.case import (
    GAGS_REGIONS,
    HAIR_DIAGNOSES,
    HAIR_FLAGS,
    LUDWIG,
    NORWOOD,
    OUTCOMES,
    SEBORRHEA,
    SEXES,
    TOXIN_AREAS,
    TRIMESTERS,
    UNKNOWN_PRODUCT,
)
from dermatox.clinical.pathways.labs import lab_tests, units_of
from dermatox.clinical.pathways.recommendation import STATUSES
from dermatox.clinical.reference import by_id

DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
BOOL = {"type": "boolean"}


def _int(low=None, high=None) -> dict:
    schema: dict = {"type": "integer"}
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return schema


def _obj(properties: dict, required: tuple = ()) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


def _ids(file_name: str) -> dict:
    return {"type": "array", "items": {"enum": sorted(by_id(file_name))}, "uniqueItems": True}


def _prior(ids: list[str]) -> dict:
    return {
        "type": "array",
        "items": _obj(
            {"treatment": {"enum": ids}, "weeks": _int(0), "outcome": {"enum": list(OUTCOMES)}},
            ("treatment", "weeks", "outcome"),
        ),
    }


def input_schema() -> dict:
    treatments = by_id("treatments.toml")
    acne_ids = sorted(t for t, row in treatments.items() if row["area"] == "acne")
    hair_ids = sorted(t for t, row in treatments.items() if row["area"] == "hair")
    tests = lab_tests()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://dermatox.example/schema/assess-input.schema.json",
        "title": "Dermatox assessment case",
        **_obj(
            {
                "as_of": DATE,
                "patient": _obj(
                    {
                        "sex": {"enum": list(SEXES)},
                        "birth_date": DATE,
                        "pregnant": BOOL,
                        "breastfeeding": BOOL,
                        "can_become_pregnant": {
                            **BOOL,
                            "description": "When absent: true for a female aged 12-55, else false (listed in the "
                            "output's assumptions).",
                        },
                        "pregnancy_trimester": {"enum": list(TRIMESTERS)},
                    },
                    ("sex", "birth_date"),
                ),
                "history": _obj(
                    {
                        "conditions": _ids("conditions.toml"),
                        "medications": _ids("medications.toml"),
                        "allergies": _ids("allergens.toml"),
                        "toxin_history": {
                            "type": "array",
                            "items": _obj(
                                {
                                    "date": DATE,
                                    "product": {
                                        "enum": [*sorted(by_id("toxin_products.toml")), UNKNOWN_PRODUCT]
                                    },
                                    "units": {
                                        "oneOf": [
                                            {"type": "number", "exclusiveMinimum": 0},
                                            {"type": "null"},
                                        ],
                                        "description": "null or absent: units not known (the date still "
                                        "starts the retreatment interval)",
                                    },
                                    "indication": {"type": "string", "minLength": 1, "maxLength": 100},
                                    "area": {"enum": list(TOXIN_AREAS)},
                                },
                                ("date", "product", "indication"),
                            ),
                        },
                    }
                ),
                "hair": _obj(
                    {
                        "daily_shedding": _int(0),
                        **{flag: BOOL for flag in HAIR_FLAGS},
                        "pull_test_hairs": _int(0, 60),
                        "norwood": {"enum": list(NORWOOD)},
                        "ludwig": {"enum": list(LUDWIG)},
                        "sinclair": _int(1, 5),
                        "diagnosis": {
                            "oneOf": [
                                {"enum": list(HAIR_DIAGNOSES)},
                                {
                                    "type": "array",
                                    "items": {"enum": list(HAIR_DIAGNOSES)},
                                    "minItems": 1,
                                    "uniqueItems": True,
                                },
                            ]
                        },
                        "prior_treatments": _prior(hair_ids),
                    }
                ),
                "skin": _obj(
                    {
                        "acne": _obj(
                            {
                                "gags": _int(0, 44),
                                "gags_regions": _obj({region: _int(0, 4) for region in GAGS_REGIONS}),
                                "iga": _int(0, 4),
                                "nodules": _int(0),
                                "scarring": BOOL,
                            }
                        ),
                        "seborrhea": {"enum": list(SEBORRHEA)},
                        "sebum": {
                            "oneOf": [
                                {"type": "number", "minimum": 0},
                                {"type": "array", "items": {"type": "number", "minimum": 0}},
                            ]
                        },
                        "prior_treatments": _prior(acne_ids),
                        "scars": _obj({"goodman_baron": _int(1, 4), "treatment_ongoing": BOOL}),
                    }
                ),
                "labs": {
                    "type": "array",
                    "items": _obj(
                        {
                            "test": {"enum": sorted([*tests, *(t["loinc"] for t in tests.values())])},
                            "value": {"type": "number", "minimum": 0},
                            "unit": {
                                "type": "string",
                                "description": "Units accepted per test (case and u/µ/mc spellings are folded): "
                                + "; ".join(f"{t}: {', '.join(units_of(row))}" for t, row in tests.items()),
                            },
                            "date": DATE,
                            "ref_low": {"type": "number", "minimum": 0},
                            "ref_high": {"type": "number", "minimum": 0},
                        },
                        ("test", "value", "unit", "date"),
                    ),
                },
            },
            ("as_of", "patient"),
        ),
    }


def output_schema() -> dict:
    evidence_ids = {"type": "array", "items": {"enum": sorted(by_id("evidence.toml"))}}
    treatment_ids = sorted(by_id("treatments.toml"))
    lab_ids = sorted(lab_tests())
    finding = _obj(
        {"id": {"type": "string"}, "text": {"type": "string"}, "evidence": evidence_ids},
        ("id", "text", "evidence"),
    )
    rule = _obj(
        {
            "id": {"type": "string"},
            "text": {"type": "string"},
            "treatments": {"type": "array", "items": {"enum": treatment_ids}},
            "evidence": evidence_ids,
        },
        ("id", "text", "treatments", "evidence"),
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://dermatox.example/schema/assess-output.schema.json",
        "title": "Dermatox assessment result",
        **_obj(
            {
                "engine_version": {"type": "string"},
                "as_of": DATE,
                "age": _int(0, 130),
                "findings": {"type": "array", "items": finding},
                "labs": {
                    "type": "array",
                    "items": _obj(
                        {
                            "test": {"enum": lab_ids},
                            "loinc": {"type": "string"},
                            "value": {"type": "number"},
                            "unit": {"type": "string"},
                            "date": DATE,
                            "flag": {"enum": ["low", "normal", "high", None]},
                            "meaning": {"type": "string"},
                            "reported": _obj(
                                {"value": {"type": "number"}, "unit": {"type": "string"}}, ("value", "unit")
                            ),
                            "interval": _obj(
                                {
                                    "low": {"type": ["number", "null"]},
                                    "high": {"type": ["number", "null"]},
                                    "source": {"type": "string"},
                                    "confidence": {"enum": ["C", "S", "U", "X"]},
                                },
                                ("low", "high", "source", "confidence"),
                            ),
                        },
                        ("test", "loinc", "value", "unit", "date", "flag", "meaning", "reported", "interval"),
                    ),
                },
                "workup": _obj(
                    {
                        "suggested": {"type": "array", "items": {"enum": lab_ids}},
                        "missing": {"type": "array", "items": {"enum": lab_ids}},
                    },
                    ("suggested", "missing"),
                ),
                "recommendations": {
                    "type": "array",
                    "items": _obj(
                        {
                            "treatment": {"enum": treatment_ids},
                            "area": {"enum": ["hair", "acne", "scar"]},
                            "display": {"type": "string"},
                            "status": {"enum": list(STATUSES)},
                            "reasons": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                            "evidence": {**evidence_ids, "minItems": 1},
                            "evidence_level": {"enum": ["high", "moderate", "low", "very_low"]},
                            "not_before": DATE,
                            "after": {"type": "array", "items": {"enum": treatment_ids}, "minItems": 1},
                        },
                        ("treatment", "area", "display", "status", "reasons", "evidence", "evidence_level"),
                    ),
                },
                "safety": _obj(
                    {
                        "contraindications": {"type": "array", "items": rule},
                        "cautions": {"type": "array", "items": rule},
                        "toxin_not_before": {"oneOf": [DATE, {"type": "null"}]},
                    },
                    ("contraindications", "cautions", "toxin_not_before"),
                ),
                "follow_up": {
                    "type": "array",
                    "items": _obj(
                        {
                            "treatment": {"enum": treatment_ids},
                            "review_after_weeks": {
                                "type": "array",
                                "items": _int(0),
                                "minItems": 2,
                                "maxItems": 2,
                            },
                            "text": {"type": "string"},
                        },
                        ("treatment", "review_after_weeks", "text"),
                    ),
                },
            },
            (
                "engine_version",
                "as_of",
                "age",
                "findings",
                "labs",
                "workup",
                "recommendations",
                "safety",
                "follow_up",
            ),
        ),
    }
