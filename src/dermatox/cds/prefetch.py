"""CDS Hooks prefetch (FHIR R4 JSON) -> a pathways case dict. Pure: no Django, no I/O beyond reference data,
no clock (`as_of` is an argument).

Each prefetch value is one resource or a searchset Bundle, parsed with `fhir.resources.R4B` models (R4 and
R4B share these resources; see stack.md). What maps:
- Patient.gender (male/female) and birthDate.
- Condition (active or without clinicalStatus; not refuted or entered-in-error), by ICD-10 or SNOMED from
  conditions.toml or by our condition code system: hair diagnoses -> hair.diagnosis, history items ->
  history.conditions.
- Observation (final/amended/corrected/preliminary/registered; latest per code): our observation code system
  -> hair and skin findings; a LOINC code of lab_tests.toml -> labs (valueQuantity value + unit,
  effectiveDateTime); LOINC 82810-3 pregnancy status (SNOMED answers in codes.toml) and our `pregnant` /
  `breastfeeding` codes.
- MedicationStatement / MedicationAdministration: our medication code system or a WHO ATC class
  (codes.toml) -> history.medications (current ones only); our toxin-product code system, a brand name, or
  the toxin class (ATC M03AX01: product "unknown") -> history.toxin_history (date; units from the dosage
  when given; area and indication from the dosage's site: a protocol code or a body structure).
Unknown codes are ignored and listed in `ignored`; data the rules need but the prefetch lacks is listed in
`missing` (never assumed normal).
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from dermatox.clinical.pathways.case import HAIR_DIAGNOSES, UNKNOWN_PRODUCT
from dermatox.clinical.pathways.labs import lab_tests
from dermatox.clinical.reference import by_id

BASE = "https://dermatox.org/fhir/CodeSystem"
OBSERVATION_SYSTEM = f"{BASE}/observation"
CONDITION_SYSTEM = f"{BASE}/condition"
MEDICATION_SYSTEM = f"{BASE}/medication"
PRODUCT_SYSTEM = f"{BASE}/toxin-product"
PROTOCOL_SYSTEM = f"{BASE}/toxin-protocol"
TREATMENT_SYSTEM = f"{BASE}/treatment"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = ("http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm")
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
PREGNANCY_STATUS_LOINC = "82810-3"

RESOURCES = {
    "Patient": Patient,
    "Condition": Condition,
    "Observation": Observation,
    "MedicationStatement": MedicationStatement,
    "MedicationAdministration": MedicationAdministration,
    "MedicationRequest": MedicationRequest,
    "Bundle": Bundle,
}

# our observation code -> (section, key, kind); kind: int | code | yes_no | number
OBSERVATIONS = {
    "daily_shedding": ("hair", "daily_shedding", "int"),
    "pull_test_hairs": ("hair", "pull_test_hairs", "int"),
    "sinclair": ("hair", "sinclair", "int"),
    "norwood": ("hair", "norwood", "code"),
    "ludwig": ("hair", "ludwig", "code"),
    "scalp_gaps": ("hair", "scalp_gaps", "yes_no"),
    "hair_thinning": ("hair", "thinning", "yes_no"),
    "hair_growth_problem": ("hair", "growth_problem", "yes_no"),
    "hyperandrogenism_signs": ("hair", "hyperandrogenism_signs", "yes_no"),
    "hair_loss_trigger_3m": ("hair", "trigger_last_3_months", "yes_no"),
    "gags": ("acne", "gags", "int"),
    "iga": ("acne", "iga", "int"),
    "nodules": ("acne", "nodules", "int"),
    "acne_scarring": ("acne", "scarring", "yes_no"),
    "seborrhea_grade": ("skin", "seborrhea", "code"),
    "sebum_casual": ("skin", "sebum", "number"),
    "goodman_baron": ("scars", "goodman_baron", "int"),
    "scar_treatment_ongoing": ("scars", "treatment_ongoing", "yes_no"),
    "pregnant": ("patient", "pregnant", "yes_no"),
    "breastfeeding": ("patient", "breastfeeding", "yes_no"),
}
USABLE_OBSERVATION = {"registered", "preliminary", "final", "amended", "corrected"}
CURRENT_MEDICATION = {"active", "intended", "on-hold"}
NOT_GIVEN = {"entered-in-error", "not-taken", "not-done", "stopped", "cancelled"}
TOXIN_UNITS = {"U", "[iU]", "[IU]", "IU", "units", "unit", "{units}", "[U]"}


class PrefetchError(ValueError):
    """The prefetch cannot be read: the message names the key and the rule."""


@dataclass
class Mapped:
    case: dict | None
    ignored: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    patient_id: str | None = None


@cache
def codes() -> dict:
    with (Path(__file__).parent / "codes.toml").open("rb") as fh:
        return tomllib.load(fh)


@cache
def _condition_index() -> dict[tuple[str, str], str]:
    index: dict[tuple[str, str], str] = {}
    for cid, row in by_id("conditions.toml").items():
        index[(CONDITION_SYSTEM, cid)] = cid
        if row.get("icd10"):
            for system in ICD10:
                index[(system, _icd(row["icd10"]))] = cid
        if row.get("snomed"):
            index[(SNOMED, row["snomed"])] = cid
    return index


def _icd(code: str) -> str:
    return code.replace(".", "").strip().upper()


@cache
def _loinc_labs() -> dict[str, str]:
    return {row["loinc"]: tid for tid, row in lab_tests().items() if row.get("loinc")}


def parse_resources(value, where: str) -> list:
    """One prefetch value (a resource, a Bundle, null when there is no such data, or an OperationOutcome
    when it could not be fetched) -> a list of R4B resources. `where` names the value in error messages (e.g. `prefetch.patient`)."""
    if value is None or (isinstance(value, Mapping) and value.get("resourceType") == "OperationOutcome"):
        return []
    if not isinstance(value, Mapping) or value.get("resourceType") not in RESOURCES:
        raise PrefetchError(
            f"{where}: must be a FHIR resource or Bundle (resourceType one of {', '.join(RESOURCES)})"
        )
    model = RESOURCES[value["resourceType"]]
    try:
        resource = model.model_validate(dict(value))
    except ValidationError as exc:
        first = exc.errors()[0]
        field_path = ".".join(str(p) for p in first.get("loc", ()))
        raise PrefetchError(
            f"{where}: invalid FHIR {value['resourceType']} ({field_path}: {first.get('msg')})"
        ) from None
    if isinstance(resource, Bundle):
        out = []
        for entry in resource.entry or []:
            if entry.resource is not None:
                if entry.resource.get_resource_type() not in RESOURCES:
                    continue  # OperationOutcome and the like in a searchset
                out.append(entry.resource)
        return out
    return [resource]


def _codings(concept) -> list:
    return list(concept.coding or []) if concept is not None else []


def _label(coding) -> str:
    return f"{coding.system or '(no system)'}|{coding.code}"


def _date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _effective(resource) -> dt.date | None:
    for name in ("effectiveDateTime", "effectiveInstant"):
        if getattr(resource, name, None) is not None:
            return _date(getattr(resource, name))
    period = getattr(resource, "effectivePeriod", None)
    if period is not None:
        return _date(period.start or period.end)
    return _date(getattr(resource, "issued", None))


def _obs_value(obs, kind: str):
    """The observation's value as `kind` wants it, or None when it has no such value."""
    if kind in ("int", "number"):
        number = obs.valueInteger if obs.valueInteger is not None else None
        if number is None and obs.valueQuantity is not None and obs.valueQuantity.value is not None:
            number = obs.valueQuantity.value
        if number is None:
            return None
        number = float(number)
        if kind == "int":
            return int(number) if number.is_integer() else None
        return number
    if kind == "yes_no":
        if obs.valueBoolean is not None:
            return bool(obs.valueBoolean)
        text = _obs_code(obs)
        return {"yes": True, "no": False}.get(text.lower()) if text else None
    return _obs_code(obs)


