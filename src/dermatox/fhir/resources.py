"""Our records -> FHIR R4 resources (fhir.resources.R4B model objects; we advertise 4.0.1).

Ids are our primary keys (Patient: UUID; the rest: integer pk as a string). Meta.versionId is the number
of versions in the record's history (simple-history) and Meta.lastUpdated the time of the newest one;
querysets get both in one query through `with_meta`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from functools import lru_cache

from django.db.models import Count, DateTimeField, IntegerField, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from fhir.resources.R4B.adverseevent import AdverseEvent
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.procedure import Procedure

from dermatox.clinical.observations import observation_types
from dermatox.clinical.regions import point_area, region_name
from dermatox.fhir import systems as S

GENDER = {"female": "female", "male": "male", "intersex": "other", "unknown": "unknown"}


# --- meta --------------------------------------------------------------------------------------------


def with_meta(qs: QuerySet) -> QuerySet:
    """Annotate `fhir_version` (count of history rows) and `fhir_updated` (newest history date)."""
    history = qs.model.history.model
    rows = history.objects.filter(id=OuterRef("pk")).order_by()
    return qs.annotate(
        fhir_version=Coalesce(
            Subquery(
                rows.values("id").annotate(n=Count("history_id")).values("n")[:1], output_field=IntegerField()
            ),
            1,
        ),
        fhir_updated=Subquery(
            rows.order_by("-history_date").values("history_date")[:1], output_field=DateTimeField()
        ),
    )


BULK_CHUNK = 2000  # rows per database round trip when streaming for bulk export


def meta_rows(qs: QuerySet) -> Iterator[tuple]:
    """(id, version count, newest version date) of every record of `qs` that has a history, in id order,
    streamed: what `with_meta` annotates, in one grouped query rather than two subqueries per row."""
    history = qs.model.history.model
    return (
        history.objects.filter(id__in=qs.values("pk"))
        .order_by("id")
        .values_list("id")
        .annotate(n=Count("history_id"), last=Max("history_date"))
        .iterator(chunk_size=BULK_CHUNK)
    )


def changed_since(qs: QuerySet, since: dt.datetime) -> QuerySet:
    """Records with a version at or after `since` (the newest version is; same as fhir_updated >= since)."""
    history = qs.model.history.model
    return qs.filter(pk__in=history.objects.filter(history_date__gte=since).values("id"))


def _meta(record, fallback: dt.datetime | None = None) -> dict:
    updated = getattr(record, "fhir_updated", None) or fallback
    meta = {"versionId": str(getattr(record, "fhir_version", None) or 1)}
    if updated:
        meta["lastUpdated"] = _instant(updated)
    return meta


def _instant(value: dt.datetime) -> dt.datetime:
    """An aware datetime; the R4B model, or orjson in bulk export, writes it as RFC 3339 text (formatting it
    here would be done twice for the models, and is a tenth of a bulk export's mapping time)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _ref(patient_id) -> dict:
    return {"reference": _patient_reference(patient_id)}


@lru_cache(maxsize=4096)  # formatting a UUID is a tenth of mapping an Observation in bulk export
def _patient_reference(patient_id) -> str:
    return f"Patient/{patient_id}"


def _user(user) -> dict | None:
    """A reference to the staff member (Practitioner/<id>, readable by the clinic's tokens) with their name."""
    if user is None:
        return None
    return {"reference": f"Practitioner/{user.pk}", "display": user.full_name or user.get_username()}


def _organization(clinic) -> dict:
    return {"reference": f"Organization/{clinic.pk}", "display": clinic.name}


def _clinic_contact(clinic) -> dict:
    return {
        "telecom": [{"system": "phone", "value": clinic.phone}] if clinic.phone else [],
        "address": {"text": clinic.address} if clinic.address else None,
    }


def practitioner_to_fhir(user, *, as_dict=False):
    """A staff member the records name (signer, recorder, performer, practitioner): name only — no user
    name, e-mail or role; `active` is their membership of the reading clinic."""
    data = {
        "resourceType": "Practitioner",
        "id": str(user.pk),
        "meta": _meta(user, getattr(user, "date_joined", None)),
        "active": bool(getattr(user, "clinic_active", True)),
        "name": [{"text": user.full_name or user.get_username()}],
    }
    return _model(Practitioner, data, as_dict)


def organization_to_fhir(clinic, *, as_dict=False):
    """The clinic: the organisation that manages its patients (Patient.managingOrganization)."""
    contact = _clinic_contact(clinic)
    data = {
        "resourceType": "Organization",
        "id": str(clinic.pk),
        "meta": _meta(clinic),
        "identifier": [{"system": S.CLINIC, "value": clinic.code}],
        "active": True,
        "name": clinic.name,
        "telecom": contact["telecom"],
        "address": [contact["address"]] if contact["address"] else [],
    }
    return _model(Organization, data, as_dict)


def location_to_fhir(clinic, *, as_dict=False):
    """The clinic's premises, where its visits and sessions take place."""
    contact = _clinic_contact(clinic)
    data = {
        "resourceType": "Location",
        "id": str(clinic.pk),
        "meta": _meta(clinic),
        "identifier": [{"system": S.CLINIC, "value": clinic.code}],
        "status": "active",
        "mode": "instance",
        "name": clinic.name,
        "telecom": contact["telecom"],
        "address": contact["address"],
        "managingOrganization": _organization(clinic),
    }
    return _model(Location, data, as_dict)


def _decimal(value: Decimal) -> Decimal | int:
    value = value.normalize()
    return int(value) if value == value.to_integral_value() else value


def _model(model, data: dict, as_dict: bool):
    """The resource as a validated R4B model, or (bulk export) as the plain dict it is built from: the
    dicts are what the models validate, and the bulk tests parse every exported line with the models."""
    return _clean(data) if as_dict else model.model_validate(_clean(data))


_CONTAINERS = (str, list, dict)


def _clean(data: dict) -> dict:
    """Drop empty values, so no element is emitted empty (FHIR forbids empty elements)."""
    # Falsy numbers and booleans are values; falsy text and containers are empty. (Written out rather than
    # `v not in (None, "", [], {})`: this runs for every element of a bulk export, and that is 4x slower.)
    return {k: v for k, v in data.items() if v or (v is not None and not isinstance(v, _CONTAINERS))}


# --- Patient -----------------------------------------------------------------------------------------


def patient_to_fhir(p, *, clinic=None, identifiers=None, as_dict=False) -> Patient:
    """`clinic` and `identifiers` may be given (a historical version has neither loaded)."""
    clinic = clinic or p.clinic
    identifiers_out = [{"use": "usual", "system": f"{S.MRN}/{clinic.code}", "value": p.mrn}]
    identifiers_out += [
        {"system": f"{S.IDENTIFIER}/{i.system}", "value": i.value}
        for i in (p.identifiers.all() if identifiers is None else identifiers)
        if i.entered_in_error_at is None
    ]
    telecom = []
    if p.phone:
        telecom.append({"system": "phone", "value": p.phone})
    if p.email:
        telecom.append({"system": "email", "value": p.email})
    data = {
        "resourceType": "Patient",
        "id": str(p.pk),
        "meta": _meta(p, p.updated_at),
        "identifier": identifiers_out,
        "active": p.entered_in_error_at is None,
        "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
        "gender": GENDER[p.sex_at_birth],
        "birthDate": p.birth_date.isoformat(),
        "telecom": telecom,
        "address": [{"text": p.address}] if p.address else [],
        "communication": [
            {"language": {"coding": [{"system": S.BCP47, "code": p.preferred_language}]}, "preferred": True}
        ],
        "managingOrganization": _organization(clinic),
    }
    return _model(Patient, data, as_dict)


# --- Condition ---------------------------------------------------------------------------------------


def condition_to_fhir(c, *, as_dict=False) -> Condition:
    coding = []
    if c.code:
        coding.append({"system": S.CONDITION, "code": c.code})
    if c.icd10:
        coding.append({"system": S.ICD10, "code": c.icd10})
    if c.snomed:
        coding.append({"system": S.SNOMED, "code": c.snomed})
    category = "encounter-diagnosis" if c.category == "diagnosis" else "problem-list-item"
    data = {
        "resourceType": "Condition",
        "id": str(c.pk),
        "meta": _meta(c, c.recorded_at),
        # Not with verificationStatus entered-in-error (invariant con-5).
        "clinicalStatus": (
            None
            if c.entered_in_error_at
            else {"coding": [{"system": S.CONDITION_CLINICAL, "code": c.clinical_status}]}
        ),
        "verificationStatus": {
            "coding": [
                {
                    "system": S.CONDITION_VER,
                    "code": "entered-in-error" if c.entered_in_error_at else "confirmed",
                }
            ]
        },
        "category": [{"coding": [{"system": S.CONDITION_CATEGORY, "code": category}]}],
        "code": _clean({"coding": coding, "text": c.text}),
        "subject": _ref(c.patient_id),
        "onsetDateTime": c.onset_date.isoformat() if c.onset_date else None,
        "recordedDate": _instant(c.recorded_at),
        "recorder": _user(c.recorded_by),
    }
    return _model(Condition, data, as_dict)


# --- Observation -------------------------------------------------------------------------------------


def observation_coding(code: str, loinc: str = "") -> list[dict]:
    kind = observation_types().get(code)
    coding = [_clean({"system": S.OBSERVATION, "code": code, "display": kind.display if kind else None})]
    if loinc:
        coding.append({"system": S.LOINC, "code": loinc})
    return coding


def observation_to_fhir(o, *, as_dict=False) -> Observation:
    kind = observation_types().get(o.code)
    category = "laboratory" if kind is not None and kind.group == "lab" else "exam"
    data = {
        "resourceType": "Observation",
        "id": str(o.pk),
        "meta": _meta(o, o.recorded_at),
        "status": "entered-in-error" if o.entered_in_error_at else "final",
        "category": [{"coding": [{"system": S.OBSERVATION_CATEGORY, "code": category}]}],
        "code": {"coding": observation_coding(o.code, o.loinc), "text": kind.display if kind else o.code},
        "subject": _ref(o.patient_id),
        "effectiveDateTime": _instant(o.effective_at),
        "issued": _instant(o.recorded_at),
        "performer": [_user(o.recorded_by)] if o.recorded_by_id else [],
        "method": {"text": o.method} if o.method else None,
        "bodySite": {"text": o.body_site} if o.body_site else None,
        "note": [{"text": t} for t in (o.note, f"device: {o.device}" if o.device else "") if t],
    }
    if o.value_code:
        data["valueCodeableConcept"] = {
            "coding": [{"system": f"{S.OBSERVATION_VALUE}/{o.code}", "code": o.value_code}],
            "text": o.value_code,
        }
    elif o.value_number is not None:
        value = _decimal(o.value_number)
        if o.unit:
            data["valueQuantity"] = {"value": value, "unit": o.unit, "system": S.UCUM, "code": o.unit}
        elif isinstance(value, int):
            data["valueInteger"] = value
        else:
            data["valueQuantity"] = {"value": value}
    if o.components:
        data["component"] = [
            {"code": {"coding": [{"system": S.GAGS_REGION, "code": region}]}, "valueInteger": grade}
            for region, grade in o.components.items()
        ]
    return _model(Observation, data, as_dict)


# --- Procedure (a signed toxin session) and MedicationAdministration (one per point) ------------------


def procedure_to_fhir(s, *, as_dict=False) -> Procedure:
    data = {
        "resourceType": "Procedure",
        "id": str(s.pk),
        "meta": _meta(s, s.signed_at or s.created_at),
        "status": "entered-in-error" if s.entered_in_error_at else "completed",
        "code": {"coding": [{"system": S.TOXIN_PROTOCOL, "code": s.protocol}], "text": s.protocol},
        "subject": _ref(s.patient_id),
        "performedDateTime": _instant(s.signed_at) if s.signed_at else None,
        "performer": [{"actor": _user(s.signed_by)}] if s.signed_by_id else [],
        "note": [{"text": s.note}] if s.note else [],
        "usedCode": [{"coding": [{"system": S.TOXIN_PRODUCT, "code": s.product}], "text": s.product}],
    }
    return _model(Procedure, data, as_dict)


def medication_administration_to_fhir(point, *, as_dict=False) -> MedicationAdministration:
    """One administered injection point. The product and its lot travel as a contained Medication."""
    session = point.session
    withdrawal = point.withdrawal
    lot = withdrawal.vial.lot if withdrawal is not None else (session.vial.lot if session.vial else None)
    medication = {
        "resourceType": "Medication",
        "id": "product",
        "code": {"coding": [{"system": S.TOXIN_PRODUCT, "code": session.product}], "text": session.product},
    }
    if lot is not None:
        medication["batch"] = {"lotNumber": lot.lot_number, "expirationDate": lot.expiry.isoformat()}
    when = withdrawal.at if withdrawal is not None else session.signed_at
    data = {
        "resourceType": "MedicationAdministration",
        "id": str(point.pk),
        "meta": _meta(point, when),
        "contained": [medication],
        # Withdrawn with its session (the cascade marks the point too; the session decides either way).
        "status": "entered-in-error"
        if point.entered_in_error_at or session.entered_in_error_at
        else "completed",
        "medicationReference": {"reference": "#product"},
        "subject": _ref(session.patient_id),
        "effectiveDateTime": _instant(when),
        "partOf": [{"reference": f"Procedure/{session.pk}"}],
        "performer": [{"actor": _user(session.signed_by)}] if session.signed_by_id else [],
        "dosage": {
            "site": {
                "coding": [{"system": S.MAP_REGION, "code": point.region}],
                "text": region_name(point.region, point_area(session.protocol)),
            },
            "route": {"text": point.depth},
            "method": {"coding": [{"system": S.INJECTION_DEPTH, "code": point.depth}], "text": point.depth},
            "dose": {
                "value": _decimal(point.units),
                "unit": f"U ({session.product})",
                "system": S.TOXIN_UNIT,
                "code": session.product,
            },
        },
    }
    return _model(MedicationAdministration, data, as_dict)


# --- AdverseEvent ------------------------------------------------------------------------------------

AE_OUTCOME = {"ongoing": "ongoing", "resolving": "recovering", "resolved": "resolved", "unknown": "unknown"}


def adverse_event_to_fhir(e, *, as_dict=False) -> AdverseEvent:
    data = {
        "resourceType": "AdverseEvent",
        "id": str(e.pk),
        "meta": _meta(e, e.recorded_at),
        "actuality": "actual",
        "event": {"coding": [{"system": S.ADVERSE_EVENT, "code": e.kind}], "text": e.get_kind_display()},
        "subject": _ref(e.patient_id),
        "date": e.onset.isoformat(),
        "recordedDate": _instant(e.recorded_at),
        "recorder": _user(e.recorded_by),
        "severity": {"coding": [{"system": S.AE_SEVERITY, "code": e.severity}]},
        "outcome": {"coding": [{"system": S.AE_OUTCOME, "code": AE_OUTCOME[e.outcome]}]},
        "suspectEntity": [{"instance": {"reference": f"Procedure/{e.session_id}"}}] if e.session_id else [],
    }
    if e.note:
        data["event"]["text"] = f"{e.get_kind_display()}: {e.note}"
    return _model(AdverseEvent, data, as_dict)


# --- Consent -----------------------------------------------------------------------------------------

CONSENT_STATUS = {"granted": "active", "refused": "rejected", "withdrawn": "inactive"}
CONSENT_SCOPE = {
    "treatment": "treatment",
    "photography": "treatment",
    "photo_teaching_marketing": "patient-privacy",
}


def consent_to_fhir(c, *, as_dict=False) -> Consent:
    data = {
        "resourceType": "Consent",
        "id": str(c.pk),
        "meta": _meta(c, c.recorded_at),
        "status": "entered-in-error" if c.entered_in_error_at else CONSENT_STATUS[c.decision],
        "scope": {"coding": [{"system": S.CONSENT_SCOPE, "code": CONSENT_SCOPE[c.kind]}]},
        "category": [{"coding": [{"system": S.CONSENT_KIND, "code": c.kind}], "text": c.get_kind_display()}],
        "patient": _ref(c.patient_id),
        "dateTime": _instant(c.signed_at),
        "performer": [{"display": c.signer_name}],
        # Always a policy rule (invariant ppc-1): the clinic's consent form of this kind, with the scope text
        # when one was recorded.
        "policyRule": _clean({"coding": [{"system": S.CONSENT_KIND, "code": c.kind}], "text": c.scope}),
        "provision": {"type": "permit" if c.decision == "granted" else "deny"},
    }
    return _model(Consent, data, as_dict)


# --- Appointment -------------------------------------------------------------------------------------

APPOINTMENT_STATUS = {
    "booked": "booked",
    "arrived": "arrived",
    "fulfilled": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}


def appointment_to_fhir(a, *, as_dict=False) -> Appointment:
    participants = [{"actor": _ref(a.patient_id), "status": "accepted"}]
    if a.practitioner_id:
        participants.append({"actor": _user(a.practitioner), "status": "accepted"})
    data = {
        "resourceType": "Appointment",
        "id": str(a.pk),
        "meta": _meta(a, a.created_at),
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{a.uid}"}],
        "status": "entered-in-error" if a.entered_in_error_at else APPOINTMENT_STATUS[a.status],
        "cancelationReason": {"text": a.cancel_reason} if a.cancel_reason else None,
        "appointmentType": {"coding": [{"system": S.VISIT_KIND, "code": a.kind}]},
        # One booked from a follow-up may carry the follow-up's clinical reason (older bookings copied it);
        # FHIR readers include front-desk systems, so it is left out.
        "description": (a.reason or None) if a.follow_up_id is None else None,
        "start": _instant(a.start),
        "end": _instant(a.end),
        "minutesDuration": a.duration_minutes,
        "created": _instant(a.created_at),
        "participant": participants,
    }
    return _model(Appointment, data, as_dict)


# --- CarePlan (a signed assessment snapshot) ----------------------------------------------------------


def careplan_to_fhir(snap, *, as_dict=False) -> CarePlan:
    activities = []
    for rec in snap.result.get("recommendations", []):
        status = rec.get("status", "")
        detail = {
            "extension": [{"url": S.EXT_RECOMMENDATION_STATUS, "valueCode": status}]
            + [{"url": S.EXT_EVIDENCE, "valueString": ev} for ev in rec.get("evidence", [])]
            + (
                [{"url": S.EXT_EVIDENCE_LEVEL, "valueString": str(rec["evidence_level"])}]
                if rec.get("evidence_level")
                else []
            ),
            "code": {
                "coding": [{"system": S.TREATMENT, "code": rec.get("treatment", "")}],
                "text": rec.get("display") or rec.get("treatment", ""),
            },
            "status": "on-hold" if status in ("defer", "not_yet") else "not-started",
            "doNotPerform": status in ("not_indicated", "contraindicated"),
            "scheduledString": f"not before {rec['not_before']}" if rec.get("not_before") else None,
            "description": " ".join(rec.get("reasons", [])) or None,
        }
        activities.append({"detail": _clean(detail)})
    data = {
        "resourceType": "CarePlan",
        "id": str(snap.pk),
        "meta": _meta(snap, snap.signed_at),
        "status": "entered-in-error" if snap.entered_in_error_at else "active",
        "intent": "plan",
        "title": f"Assessment as of {snap.as_of.isoformat()} (engine {snap.engine_version})",
        "subject": _ref(snap.patient_id),
        "created": _instant(snap.signed_at),
        "author": _user(snap.signed_by),
        "activity": activities,
    }
    return _model(CarePlan, data, as_dict)


# --- AuditEvent --------------------------------------------------------------------------------------

_READ_WORDS = ("view", "read", "search", "list", "export")


def audit_action_code(action: str) -> str:
    last = action.rsplit(".", 1)[-1]
    if any(w in action for w in _READ_WORDS):
        return "R"
    return {"create": "C", "add": "C", "record": "C", "update": "U"}.get(last, "E")


def audit_event_to_fhir(entry, *, as_dict=False) -> AuditEvent:
    """One audit entry. The detail column (search terms are patient data) is never exported."""
    entities = []
    if entry.patient_id:
        entities.append({"what": _ref(entry.patient_id)})
    if entry.object_type and entry.object_id:
        entities.append({"what": {"display": f"{entry.object_type}/{entry.object_id}"}})
    agent = _clean(
        {
            "who": {"display": entry.actor_username or "system"},
            "requestor": True,
            "role": [{"text": entry.role}] if entry.role else [],
            "network": {"address": entry.ip, "type": "2"} if entry.ip else None,
        }
    )
    data = {
        "resourceType": "AuditEvent",
        "id": str(entry.seq),
        "meta": {"versionId": "1", "lastUpdated": _instant(entry.at)},
        "type": (
            {"system": S.AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}
            if entry.channel == "api"
            else {"system": S.AUDIT_ACTION, "code": entry.action.split(".", 1)[0]}
        ),
        "subtype": [{"system": S.AUDIT_ACTION, "code": entry.action}],
        "action": audit_action_code(entry.action),
        "recorded": _instant(entry.at),
        "outcome": "0",
        "agent": [agent],
        "source": {"observer": {"display": f"Dermatox ({entry.channel})"}},
        "entity": entities,
    }
    return _model(AuditEvent, data, as_dict)
