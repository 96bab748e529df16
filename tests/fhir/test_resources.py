"""Round trip per resource: our record -> FHIR JSON over the API -> parsed by the R4B model -> the fields we map."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from fhir.resources.R4B.adverseevent import AdverseEvent
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure

from dermatox.assessments.services import observation_record
from dermatox.audit.models import AuditEntry
from dermatox.chart.signing import assessment_sign
from dermatox.fhir import systems as S
from dermatox.patients.services import condition_add, consent_record
from dermatox.scheduling.services import appointment_book
from dermatox.treatments.services import adverse_event_record, session_create
from tests.dates import FAR_EXPIRY
from tests.signing import sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def get(client, token):
    secret = token()

    def do(path):
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code == 200, response.content[:500]
        assert response["Content-Type"] == "application/fhir+json"
        return response.content

    return do


def test_patient(get, patient):
    p = Patient.model_validate_json(get(f"/fhir/Patient/{patient.pk}"))
    assert p.id == str(patient.pk)
    assert (p.name[0].family, p.name[0].given) == ("Şahin", ["İpek"])
    assert p.gender == "female" and p.birthDate == dt.date(1990, 4, 2)
    assert {(i.system, i.value) for i in p.identifier} == {
        (f"{S.MRN}/aaa", patient.mrn),
        (f"{S.IDENTIFIER}/national_id", "12345678901"),
    }
    assert p.communication[0].language.coding[0].code == "tr"
    assert p.meta.versionId == "1" and p.meta.lastUpdated is not None


def test_condition(get, physician, patient):
    c = condition_add(
        actor=physician,
        patient=patient,
        data={
            "category": "diagnosis",
            "code": "androgenetic_alopecia",
            "text": "Androgenetic alopecia",
            "icd10": "L64.9",
        },
    )
    r = Condition.model_validate_json(get(f"/fhir/Condition/{c.pk}"))
    assert r.subject.reference == f"Patient/{patient.pk}"
    assert {(x.system, x.code) for x in r.code.coding} == {
        (S.CONDITION, "androgenetic_alopecia"),
        (S.ICD10, "L64.9"),
    }
    assert r.code.text == "Androgenetic alopecia"
    assert r.clinicalStatus.coding[0].code == "active"
    assert r.category[0].coding[0].code == "encounter-diagnosis"


def test_lab_observation_has_loinc_and_ucum(get, physician, patient):
    o = observation_record(actor=physician, patient=patient, code="ferritin", value="25.5", unit="ng/mL")
    r = Observation.model_validate_json(get(f"/fhir/Observation/{o.pk}"))
    assert r.status == "final" and r.category[0].coding[0].code == "laboratory"
    assert {(x.system, x.code) for x in r.code.coding} == {(S.OBSERVATION, "ferritin"), (S.LOINC, "2276-4")}
    q = r.valueQuantity
    assert (float(q.value), q.system, q.code) == (25.5, S.UCUM, "ng/mL")
    assert r.effectiveDateTime is not None


def test_gags_components_and_coded_scale(get, physician, patient):
    gags = observation_record(
        actor=physician, patient=patient, code="gags", value=7, components={"forehead": 2, "nose": 3}
    )
    r = Observation.model_validate_json(get(f"/fhir/Observation/{gags.pk}"))
    assert r.valueInteger == 7
    assert {(c.code.coding[0].system, c.code.coding[0].code, c.valueInteger) for c in r.component} == {
        (S.GAGS_REGION, "forehead", 2),
        (S.GAGS_REGION, "nose", 3),
    }
    ludwig = observation_record(actor=physician, patient=patient, code="ludwig", value="II")
    r = Observation.model_validate_json(get(f"/fhir/Observation/{ludwig.pk}"))
    assert r.valueCodeableConcept.coding[0].code == "II"
    assert r.valueCodeableConcept.coding[0].system == f"{S.OBSERVATION_VALUE}/ludwig"


@pytest.fixture
def signed_session(nurse, patient, receive_and_open):
    vial = receive_and_open("HAIR1")
    session = session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)
    return sign(nurse, session)


def test_procedure_and_medication_administrations(get, client, token, signed_session, patient):
    r = Procedure.model_validate_json(get(f"/fhir/Procedure/{signed_session.pk}"))
    assert r.status == "completed" and r.code.coding[0].code == "hair_scalp_im"
    assert r.subject.reference == f"Patient/{patient.pk}" and r.performedDateTime is not None
    point = signed_session.points.order_by("pk").first()
    m = MedicationAdministration.model_validate_json(get(f"/fhir/MedicationAdministration/{point.pk}"))
    assert m.status == "completed" and m.partOf[0].reference == f"Procedure/{signed_session.pk}"
    medication = m.contained[0]
    assert m.medicationReference.reference == f"#{medication.id}"
    assert medication.batch.lotNumber == "HAIR1" and medication.batch.expirationDate == FAR_EXPIRY
    assert medication.code.coding[0].code == "onabotulinumtoxinA"
    assert float(m.dosage.dose.value) == float(point.units)
    assert m.dosage.dose.unit == "U (onabotulinumtoxinA)" and m.dosage.dose.system == S.TOXIN_UNIT
    assert m.dosage.site.coding[0].code == point.region and m.dosage.method.coding[0].code == point.depth


def test_adverse_event(get, physician, patient, signed_session):
    e = adverse_event_record(
        actor=physician,
        patient=patient,
        data={
            "kind": "headache",
            "severity": "mild",
            "onset": timezone.localdate(),
            "session": signed_session,
        },
    )
    r = AdverseEvent.model_validate_json(get(f"/fhir/AdverseEvent/{e.pk}"))
    assert r.actuality == "actual" and r.event.coding[0].code == "headache"
    assert r.severity.coding[0].code == "mild" and r.outcome.coding[0].code == "ongoing"
    assert r.suspectEntity[0].instance.reference == f"Procedure/{signed_session.pk}"


def test_consent(get, physician, patient):
    c = consent_record(
        actor=physician,
        patient=patient,
        data={
            "kind": "photography",
            "decision": "refused",
            "signed_at": timezone.now(),
            "signer_name": "İ. Şahin",
        },
    )
    r = Consent.model_validate_json(get(f"/fhir/Consent/{c.pk}"))
    assert r.status == "rejected" and r.provision.type == "deny"
    assert r.category[0].coding[0].code == "photography" and r.patient.reference == f"Patient/{patient.pk}"


def test_appointment(get, physician, patient):
    day = timezone.localdate() + dt.timedelta(days=7)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(10, 0), tzinfo=ZoneInfo("Europe/Istanbul"))
    a = appointment_book(
        actor=physician,
        patient=patient,
        data={
            "start": start,
            "end": start + dt.timedelta(minutes=30),
            "kind": "consultation",
            "reason": "Review",
        },
    )
    r = Appointment.model_validate_json(get(f"/fhir/Appointment/{a.pk}"))
    assert r.status == "booked" and r.start == start and r.minutesDuration == 30
    assert r.participant[0].actor.reference == f"Patient/{patient.pk}"
    assert r.appointmentType.coding[0].code == "consultation" and r.description == "Review"


def test_careplan_from_signed_assessment(get, physician, patient):
    snap = assessment_sign(actor=physician, patient=patient, as_of=timezone.localdate())
    r = CarePlan.model_validate_json(get(f"/fhir/CarePlan/{snap.pk}"))
    recs = snap.result["recommendations"]
    assert r.status == "active" and r.intent == "plan" and len(r.activity or []) == len(recs)
    for activity, rec in zip(r.activity or [], recs, strict=True):
        ext = {(e.url, e.valueCode or e.valueString) for e in activity.detail.extension}
        assert (S.EXT_RECOMMENDATION_STATUS, rec["status"]) in ext
        assert {(S.EXT_EVIDENCE, ev) for ev in rec["evidence"]} <= ext
        assert activity.detail.code.coding[0].code == rec["treatment"]


def test_audit_event_for_a_read(client, token, patient, clinics):
    secret = token(role="manager", scopes=("read",))
    other = token()
    client.get(f"/fhir/Patient/{patient.pk}", HTTP_AUTHORIZATION=f"Bearer {other}")
    entry = AuditEntry.objects.filter(action="fhir.read").latest("seq")
    assert entry.channel == "api" and entry.patient_id == patient.pk
    response = client.get(f"/fhir/AuditEvent/{entry.seq}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    r = AuditEvent.model_validate_json(response.content)
    assert r.action == "R" and r.subtype[0].code == "fhir.read" and r.type.code == "rest"
    assert r.entity[0].what.reference == f"Patient/{patient.pk}"