def _obs_code(obs) -> str | None:
    if obs.valueCodeableConcept is not None:
        for coding in _codings(obs.valueCodeableConcept):
            if coding.code:
                return str(coding.code)
        return obs.valueCodeableConcept.text
    return obs.valueString


def map_prefetch(prefetch: Mapping, *, as_of: dt.date) -> Mapped:
    """prefetch {patient, conditions?, observations?, medications?} -> Mapped(case, ignored, missing).

    Raises PrefetchError when the prefetch cannot be read (not FHIR, no Patient)."""
    if not isinstance(prefetch, Mapping):
        raise PrefetchError("prefetch: must be an object")
    patients = [
        r for r in parse_resources(prefetch.get("patient"), "prefetch.patient") if isinstance(r, Patient)
    ]
    if not patients:
        raise PrefetchError("prefetch.patient: a Patient resource is required")
    patient = patients[0]
    mapped = Mapped(case=None, patient_id=patient.id)
    resources = []
    for key, value in prefetch.items():
        if key == "patient":
            continue
        # null: the EHR has no such data (CDS Hooks 2.0), like an empty Bundle. An OperationOutcome: it could
        # not be fetched, so the data is missing, not absent.
        if isinstance(value, Mapping) and value.get("resourceType") == "OperationOutcome":
            why = "; ".join(
                str(issue.get("diagnostics"))
                for issue in value.get("issue") or []
                if isinstance(issue, Mapping) and issue.get("diagnostics")
            )
            mapped.missing.append(
                f"prefetch.{key}: could not be fetched{f' ({why[:200]})' if why else ''}; assessed without "
                "it (not assumed normal)."
            )
        resources += parse_resources(value, f"prefetch.{key}")

    if patient.gender not in ("male", "female"):
        mapped.missing.append(
            f"Patient.gender is {patient.gender or 'absent'}: the pathways' rules are written for male or female."
        )
        return mapped
    birth = _date(patient.birthDate)
    if birth is None or birth > as_of:
        mapped.missing.append("Patient.birthDate is absent or after today: the rules need the age.")
        return mapped
    case: dict = {
        "as_of": as_of.isoformat(),
        "patient": {"sex": patient.gender, "birth_date": birth.isoformat()},
    }
    history: dict[str, set | list] = {"conditions": set(), "medications": set(), "toxin_history": []}
    hair: dict = {}
    skin: dict = {}
    acne: dict = {}
    scars: dict = {}
    conditions = by_id("conditions.toml")

    for r in resources:
        if isinstance(r, Condition):
            _map_condition(r, conditions, history, hair, mapped)
    latest: dict[str, tuple[dt.date, object]] = {}
    for r in resources:
        if isinstance(r, Observation):
            _collect_observation(r, as_of, latest, mapped)
    for r in resources:
        if isinstance(r, MedicationStatement | MedicationAdministration):
            _map_medication(r, as_of, history, mapped)

    labs = []
    pregnancy_known = False
    for key, (when, obs) in sorted(latest.items()):
        system, code = key
        if system == LOINC and code == PREGNANCY_STATUS_LOINC:
            answer = _obs_code(obs)
            known = {row["code"]: row["pregnant"] for row in codes()["pregnancy_answer"]}
            if obs.valueBoolean is not None:
                case["patient"]["pregnant"] = bool(obs.valueBoolean)
                pregnancy_known = True
            elif answer in known:
                case["patient"]["pregnant"] = known[answer]
                pregnancy_known = True
            else:
                mapped.ignored.append(f"Observation {LOINC}|{code}: answer {answer!r} is not a known status")
        elif system == LOINC:
            test = _loinc_labs()[code]
            q = obs.valueQuantity
            if q is None or q.value is None or not (q.unit or q.code):
                mapped.ignored.append(f"Observation {LOINC}|{code}: no valueQuantity with a value and unit")
                continue
            unit = q.code if q.system == UCUM and q.code else (q.unit or q.code)
            labs.append({"test": test, "value": float(q.value), "unit": str(unit), "date": when.isoformat()})
        else:
            section, field_name, kind = OBSERVATIONS[code]
            value = _obs_value(obs, kind)
            if value is None:
                mapped.ignored.append(f"Observation {system}|{code}: no value of the expected type ({kind})")
                continue
            if section == "patient":
                case["patient"][field_name] = value
                pregnancy_known = pregnancy_known or field_name == "pregnant"
            elif section == "hair":
                hair[field_name] = value
            elif section == "acne":
                acne[field_name] = value
            elif section == "scars":
                scars[field_name] = value
            elif field_name == "sebum":
                skin["sebum"] = [value]
            else:
                skin[field_name] = value

    if patient.gender == "male":
        for flag in ("pregnant", "breastfeeding"):
            if case["patient"].get(flag) is False:
                case["patient"].pop(flag)
    elif not pregnancy_known:
        mapped.missing.append(
            "Pregnancy status (LOINC 82810-3) not in the prefetch: assessed as not pregnant; ask before any treatment."
        )
    if history["conditions"] or history["medications"] or history["toxin_history"]:
        case["history"] = {
            "conditions": sorted(history["conditions"]),
            "medications": sorted(history["medications"]),
            "toxin_history": sorted(history["toxin_history"], key=lambda d: d["date"]),
        }
    if hair:
        case["hair"] = hair
    if acne:
        skin["acne"] = acne
    if scars:
        skin["scars"] = scars
    if skin:
        case["skin"] = skin
    if labs:
        case["labs"] = labs
    mapped.case = case
    return mapped


