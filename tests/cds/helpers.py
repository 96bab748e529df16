"""Request builders shaped like the CDS Hooks 2.0 specification's examples (hook, hookInstance, context,
prefetch with a Patient and searchset Bundles)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from dermatox.cds.prefetch import MEDICATION_SYSTEM, OBSERVATION_SYSTEM, PRODUCT_SYSTEM, PROTOCOL_SYSTEM

PATIENT_ID = "1288992"


def years_ago(years: int, today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return today.replace(year=today.year - years, day=min(today.day, 28)).isoformat()


def days_ago(days: int) -> str:
    """A day `days` before the clinic's today, as the service counts days (not UTC's)."""
    return (timezone.localdate() - dt.timedelta(days=days)).isoformat()


def patient(gender: str, age: int) -> dict:
    return {"resourceType": "Patient", "id": PATIENT_ID, "gender": gender, "birthDate": years_ago(age)}


def bundle(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def condition(system: str, code: str, status: str = "active") -> dict:
    return {
        "resourceType": "Condition",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]
        },
        "code": {"coding": [{"system": system, "code": code}]},
    }


def observation(code: str, *, system: str = OBSERVATION_SYSTEM, days: int = 3, **value) -> dict:
    return {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": system, "code": code}]},
        "effectiveDateTime": days_ago(days) + "T10:00:00Z",
        **value,
    }


def lab(loinc: str, value: float, unit: str, days: int = 10) -> dict:
    return observation(
        loinc,
        system="http://loinc.org",
        days=days,
        valueQuantity={"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    )


def pregnancy(pregnant: bool) -> dict:
    return observation(
        "82810-3",
        system="http://loinc.org",
        valueCodeableConcept={
            "coding": [{"system": "http://snomed.info/sct", "code": "77386006" if pregnant else "60001007"}]
        },
    )


def statement(code: str, system: str = MEDICATION_SYSTEM, status: str = "active") -> dict:
    return {
        "resourceType": "MedicationStatement",
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"coding": [{"system": system, "code": code}]},
    }


def toxin_statement(product: str, units: float, days: int) -> dict:
    return {
        **statement(product, PRODUCT_SYSTEM, "completed"),
        "effectiveDateTime": days_ago(days),
        "dosage": [{"doseAndRate": [{"doseQuantity": {"value": units, "unit": "U"}}]}],
    }


def request(
    hook: str = "patient-view",
    *,
    pt: dict,
    conditions=(),
    observations=(),
    medications=(),
    administrations=(),
    **context,
) -> dict:
    return {
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": "https://ehr.example.org/fhir",
        "hook": hook,
        "context": {"userId": "Practitioner/example", "patientId": PATIENT_ID, **context},
        "prefetch": {
            "patient": pt,
            "conditions": bundle(*conditions),
            "observations": bundle(*observations),
            "medications": bundle(*medications),
            "administrations": bundle(*administrations),
        },
    }


def toxin_order(
    units: float = 150,
    *,
    product: str = "onabotulinumtoxinA",
    site: dict | None = None,
    order_id: str = "toxin-1",
) -> dict:
    site = site or {"coding": [{"system": "http://snomed.info/sct", "code": "41695006", "display": "Scalp"}]}
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"coding": [{"system": PRODUCT_SYSTEM, "code": product}]},
        "dosageInstruction": [
            {"site": site, "doseAndRate": [{"doseQuantity": {"value": units, "unit": "U"}}]}
        ],
    }


def protocol_site(protocol: str) -> dict:
    return {"coding": [{"system": PROTOCOL_SYSTEM, "code": protocol}]}


def toxin_administration(
    days: int,
    *,
    product: str | None = "onabotulinumtoxinA",
    units: float | None = None,
    site: dict | None = None,
) -> dict:
    """Toxin given (MedicationAdministration), by product or, with `product=None`, by its class only (ATC
    M03AX01); without units unless given."""
    coding = (
        {"system": PRODUCT_SYSTEM, "code": product}
        if product
        else {"system": "http://www.whocc.no/atc", "code": "M03AX01", "display": "botulinum toxin"}
    )
    dosage: dict = {}
    if units is not None:
        dosage["dose"] = {"value": units, "unit": "U"}
    if site is not None:
        dosage["site"] = site
    return {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"coding": [coding]},
        "effectiveDateTime": days_ago(days) + "T10:00:00Z",
        **({"dosage": dosage} if dosage else {}),
    }
