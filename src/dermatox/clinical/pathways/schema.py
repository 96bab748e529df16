"""JSON Schemas (draft 2020-12) of the assess input and output, built from the same reference data the
engine uses, so ids in the schema cannot drift from ids the engine accepts. Published in docs/schema/."""

from __future__ import annotations

from dermatox.clinical.messages import LANGS
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
                        "scars": _obj(
                            {
                                "goodman_baron": _int(1, 4),
                                "treatment_ongoing": BOOL,
                                "keloid_specialist_override": {
                                    **BOOL,
                                    "description": "a specialist accepts microneedling despite keloid tendency "
                                    "(clinical.md §12.9); never for RF microneedling",
                                },
                            }
                        ),
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


PARAMS = {"type": "object", "description": "the message's parameters (ids print as names in the language)"}


def output_schema() -> dict:
    evidence_ids = {"type": "array", "items": {"enum": sorted(by_id("evidence.toml"))}}
    treatment_ids = sorted(by_id("treatments.toml"))
    medication_ids = sorted(by_id("medications.toml"))
    lab_ids = sorted(lab_tests())
    text = {"type": "string", "minLength": 1}
    finding = _obj(
        {"id": {"type": "string"}, "text": text, "params": PARAMS, "evidence": evidence_ids},
        ("id", "text", "params", "evidence"),
    )
    rule = _obj(
        {
            "id": {"type": "string"},
            "msg": {"type": "string", "description": "catalogue id of the text when it is not safety.<id>"},
            "text": text,
            "params": PARAMS,
            "treatments": {"type": "array", "items": {"enum": treatment_ids}},
            "evidence": evidence_ids,
        },
        ("id", "text", "params", "treatments", "evidence"),
    )
    alert = _obj(
        {
            "id": {"type": "string"},
            "severity": {"enum": ["critical", "warning"]},
            "text": text,
            "params": PARAMS,
            "medications": {"type": "array", "items": {"enum": medication_ids}, "minItems": 1},
            "evidence": evidence_ids,
        },
        ("id", "severity", "text", "params", "medications", "evidence"),
    )
    assumption = _obj(
        {
            "id": {"type": "string"},
            "text": text,
            "params": PARAMS,
            "field": {"type": "string", "description": "the input field the default stands for"},
            "value": {"type": ["boolean", "number", "string", "null"]},
            "source": {"type": "string"},
            "confidence": {"enum": ["C", "S", "U", "X"]},
        },
        ("id", "text", "params", "field", "value", "source", "confidence"),
    )
    lab_entry = _obj(
        {
            "test": {"enum": lab_ids},
            "loinc": {"type": "string"},
            "value": {"type": "number"},
            "unit": {"type": "string"},
            "date": DATE,
            "flag": {"enum": ["low", "normal", "high", None]},
            "meaning": {"type": "string"},
            "meaning_id": {"type": "string"},
            "params": PARAMS,
            "action": {"type": ["string", "null"]},
            "refer": {"oneOf": [{"enum": treatment_ids}, {"type": "null"}]},
            "urgent": BOOL,
            "limit": {
                "type": ["string", "null"],
                "description": "the lab_limits.toml row that gave the meaning",
            },
            "reported": _obj({"value": {"type": "number"}, "unit": {"type": "string"}}, ("value", "unit")),
            "interval": {
                "type": "object",
                "properties": {
                    "low": {"type": ["number", "null"]},
                    "high": {"type": ["number", "null"]},
                    "source": {"type": "string"},
                    "confidence": {"enum": ["C", "S", "U", "X"]},
                    "population": {"type": ["string", "null"], "description": "who the interval is for"},
                },
                "required": ["low", "high", "source", "confidence"],
            },
        },
        ("test", "loinc", "value", "unit", "date", "flag", "meaning", "reported", "interval"),
    )
    lab_entry["additionalProperties"] = True  # the laboratory rules may add detail fields
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://dermatox.example/schema/assess-output.schema.json",
        "title": "Dermatox assessment result",
        **_obj(
            {
                "engine_version": {"type": "string"},
                "lang": {"enum": list(LANGS)},
                "as_of": DATE,
                "age": _int(0, 130),
                "assumptions": {"type": "array", "items": assumption},
                "findings": {"type": "array", "items": finding},
                "labs": {"type": "array", "items": lab_entry},
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
                            "reasons": {"type": "array", "items": text, "minItems": 1},
                            "reason_ids": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                            "reason_params": {"type": "array", "items": PARAMS, "minItems": 1},
                            "evidence": {**evidence_ids, "minItems": 1},
                            "evidence_level": {"enum": ["high", "moderate", "low", "very_low"]},
                            "regulatory": {"type": "string"},
                            "not_before": DATE,
                            "after": {"type": "array", "items": {"enum": treatment_ids}, "minItems": 1},
                        },
                        (
                            "treatment",
                            "area",
                            "display",
                            "status",
                            "reasons",
                            "reason_ids",
                            "reason_params",
                            "evidence",
                            "evidence_level",
                        ),
                    ),
                },
                "safety": _obj(
                    {
                        "alerts": {"type": "array", "items": alert},
                        "contraindications": {"type": "array", "items": rule},
                        "cautions": {"type": "array", "items": rule},
                        "toxin_not_before": {"oneOf": [DATE, {"type": "null"}]},
                    },
                    ("alerts", "contraindications", "cautions", "toxin_not_before"),
                ),
                "follow_up": {
                    "type": "array",
                    "items": _obj(
                        {
                            "id": {"type": "string"},
                            "params": PARAMS,
                            "treatment": {"enum": treatment_ids},
                            "review_after_weeks": {
                                "type": "array",
                                "items": _int(0),
                                "minItems": 2,
                                "maxItems": 2,
                            },
                            "text": text,
                        },
                        ("id", "params", "treatment", "review_after_weeks", "text"),
                    ),
                },
            },
            (
                "engine_version",
                "lang",
                "as_of",
                "age",
                "assumptions",
                "findings",
                "labs",
                "workup",
                "recommendations",
                "safety",
                "follow_up",
            ),
        ),
    }