def _map_condition(r: Condition, conditions: dict, history: dict, hair: dict, mapped: Mapped) -> None:
    clinical = {c.code for c in _codings(r.clinicalStatus)}
    verification = {c.code for c in _codings(r.verificationStatus)}
    if clinical and not clinical & {"active", "recurrence", "relapse"}:
        return
    if verification & {"refuted", "entered-in-error"}:
        return
    index = _condition_index()
    for coding in _codings(r.code):
        code = _icd(coding.code or "") if coding.system in ICD10 else coding.code
        cid = index.get((coding.system, code))
        if cid is None:
            continue
        if cid in HAIR_DIAGNOSES:
            hair["diagnosis"] = sorted({*hair.get("diagnosis", []), cid})  # several may hold at once
        elif conditions[cid]["kind"] == "history":
            history["conditions"].add(cid)
        else:
            mapped.ignored.append(f"Condition {_label(coding)}: {cid} is not used by the pathways' rules")
        return
    labels = ", ".join(_label(c) for c in _codings(r.code)) or (r.code.text if r.code else "no code")
    mapped.ignored.append(f"Condition {labels}: not a code Dermatox knows")


def _collect_observation(r: Observation, as_of: dt.date, latest: dict, mapped: Mapped) -> None:
    if r.status not in USABLE_OBSERVATION:
        return
    key = None
    for coding in _codings(r.code):
        if coding.system == OBSERVATION_SYSTEM and coding.code in OBSERVATIONS:
            key = (OBSERVATION_SYSTEM, coding.code)
        elif coding.system == LOINC and (
            coding.code in _loinc_labs() or coding.code == PREGNANCY_STATUS_LOINC
        ):
            key = (LOINC, coding.code)
        if key:
            break
    if key is None:
        labels = ", ".join(_label(c) for c in _codings(r.code)) or "no code"
        mapped.ignored.append(f"Observation {labels}: not a code Dermatox knows")
        return
    when = _effective(r)
    if when is None:
        mapped.ignored.append(f"Observation {key[0]}|{key[1]}: no effective date")
        return
    if when > as_of:
        mapped.ignored.append(f"Observation {key[0]}|{key[1]}: dated after today ({when})")
        return
    if key not in latest or when >= latest[key][0]:
        latest[key] = (when, r)


