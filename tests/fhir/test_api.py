"""The /fhir/ endpoints: search parameters, paging, isolation, auth errors, writes, history, metadata."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from dermatox.assessments.services import observation_record
from dermatox.audit.models import AuditEntry
from dermatox.fhir import systems as S
from dermatox.patients.services import patient_create, patient_update

from .conftest import ago

pytestmark = pytest.mark.django_db


def ids(bundle):
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


@pytest.fixture
def obs(physician, patient):
    return {
        "old": observation_record(
            actor=physician,
            patient=patient,
            code="ferritin",
            value=20,
            unit="ng/mL",
            effective_at=ago(days=40),
        ),
        "mid": observation_record(
            actor=physician, patient=patient, code="daily_shedding", value=120, effective_at=ago(days=10)
        ),
        "new": observation_record(
            actor=physician,
            patient=patient,
            code="ferritin",
            value=35,
            unit="ng/mL",
            effective_at=ago(hours=1),
        ),
    }


def test_capability_statement_is_r4_4_0_1(fhir):
    status, _body, response = fhir("GET", "/fhir/metadata", secret=None)
    cs = CapabilityStatement.model_validate_json(response.content)
    assert status == 200 and cs.fhirVersion == "4.0.1" and cs.format == ["json"]
    by_type = {r.type: r for r in cs.rest[0].resource}
    assert {i.code for i in by_type["Patient"].interaction} >= {
        "read",
        "search-type",
        "create",
        "update",
        "history-instance",
    }
    assert "create" in {i.code for i in by_type["Observation"].interaction}
    assert {i.code for i in by_type["Condition"].interaction} == {"read", "search-type", "create"}
    assert {i.code for i in by_type["Procedure"].interaction} == {"read", "search-type"}
    assert {p.name for p in by_type["Observation"].searchParam} >= {
        "_id",
        "patient",
        "subject",
        "code",
        "date",
        "_lastUpdated",
    }


def test_search_by_patient_code_date_and_id(fhir, obs, patient):
    status, body, response = fhir("GET", f"/fhir/Observation?patient=Patient/{patient.pk}")
    Bundle.model_validate_json(response.content)
    assert status == 200 and body["type"] == "searchset" and body["total"] == 3
    assert ids(body) == [str(obs[k].pk) for k in ("new", "mid", "old")]  # newest first
    _, body, _ = fhir("GET", f"/fhir/Observation?subject={patient.pk}&code={S.LOINC}|2276-4")
    assert sorted(ids(body)) == sorted([str(obs["old"].pk), str(obs["new"].pk)])
    _, body, _ = fhir("GET", "/fhir/Observation?code=daily_shedding")
    assert ids(body) == [str(obs["mid"].pk)]
    _, body, _ = fhir("GET", f"/fhir/Observation?code={S.OBSERVATION}|ferritin,daily_shedding")
    assert body["total"] == 3
    since = (timezone.now() - dt.timedelta(days=20)).date().isoformat()
    _, body, _ = fhir("GET", f"/fhir/Observation?date=ge{since}")
    assert sorted(ids(body)) == sorted([str(obs["mid"].pk), str(obs["new"].pk)])
    _, body, _ = fhir("GET", f"/fhir/Observation?date=lt{since}")
    assert ids(body) == [str(obs["old"].pk)]
    day = timezone.localtime(obs["mid"].effective_at).date().isoformat()
    _, body, _ = fhir("GET", f"/fhir/Observation?date=eq{day}")
    assert ids(body) == [str(obs["mid"].pk)]
    _, body, _ = fhir("GET", f"/fhir/Observation?date=gt{day}&date=le{timezone.localdate().isoformat()}")
    assert ids(body) == [str(obs["new"].pk)]
    _, body, _ = fhir("GET", f"/fhir/Observation?_id={obs['old'].pk},{obs['mid'].pk}")
    assert body["total"] == 2
    _, body, _ = fhir("GET", f"/fhir/Observation?_lastUpdated=ge{timezone.localdate().isoformat()}")
    assert body["total"] == 3  # all recorded today, whatever their effective time
    _, body, _ = fhir("GET", "/fhir/Observation?_lastUpdated=lt2020-01-01")
    assert body["total"] == 0 and "entry" not in body


def test_patient_search_by_birthdate_and_last_updated(fhir, patient, physician):
    _, body, _ = fhir("GET", "/fhir/Patient?birthdate=1990-04")
    assert ids(body) == [str(patient.pk)]
    _, body, _ = fhir("GET", "/fhir/Patient?birthdate=gt1990-04-02")
    assert body["total"] == 0
    _, body, _ = fhir("GET", f"/fhir/Patient?_lastUpdated=ge{timezone.localdate().isoformat()}")
    assert ids(body) == [str(patient.pk)]


def test_paging_with_next_links_and_bounded_queries(fhir, client, token, physician, patient):
    for i in range(7):
        observation_record(
            actor=physician, patient=patient, code="daily_shedding", value=i, effective_at=ago(hours=i + 1)
        )
    seen, url = [], "/fhir/Observation?_count=3&code=daily_shedding"
    while url:
        _, body, _ = fhir("GET", url)
        assert body["total"] == 7 and len(ids(body)) <= 3
        seen += ids(body)
        assert body["link"][0]["relation"] == "self"
        nxt = [link["url"] for link in body["link"] if link["relation"] == "next"]
        url = nxt[0].removeprefix("http://testserver") if nxt else None
    assert len(seen) == len(set(seen)) == 7
    _, body, _ = fhir("GET", "/fhir/Observation?_count=1000")
    assert "_count=200" in body["link"][0]["url"]
    secret = token()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    client.get("/fhir/Observation?_count=1", **headers)  # first use writes the token's last_used_at
    with CaptureQueriesContext(connection) as small:
        client.get("/fhir/Observation?_count=2", **headers)
    with CaptureQueriesContext(connection) as large:
        client.get("/fhir/Observation?_count=7", **headers)
    assert len(small) == len(large)


def test_searches_and_reads_are_audited(fhir, obs, patient):
    fhir("GET", f"/fhir/Observation?patient={patient.pk}")
    entry = AuditEntry.objects.filter(action="fhir.search").latest("seq")
    assert entry.patient_id == patient.pk and entry.detail["patient_ids"] == [str(patient.pk)]
    assert entry.detail["type"] == "Observation" and entry.channel == "api"
    fhir("GET", f"/fhir/Observation/{obs['old'].pk}")
    entry = AuditEntry.objects.filter(action="fhir.read").latest("seq")
    assert entry.object_id == str(obs["old"].pk) and entry.patient_id == patient.pk


def test_another_clinics_token_never_sees_the_record(fhir, token, patient, obs):
    other = token(clinic_index=1)
    for path in (
        f"/fhir/Patient/{patient.pk}",
        f"/fhir/Observation/{obs['old'].pk}",
        f"/fhir/Patient/{patient.pk}/_history",
    ):
        status, body, _ = fhir("GET", path, secret=other)
        assert status == 404 and body["resourceType"] == "OperationOutcome"
        assert patient.given_name not in str(body)
    for path in (
        "/fhir/Patient",
        f"/fhir/Observation?patient={patient.pk}",
        f"/fhir/Observation?_id={obs['old'].pk}",
    ):
        status, body, _ = fhir("GET", path, secret=other)
        assert status == 200 and body["total"] == 0
    status, body, _ = fhir("PUT", f"/fhir/Patient/{patient.pk}", secret=other, body=patient_json(patient.pk))
    assert status == 404


def test_auth_errors(fhir, token, patient):
    status, body, response = fhir("GET", "/fhir/Patient", secret=None)
    OperationOutcome.model_validate_json(response.content)
    assert status == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert fhir("GET", "/fhir/Patient", secret="dx_nonsense")[0] == 401
    read_only = token(scopes=("read",))
    status, body, _ = fhir("POST", "/fhir/Patient", secret=read_only, body=patient_json())
    assert status == 403 and "write" in body["issue"][0]["diagnostics"]
    front_desk = token(role="front_desk")
    assert fhir("GET", "/fhir/Observation", secret=front_desk)[0] == 403  # no clinical content
    assert fhir("GET", "/fhir/Patient", secret=front_desk)[0] == 200


def test_bad_requests(fhir, patient):
    assert fhir("GET", "/fhir/Observation?date=yesterday")[0] == 400
    assert fhir("GET", "/fhir/Observation?date=ne2024-01-01")[0] == 400
    status, body, _ = fhir("GET", "/fhir/Observation?colour=blue")
    assert status == 400 and body["issue"][0]["expression"] == ["colour"]
    assert fhir("GET", "/fhir/Observation?_count=many")[0] == 400
    assert fhir("GET", "/fhir/Medication")[0] == 404
    assert fhir("GET", "/fhir/Observation/abc")[0] == 404
    status, body, response = fhir("DELETE", f"/fhir/Patient/{patient.pk}")
    assert status == 405 and "PUT" in response["Allow"]
    assert fhir("POST", "/fhir/Procedure", body={"resourceType": "Procedure"})[0] == 405


def patient_json(pid=None, **over):
    body = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": "Brown", "given": ["Anna"]}],
        "gender": "female",
        "birthDate": "1985-06-01",
        "telecom": [{"system": "email", "value": "anna@example.org"}],
        "communication": [{"language": {"coding": [{"system": S.BCP47, "code": "en"}]}, "preferred": True}],
        **over,
    }
    if pid:
        body["id"] = str(pid)
    return body


def test_create_and_update_patient(fhir):
    status, body, response = fhir("POST", "/fhir/Patient", body=patient_json())
    assert status == 201 and body["name"][0]["family"] == "Brown" and body["meta"]["versionId"] == "1"
    assert response["Location"].endswith(f"/fhir/Patient/{body['id']}/_history/1")
    pid = body["id"]
    status, body, _ = fhir("PUT", f"/fhir/Patient/{pid}", body=patient_json(pid, birthDate="1985-06-02"))
    assert status == 200 and body["birthDate"] == "1985-06-02" and body["meta"]["versionId"] == "2"
    status, body, _ = fhir("GET", f"/fhir/Patient/{pid}/_history")
    assert body["type"] == "history" and [e["resource"]["birthDate"] for e in body["entry"]] == [
        "1985-06-02",
        "1985-06-01",
    ]
    assert [e["request"]["method"] for e in body["entry"]] == ["PUT", "POST"]
    status, body, _ = fhir("GET", f"/fhir/Patient/{pid}/_history/1")
    assert status == 200 and body["birthDate"] == "1985-06-01"
    assert fhir("GET", f"/fhir/Patient/{pid}/_history/9")[0] == 404
    assert (
        fhir("PUT", f"/fhir/Patient/{pid}", body=patient_json("0" * 8 + "-0000-0000-0000-" + "0" * 12))[0]
        == 400
    )


@pytest.mark.parametrize(
    ("over", "path"),
    [
        ({"gender": "woman"}, "Patient.gender"),
        ({"birthDate": "1985"}, "Patient.birthDate"),
        ({"birthDate": "2999-01-01"}, "Patient.birthDate"),
        ({"name": [{"family": "Brown"}]}, "Patient.name"),
        ({"maritalStatus": {"text": "M"}}, "Patient.maritalStatus"),
        (
            {"communication": [{"language": {"coding": [{"code": "de"}]}}]},
            "Patient.communication[0].language",
        ),
        ({"telecom": [{"system": "email", "value": "not-an-email"}]}, "Patient.telecom"),
    ],
)
def test_invalid_patient_is_422_naming_the_path(fhir, over, path):
    before = AuditEntry.objects.filter(action="patient.create").count()
    status, body, response = fhir("POST", "/fhir/Patient", body=patient_json(**over))
    OperationOutcome.model_validate_json(response.content)
    assert status == 422, body
    assert path in [e for issue in body["issue"] for e in issue.get("expression", [])], body
    assert AuditEntry.objects.filter(action="patient.create").count() == before


def observation_json(patient, **over):
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": S.LOINC, "code": "2276-4"}]},
        "subject": {"reference": f"Patient/{patient.pk}"},
        "effectiveDateTime": "2025-01-10T09:30:00+03:00",
        "valueQuantity": {"value": 42.5, "unit": "ng/mL", "system": S.UCUM, "code": "ng/mL"},
        **over,
    }


def test_create_observation(fhir, patient):
    status, body, _response = fhir("POST", "/fhir/Observation", body=observation_json(patient))
    assert status == 201, body
    assert body["valueQuantity"]["value"] == 42.5 and body["code"]["coding"][0]["code"] == "ferritin"
    assert body["subject"]["reference"] == f"Patient/{patient.pk}"
    gags = {
        "code": {"coding": [{"system": S.OBSERVATION, "code": "gags"}]},
        "valueQuantity": None,
        "valueInteger": 4,
        "component": [
            {"code": {"coding": [{"system": S.GAGS_REGION, "code": "forehead"}]}, "valueInteger": 2}
        ],
    }
    body_in = {k: v for k, v in observation_json(patient, **gags).items() if v is not None}
    status, body, _ = fhir("POST", "/fhir/Observation", body=body_in)
    assert status == 201, body
    assert body["component"][0]["valueInteger"] == 2


@pytest.mark.parametrize(
    ("over", "path"),
    [
        ({"status": "bogus"}, "Observation.status"),
        ({"status": "preliminary"}, "Observation.status"),
        (
            {"code": {"coding": [{"system": S.OBSERVATION, "code": "nope"}]}},
            "Observation.code.coding[0].code",
        ),
        ({"code": {"coding": [{"system": S.LOINC, "code": "0000-0"}]}}, "Observation.code.coding"),
        ({"valueQuantity": {"value": 42, "system": S.UCUM, "code": "mg"}}, "Observation.valueQuantity.code"),
        ({"valueQuantity": {"value": -1, "system": S.UCUM, "code": "ng/mL"}}, "Observation.value[x]"),
        ({"subject": {"reference": "Patient/00000000-0000-0000-0000-000000000000"}}, "Observation.subject"),
        ({"effectiveDateTime": "2999-01-01T00:00:00Z"}, "Observation.effectiveDateTime"),
        ({"interpretation": [{"text": "high"}]}, "Observation.interpretation"),
    ],
)
def test_invalid_observation_is_422_naming_the_path(fhir, patient, over, path):
    status, body, _ = fhir("POST", "/fhir/Observation", body=observation_json(patient, **over))
    assert status == 422, body
    assert path in [e for issue in body["issue"] for e in issue.get("expression", [])], body
    assert not patient.observations.exists()


def test_observation_for_another_clinics_patient_is_refused(fhir, token, patient):
    status, body, _ = fhir(
        "POST", "/fhir/Observation", secret=token(clinic_index=1), body=observation_json(patient)
    )
    assert status == 422 and body["issue"][0]["expression"] == ["Observation.subject"]
    assert not patient.observations.exists()


def condition_json(patient, **over) -> dict:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": S.CONDITION_CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": S.CONDITION_VER, "code": "confirmed"}]},
        "category": [{"coding": [{"system": S.CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
        "code": {
            "coding": [
                {"system": S.CONDITION, "code": "acne_vulgaris"},
                {"system": S.ICD10, "code": "L70.0", "display": "Acne vulgaris"},
            ]
        },
        "subject": {"reference": f"Patient/{patient.pk}"},
        "onsetDateTime": "2024-03-01",
        **over,
    }


def test_create_condition(fhir, patient):
    status, body, response = fhir("POST", "/fhir/Condition", body=condition_json(patient))
    assert status == 201, body
    stored = patient.conditions.get()
    assert (stored.category, stored.code, stored.icd10, stored.text) == (
        "diagnosis",
        "acne_vulgaris",
        "L70.0",
        "Acne vulgaris",
    )
    assert stored.onset_date.isoformat() == "2024-03-01" and stored.clinical_status == "active"
    assert response["Location"].endswith(f"/fhir/Condition/{stored.pk}/_history/1")
    assert body["id"] == str(stored.pk) and body["code"]["text"] == "Acne vulgaris"
    # A history item with text only (no code) is what a referral letter usually gives.
    history = {
        "category": [{"coding": [{"system": S.CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": {"text": "Migraine"},
        "clinicalStatus": {"coding": [{"system": S.CONDITION_CLINICAL, "code": "resolved"}]},
    }
    status, body, _ = fhir("POST", "/fhir/Condition", body=condition_json(patient, **history))
    assert status == 201, body
    assert patient.conditions.filter(category="history", text="Migraine", clinical_status="resolved").exists()


@pytest.mark.parametrize(
    ("over", "path"),
    [
        (
            {"clinicalStatus": {"coding": [{"system": S.CONDITION_CLINICAL, "code": "bogus"}]}},
            "Condition.clinicalStatus.coding[0].code",
        ),
        (
            {"clinicalStatus": {"coding": [{"system": S.CONDITION_CLINICAL, "code": "remission"}]}},
            "Condition.clinicalStatus",
        ),
        (
            {"verificationStatus": {"coding": [{"system": S.CONDITION_VER, "code": "provisional"}]}},
            "Condition.verificationStatus",
        ),
        (
            {"category": [{"coding": [{"system": S.CONDITION_CATEGORY, "code": "health-concern"}]}]},
            "Condition.category[0].coding[0].code",
        ),
        (
            {"code": {"coding": [{"system": S.CONDITION, "code": "banana", "display": "Banana"}]}},
            "Condition.code.coding",
        ),
        ({"code": {"coding": [{"system": S.ICD10, "code": "L70.0"}]}}, "Condition.code"),
        ({"subject": {"reference": "Group/aaa"}}, "Condition.subject"),
        ({"onsetDateTime": "2999-01-01"}, "Condition.onsetDateTime"),
        ({"onsetDateTime": "1900-01-01"}, "Condition.onsetDateTime"),
        ({"bodySite": [{"text": "scalp"}]}, "Condition.bodySite"),
    ],
)
def test_invalid_condition_is_422_naming_the_path(fhir, patient, over, path):
    status, body, _ = fhir("POST", "/fhir/Condition", body=condition_json(patient, **over))
    assert status == 422, body
    assert path in [e for issue in body["issue"] for e in issue.get("expression", [])], body
    assert not patient.conditions.exists()


def test_condition_needs_write_scope_and_the_clinics_patient(fhir, token, patient):
    status, _body, _ = fhir(
        "POST", "/fhir/Condition", secret=token(scopes=("read",)), body=condition_json(patient)
    )
    assert status == 403
    status, body, _ = fhir(
        "POST", "/fhir/Condition", secret=token(clinic_index=1), body=condition_json(patient)
    )
    assert status == 422 and body["issue"][0]["expression"] == ["Condition.subject"]
    assert not patient.conditions.exists()
    status, _body, response = fhir("PUT", "/fhir/Condition/1", body=condition_json(patient))
    assert status == 405 and response["Allow"] == "GET"


def test_meta_version_follows_history(fhir, physician, patient):
    patient_update(actor=physician, patient=patient, data={"phone": "+90 532 000 00 00"})
    _, body, response = fhir("GET", f"/fhir/Patient/{patient.pk}")
    assert body["meta"]["versionId"] == "2" and response["ETag"] == 'W/"2"'
    assert body["telecom"] == [{"system": "phone", "value": "+90 532 000 00 00"}]
    patient_create(
        actor=physician,
        data=dict(given_name="A", family_name="B", sex_at_birth="male", birth_date="1980-01-01"),
    )
    _, body, _ = fhir("GET", "/fhir/Patient?_count=1")
    assert body["total"] == 2 and len(body["entry"]) == 1
