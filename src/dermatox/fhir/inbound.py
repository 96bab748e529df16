"""FHIR JSON -> the arguments of our services (Patient, Observation, Condition).

The R4B models check structure and datatypes but not required value sets, so codes are checked here.
Every problem is an `InvalidResource` naming the FHIR element path (FHIRPath-like, e.g.
`Patient.gender`, `Observation.code.coding`), which the edge turns into a 422 OperationOutcome.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from dermatox.clinical.observations import observation_types
from dermatox.common.json_body import JsonBodyError, parse_json
from dermatox.fhir import systems as S

GENDER_IN = {"female": "female", "male": "male", "other": "intersex", "unknown": "unknown"}
LANGUAGES = ("en", "tr")
OBSERVATION_STATUSES = (
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
)


class InvalidResource(Exception):
    """422: a resource we cannot accept; 400 (`status`): a body that is not a bounded JSON document, or
    not a resource of the type the URL names."""

    def __init__(self, problems: list[tuple[str, str]], status: int = 422):
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in problems))
        self.problems = problems  # [(element path, message)]
        self.status = status


def _parse(model, body: bytes | str, resource_type: str):
    try:
        raw = parse_json(body)
    except JsonBodyError as exc:
        where = resource_type + exc.path.removeprefix("body")
        raise InvalidResource([(where, exc.message)], status=413 if exc.too_large else 400) from None
    if not isinstance(raw, dict) or raw.get("resourceType") != resource_type:  # not this resource: 400
        raise InvalidResource([(f"{resource_type}.resourceType", f"must be {resource_type!r}")], status=400)
    try:
        return raw, model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"] if p != "__root__")
            problems.append((f"{resource_type}.{loc}" if loc else resource_type, err["msg"]))
        raise InvalidResource(problems) from exc


def _subject(resource, type_name: str, problems: list) -> str:
    """The patient id of `subject`, which must be `Patient/<uuid>`."""
    reference = (resource.subject.reference or "") if resource.subject else ""
    patient_id = reference.removeprefix("Patient/")
    try:
        uuid.UUID(patient_id)
        if not reference.startswith("Patient/"):
            raise ValueError
    except ValueError:
        problems.append((f"{type_name}.subject", "must reference Patient/<id>"))
    return patient_id


def _unsupported(raw: dict, type_name: str, supported: set, ignored: set) -> list[tuple[str, str]]:
    return [
        (f"{type_name}.{key}", "not supported by this server")
        for key in sorted(set(raw) - supported - ignored)
    ]


# --- Patient -----------------------------------------------------------------------------------------

PATIENT_SUPPORTED = {"name", "gender", "birthDate", "telecom", "address", "communication"}
# Accepted and ignored: server-assigned or read-only here (identifiers are not written through FHIR).
PATIENT_IGNORED = {"resourceType", "id", "meta", "text", "identifier", "active", "managingOrganization"}
PATIENT_PATHS = {
    "given_name": "Patient.name[0].given[0]",
    "family_name": "Patient.name[0].family",
    "sex_at_birth": "Patient.gender",
    "birth_date": "Patient.birthDate",
    "phone": "Patient.telecom",
    "email": "Patient.telecom",
    "address": "Patient.address[0]",
    "preferred_language": "Patient.communication[0].language",
}


def patient_from_fhir(body: bytes | str) -> tuple[dict, str | None]:
    """Service `data` for patient_create / patient_update (full replace), and the id given in the body."""
    raw, resource = _parse(Patient, body, "Patient")
    problems: list[tuple[str, str]] = []
    for key in sorted(set(raw) - PATIENT_SUPPORTED - PATIENT_IGNORED):
        problems.append((f"Patient.{key}", "not supported by this server"))
    data: dict = {}
    names = resource.name or []
    official = next((n for n in names if n.use == "official"), names[0] if names else None)
    if official is None or not official.family or not official.given:
        problems.append(("Patient.name", "a name with family and given is required"))
    else:
        data["family_name"] = official.family
        data["given_name"] = " ".join(official.given)
    if resource.gender not in GENDER_IN:
        problems.append(("Patient.gender", f"must be one of {', '.join(GENDER_IN)}"))
    else:
        data["sex_at_birth"] = GENDER_IN[resource.gender]
    if resource.birthDate is None:
        problems.append(("Patient.birthDate", "is required"))
    elif not isinstance(resource.birthDate, dt.date):
        problems.append(("Patient.birthDate", "must be a full date (YYYY-MM-DD)"))
    else:
        data["birth_date"] = resource.birthDate
    data["phone"], data["email"] = "", ""
    for i, contact in enumerate(resource.telecom or []):
        if contact.system in ("phone", "email") and not data[contact.system]:
            data[contact.system] = contact.value or ""
        else:
            problems.append((f"Patient.telecom[{i}]", "only one phone and one email are kept"))
    addresses = resource.address or []
    if len(addresses) > 1:
        problems.append(("Patient.address", "only one address is kept"))
    elif addresses:
        a = addresses[0]
        data["address"] = a.text or ", ".join(
            [*(a.line or []), *(p for p in (a.postalCode, a.city, a.country) if p)]
        )
    else:
        data["address"] = ""
    for i, comm in enumerate(resource.communication or []):
        codes = [c.code for c in (comm.language.coding or [])]
        code = next((c for c in codes if c in LANGUAGES), None)
        if code is None:
            problems.append(
                (f"Patient.communication[{i}].language", f"must be one of {', '.join(LANGUAGES)}")
            )
        elif comm.preferred or "preferred_language" not in data:
            data["preferred_language"] = code
    if problems:
        raise InvalidResource(problems)
    return data, resource.id


# --- Observation -------------------------------------------------------------------------------------

OBSERVATION_SUPPORTED = {
    "status",
    "code",
    "subject",
    "effectiveDateTime",
    "valueQuantity",
    "valueInteger",
    "valueCodeableConcept",
    "valueString",
    "component",
    "method",
    "bodySite",
    "note",
    "category",
}
OBSERVATION_IGNORED = {"resourceType", "id", "meta", "text", "issued", "performer"}
OBSERVATION_PATHS = {
    "code": "Observation.code",
    "value": "Observation.value[x]",
    "unit": "Observation.valueQuantity.code",
    "components": "Observation.component",
    "effective_at": "Observation.effectiveDateTime",
    "method": "Observation.method.text",
    "body_site": "Observation.bodySite.text",
    "note": "Observation.note",
}


def _observation_code(resource) -> tuple[str | None, list[tuple[str, str]]]:
    types = observation_types()
    by_loinc: dict[str, list[str]] = {}
    for t in types.values():
        if t.loinc:
            by_loinc.setdefault(t.loinc, []).append(t.id)
    codings = (resource.code.coding or []) if resource.code else []
    if not codings:
        return None, [("Observation.code.coding", "a coding is required")]
    for i, c in enumerate(codings):
        if c.system == S.OBSERVATION:
            if c.code in types:
                return c.code, []
            return None, [
                (f"Observation.code.coding[{i}].code", f"unknown code {c.code!r} in {S.OBSERVATION}")
            ]
    for c in codings:
        if c.system == S.LOINC and len(by_loinc.get(c.code or "", [])) == 1:
            return by_loinc[c.code][0], []
    return None, [
        ("Observation.code.coding", f"needs a known code of {S.OBSERVATION} or a LOINC code we record")
    ]


def observation_from_fhir(body: bytes | str) -> tuple[str, dict]:
    """(patient id, observation_record keyword arguments except actor/patient)."""
    raw, resource = _parse(Observation, body, "Observation")
    problems = _unsupported(raw, "Observation", OBSERVATION_SUPPORTED, OBSERVATION_IGNORED)
    if resource.status not in OBSERVATION_STATUSES:
        problems.append(("Observation.status", f"must be one of {', '.join(OBSERVATION_STATUSES)}"))
    elif resource.status != "final":
        problems.append(("Observation.status", "only 'final' observations are recorded"))
    code, code_problems = _observation_code(resource)
    problems += code_problems
    patient_id = _subject(resource, "Observation", problems)
    kwargs: dict = {"code": code}
    unit = None
    if resource.valueQuantity is not None:
        q = resource.valueQuantity
        if q.value is None:
            problems.append(("Observation.valueQuantity.value", "is required"))
        if q.system not in (None, S.UCUM):
            problems.append(("Observation.valueQuantity.system", f"must be {S.UCUM}"))
        value, unit = q.value, q.code or q.unit
    elif resource.valueInteger is not None:
        value = resource.valueInteger
    elif resource.valueCodeableConcept is not None:
        cc = resource.valueCodeableConcept
        value = next((c.code for c in (cc.coding or []) if c.code), None) or cc.text
    elif resource.valueString is not None:
        value = resource.valueString
    else:
        value = None
        problems.append(("Observation.value[x]", "a value is required"))
    kwargs["value"] = value if not isinstance(value, float) else Decimal(str(value))
    kwargs["unit"] = unit
    if resource.effectiveDateTime is not None:
        when = resource.effectiveDateTime
        if not isinstance(when, dt.datetime) or when.tzinfo is None:
            problems.append(("Observation.effectiveDateTime", "must be a date-time with a time zone"))
        kwargs["effective_at"] = when
    components = {}
    for i, comp in enumerate(resource.component or []):
        region = next((c.code for c in (comp.code.coding or []) if c.system == S.GAGS_REGION), None)
        if region is None:
            problems.append((f"Observation.component[{i}].code", f"needs a coding of {S.GAGS_REGION}"))
        elif comp.valueInteger is None:
            problems.append((f"Observation.component[{i}].valueInteger", "is required"))
        else:
            components[region] = comp.valueInteger
    kwargs["components"] = components
    if resource.method is not None:
        kwargs["method"] = resource.method.text or ""
    if resource.bodySite is not None:
        kwargs["body_site"] = resource.bodySite.text or ""
    if resource.note:
        kwargs["note"] = " ".join(n.text for n in resource.note if n.text)
    if problems:
        raise InvalidResource(problems)
    return patient_id, kwargs


# --- Condition ---------------------------------------------------------------------------------------

CONDITION_SUPPORTED = {"clinicalStatus", "verificationStatus", "category", "code", "subject", "onsetDateTime"}
CONDITION_IGNORED = {"resourceType", "id", "meta", "text", "recordedDate", "recorder"}
CONDITION_PATHS = {
    "code": "Condition.code.coding",
    "icd10": "Condition.code.coding",
    "snomed": "Condition.code.coding",
    "text": "Condition.code.text",
    "onset_date": "Condition.onsetDateTime",
    "category": "Condition.category",
    "clinical_status": "Condition.clinicalStatus",
}
CLINICAL_STATUSES = ("active", "recurrence", "relapse", "inactive", "remission", "resolved")
VERIFICATION_STATUSES = (
    "unconfirmed",
    "provisional",
    "differential",
    "confirmed",
    "refuted",
    "entered-in-error",
)
CATEGORIES = {"problem-list-item": "history", "encounter-diagnosis": "diagnosis"}


def _coded(concept, system: str, path: str, allowed, problems: list) -> str | None:
    """The code of `system` in a CodeableConcept, checked against `allowed` (the FHIR value set)."""
    codes = [c.code for c in (concept.coding or []) if c.system == system] if concept else []
    if concept is not None and not codes:
        problems.append((f"{path}.coding", f"needs a coding of {system}"))
        return None
    if codes and codes[0] not in allowed:
        problems.append((f"{path}.coding[0].code", f"must be one of {', '.join(allowed)}"))
        return None
    return codes[0] if codes else None


def condition_from_fhir(body: bytes | str) -> tuple[str, dict]:
    """(patient id, condition_add data). Only what the record holds: a confirmed condition, active or
    resolved, in the history (problem-list-item) or as a diagnosis (encounter-diagnosis)."""
    raw, resource = _parse(Condition, body, "Condition")
    problems = _unsupported(raw, "Condition", CONDITION_SUPPORTED, CONDITION_IGNORED)
    patient_id = _subject(resource, "Condition", problems)
    data: dict = {}
    status = _coded(
        resource.clinicalStatus, S.CONDITION_CLINICAL, "Condition.clinicalStatus", CLINICAL_STATUSES, problems
    )
    if status not in (None, "active", "resolved"):
        problems.append(
            ("Condition.clinicalStatus", "this server records active or resolved conditions only")
        )
    data["clinical_status"] = status or "active"
    verification = _coded(
        resource.verificationStatus,
        S.CONDITION_VER,
        "Condition.verificationStatus",
        VERIFICATION_STATUSES,
        problems,
    )
    if verification not in (None, "confirmed"):
        problems.append(("Condition.verificationStatus", "this server records confirmed conditions only"))
    categories = [
        _coded(c, S.CONDITION_CATEGORY, f"Condition.category[{i}]", tuple(CATEGORIES), problems)
        for i, c in enumerate(resource.category or [])
    ]
    data["category"] = CATEGORIES.get(next((c for c in categories if c), "problem-list-item"), "history")
    codings = (resource.code.coding or []) if resource.code else []
    by_system = {c.system: c for c in codings if c.code}
    data["code"] = by_system[S.CONDITION].code if S.CONDITION in by_system else ""
    data["icd10"] = by_system[S.ICD10].code if S.ICD10 in by_system else ""
    data["snomed"] = by_system[S.SNOMED].code if S.SNOMED in by_system else ""
    text = (resource.code.text if resource.code else None) or next(
        (c.display for c in codings if c.display), None
    )
    if not text:
        problems.append(("Condition.code", "needs text (or a coding with a display): the record shows it"))
    data["text"] = text or ""
    if resource.onsetDateTime is not None:
        onset = resource.onsetDateTime
        if isinstance(onset, dt.datetime):
            data["onset_date"] = onset.date()
        elif isinstance(onset, dt.date):
            data["onset_date"] = onset
        else:
            problems.append(("Condition.onsetDateTime", "must be a full date (YYYY-MM-DD) or date-time"))
    if problems:
        raise InvalidResource(problems)
    return patient_id, data