def product_of(concept) -> str | None:
    """A toxin product id from our product code system, or from a brand name in the coding/text."""
    products = by_id("toxin_products.toml")
    for coding in _codings(concept):
        if coding.system == PRODUCT_SYSTEM and coding.code in products:
            return coding.code
    names = [c.display for c in _codings(concept) if c.display] + (
        [concept.text] if concept and concept.text else []
    )
    for name in names:
        words = name.lower()
        for pid, row in products.items():
            if pid.lower() in words or any(brand.lower() == words.strip() for brand in row.get("brands", [])):
                return pid
    return None


def _medication_id(concept) -> str | None:
    medications = by_id("medications.toml")
    for coding in _codings(concept):
        if coding.system == MEDICATION_SYSTEM and coding.code in medications:
            return coding.code
        if coding.system == ATC and coding.code:
            for row in codes()["atc"]:
                if coding.code.upper().startswith(row["prefix"]):
                    return row["medication"]
    return None


def _contained_medication_code(r):
    """The code of a Medication the resource contains and references (`#id`), as Dermatox's own
    MedicationAdministration carries its product and lot; None for any other reference."""
    reference = getattr(r.medicationReference, "reference", None) or ""
    if not reference.startswith("#"):
        return None
    for contained in r.contained or []:
        if contained.get_resource_type() == "Medication" and contained.id == reference[1:]:
            return contained.code
    return None


def _map_medication(r, as_of: dt.date, history: dict, mapped: Mapped) -> None:
    concept = r.medicationCodeableConcept or _contained_medication_code(r)
    kind = r.get_resource_type()
    if concept is None:
        mapped.ignored.append(
            f"{kind}: medicationReference is not resolved (send medicationCodeableConcept or a contained Medication)"
        )
        return
    if r.status in NOT_GIVEN:
        return
    product = product_of(concept) or (UNKNOWN_PRODUCT if _is_toxin_class(concept) else None)
    if product is not None:
        when = _effective(r)
        if when is None:
            mapped.missing.append(
                f"{kind} of {product} botulinum toxin: no date, so the 12-week interval cannot count it."
            )
            return
        if when > as_of:
            return
        # Every dose with a date starts the interval, whatever else is unknown about it; the units count
        # toward a maximum only when known, and the area (from the site) for doses on the same day.
        dose = {"date": when.isoformat(), "product": product, "indication": f"reported by the EHR ({kind})"}
        units = _toxin_units(r)
        if units is not None:
            dose["units"] = units
        else:
            mapped.missing.append(
                f"{kind} of {product} botulinum toxin on {when}: units (U) missing, so it cannot count toward "
                "a maximum; it still starts the 12-week interval."
            )
        dose.update(_toxin_site(r))
        history["toxin_history"].append(dose)
        return
    medication = _medication_id(concept)
    if medication is None:
        labels = ", ".join(_label(c) for c in _codings(concept)) or (concept.text or "no code")
        mapped.ignored.append(f"{kind} {labels}: not a medication class Dermatox's rules ask about")
        return
    if (kind == "MedicationStatement" and r.status in CURRENT_MEDICATION) or (
        kind == "MedicationAdministration" and r.status in ("in-progress", "on-hold")
    ):
        history["medications"].add(medication)


def _is_toxin_class(concept) -> bool:
    """Botulinum toxin named by its class (e.g. ATC M03AX01) rather than by a product: product unknown."""
    classes = {(row["system"], row["code"]) for row in codes()["toxin_class"]}
    return any((c.system, c.code) in classes for c in _codings(concept))


def _toxin_site(r) -> dict:
    """{area, indication} of a toxin given before, from its site: our protocol codes, or a body structure."""
    from dermatox.clinical.toxin.protocols import load_protocols

    if isinstance(r, MedicationAdministration):
        sites = [r.dosage.site] if r.dosage is not None else []
    else:
        sites = [d.site for d in r.dosage or []]
    protocols = load_protocols()
    areas = {(row["system"], row["code"]): row["area"] for row in codes()["site"]}
    for coding in (c for site in sites for c in _codings(site)):
        if coding.system == PROTOCOL_SYSTEM and coding.code in protocols:
            protocol = protocols[coding.code]
            return {"area": protocol["area"], "indication": protocol["indication"]}
        if (coding.system, coding.code) in areas:
            return {"area": areas[(coding.system, coding.code)]}
    return {}


def as_written(units: float) -> float:
    """A toxin dose as a clinician writes it: whole units from 100 U, 0.1 U from 10 U, 0.01 U below (so
    500.001 -> 500, 150.999 -> 151, 12.5 -> 12.5, 1.25 -> 1.25): what an EHR's floating-point value or our
    own arithmetic adds beyond that is noise, never a dose anyone drew up."""
    if not math.isfinite(units) or abs(units) >= 1e12:  # no dose; left for the plan check to refuse
        return units
    step = Decimal(1) if units >= 100 else Decimal("0.1") if units >= 10 else Decimal("0.01")
    return float(Decimal(repr(units)).quantize(step, rounding=ROUND_HALF_UP))


def units_text(units: float) -> str:
    """A dose for a card: as written (`as_written`), without trailing zeros: "500 U", "12.5 U"."""
    written = as_written(units)
    if not written or not math.isfinite(written) or abs(written) >= 1e12:
        return f"{units:g} U"  # no dose anyone writes: shown as sent
    return f"{Decimal(repr(written)).normalize():f} U"


def _quantity_units(q) -> float | None:
    if q is None or q.value is None:
        return None
    if (q.code or q.unit) not in TOXIN_UNITS:
        return None
    value = float(q.value)
    if not math.isfinite(value) or value <= 0:
        return None
    written = as_written(value)
    return written if written > 0 else value  # below 0.005 U: kept as sent (the plan check judges it)


def _toxin_units(r) -> float | None:
    if isinstance(r, MedicationAdministration):
        return _quantity_units(r.dosage.dose) if r.dosage is not None else None
    for dosage in r.dosage or []:
        for dr in dosage.doseAndRate or []:
            units = _quantity_units(dr.doseQuantity)
            if units is not None:
                return units
    return None
