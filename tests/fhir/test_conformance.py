"""FHIR R4 conformance of the HTTP layer (issue 13 §5): search semantics (token `system|`, Patient
identifier/name/family/birthdate, POST _search, _include/_revinclude, _summary=count), conditional
requests (If-Match 412, If-None-Exist, If-None-Match / If-Modified-Since 304, Last-Modified), media types
(400 malformed JSON, 415, 406) and an OperationOutcome for every path or method we do not serve.

Each test checks one behaviour a FHIR client relies on; each fails if that behaviour breaks."""

import datetime as dt
import json
import os
import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from dermatox.assessments.services import observation_record
from dermatox.audit.models import AuditEntry
from dermatox.fhir import systems as S
from dermatox.patients.models import Patient
from dermatox.patients.services import (
    condition_add,
    identifier_add,
    patient_create,
    patient_update,
    record_mark_entered_in_error,
)

from .conftest import ago
from .test_api import observation_json, patient_json

pytestmark = pytest.mark.django_db


def ids(bundle):
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def included(bundle):
    return sorted(
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle.get("entry", [])
        if e["search"]["mode"] == "include"
    )


def auth(token_secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_secret}"}


def is_outcome(response, status):
    """The response is an OperationOutcome (parsed by the R4B model) with this status, never a page."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/fhir+json"), response.content[:200]
    return OperationOutcome.model_validate_json(response.content)


def make_patient(actor, given, family, birth_date="1980-01-01", identifiers=()):
    return patient_create(
        actor=actor,
        data={"given_name": given, "family_name": family, "sex_at_birth": "female", "birth_date": birth_date},
        identifiers=list(identifiers),
    )


# --- search: tokens ----------------------------------------------------------------------------------


def test_code_with_a_system_and_no_code_is_any_code_of_that_system(fhir, physician, patient):
    """`code=http://loinc.org|` answered the complement (the records without LOINC)."""
    with_loinc = observation_record(
        actor=physician, patient=patient, code="ferritin", value=30, unit="ng/mL", effective_at=ago(days=1)
    )
    without = observation_record(
        actor=physician, patient=patient, code="daily_shedding", value=100, effective_at=ago(days=2)
    )
    assert with_loinc.loinc and not without.loinc
    _, body, _ = fhir("GET", f"/fhir/Observation?code={S.LOINC}|")
    assert ids(body) == [str(with_loinc.pk)]
    _, body, _ = fhir("GET", f"/fhir/Observation?code={S.OBSERVATION}|")
    assert sorted(ids(body)) == sorted([str(with_loinc.pk), str(without.pk)])
    _, body, _ = fhir("GET", "/fhir/Observation?code=http://example.org|")
    assert body["total"] == 0
    acne = condition_add(
        actor=physician, patient=patient, data={"category": "diagnosis", "text": "Acne", "icd10": "L70.0"}
    )
    condition_add(actor=physician, patient=patient, data={"category": "history", "text": "Migraine"})
    _, body, _ = fhir("GET", f"/fhir/Condition?code={S.ICD10}|")
    assert ids(body) == [str(acne.pk)]


@pytest.mark.parametrize("query", ["code=", "code=|", "code=,", "identifier=", "name=", "family=%20"])
def test_an_empty_token_or_string_is_a_400_naming_the_parameter(fhir, query):
    type_name = "Observation" if query.startswith("code") else "Patient"
    status, body, response = fhir("GET", f"/fhir/{type_name}?{query}")
    OperationOutcome.model_validate_json(response.content)
    assert status == 400 and body["issue"][0]["expression"] == [query.split("=")[0]], body


# --- search: Patient ---------------------------------------------------------------------------------


def test_patient_search_by_identifier_mrn_and_our_identifier_types(fhir, physician, patient, clinics):
    other = make_patient(physician, "Can", "Yılmaz", identifiers=[("passport", "U1234567")])
    mrn_system = f"{S.MRN}/{clinics[0].code}"
    _, body, _ = fhir("GET", f"/fhir/Patient?identifier={mrn_system}|{patient.mrn}")
    assert ids(body) == [str(patient.pk)]
    _, body, _ = fhir("GET", f"/fhir/Patient?identifier={patient.mrn}")  # bare value: any system
    assert ids(body) == [str(patient.pk)]
    _, body, _ = fhir("GET", f"/fhir/Patient?identifier={S.IDENTIFIER}/national_id|12345678901")
    assert ids(body) == [str(patient.pk)]
    _, body, _ = fhir("GET", "/fhir/Patient?identifier=U1234567")
    assert ids(body) == [str(other.pk)]
    _, body, _ = fhir("GET", f"/fhir/Patient?identifier={S.IDENTIFIER}/passport|")  # any passport
    assert ids(body) == [str(other.pk)]
    _, body, _ = fhir("GET", f"/fhir/Patient?identifier={patient.mrn},U1234567")  # comma: OR
    assert body["total"] == 2
    # The value under another system, another clinic's record numbers, an unknown value: nothing.
    for query in (
        f"{S.IDENTIFIER}/passport|12345678901",
        f"{S.MRN}/{clinics[1].code}|{patient.mrn}",
        "http://example.org/mrn|" + patient.mrn,
        "99999999999",
    ):
        _, body, _ = fhir("GET", f"/fhir/Patient?identifier={query}")
        assert body["total"] == 0, query


def test_an_identifier_entered_in_error_no_longer_matches(fhir, physician):
    someone = make_patient(physician, "Ece", "Kaya")
    wrong = identifier_add(actor=physician, patient=someone, system="insurance", value="INS-9")
    _, body, _ = fhir("GET", "/fhir/Patient?identifier=INS-9")
    assert ids(body) == [str(someone.pk)]
    record_mark_entered_in_error(actor=physician, record=wrong, reason="typo")
    _, body, _ = fhir("GET", "/fhir/Patient?identifier=INS-9")
    assert body["total"] == 0


def test_another_clinics_patient_is_not_found_by_identifier_or_name(fhir, token, patient):
    other = token(clinic_index=1)
    for query in (f"identifier={patient.mrn}", "identifier=12345678901", "name=ipek", "family=sahin"):
        status, body, _ = fhir("GET", f"/fhir/Patient?{query}", secret=other)
        assert status == 200 and body["total"] == 0, query


def test_name_and_family_are_starts_with_case_and_accent_insensitive(fhir, physician, patient):
    """The fixture patient is İpek Şahin."""
    anna = make_patient(physician, "Anna Maria", "Van Dyke")
    for query in ("family=sahin", "family=ŞAH", "family=Şahin", "name=ipek", "name=IPEK", "name=şa"):
        _, body, _ = fhir("GET", f"/fhir/Patient?{query}")
        assert ids(body) == [str(patient.pk)], query
    for query in ("family=ahin", "name=pek", "family=ipek", "family=sahinoglu"):
        _, body, _ = fhir("GET", f"/fhir/Patient?{query}")
        assert body["total"] == 0, query  # starts-with, not contains; family is the family name only
    # A second given name or a second word of the family name is a name part, but not the family's start.
    _, body, _ = fhir("GET", "/fhir/Patient?name=maria")
    assert ids(body) == [str(anna.pk)]
    _, body, _ = fhir("GET", "/fhir/Patient?name=dyke")
    assert ids(body) == [str(anna.pk)]
    for query in ("family=maria", "family=dyke"):
        _, body, _ = fhir("GET", f"/fhir/Patient?{query}")
        assert body["total"] == 0, query
    _, body, _ = fhir("GET", "/fhir/Patient?family=van%20d")
    assert ids(body) == [str(anna.pk)]
    _, body, _ = fhir("GET", "/fhir/Patient?family=van&name=anna")  # AND
    assert ids(body) == [str(anna.pk)]
    _, body, _ = fhir("GET", "/fhir/Patient?family=van,sahin")  # OR
    assert body["total"] == 2


def test_birthdate_prefixes_and_partial_dates(fhir, physician, patient):
    """The fixture patient was born 1990-04-02."""
    make_patient(physician, "Older", "Person", birth_date="1970-06-15")
    cases = {
        "1990": [patient],
        "1990-04": [patient],
        "1990-04-02": [patient],
        "eq1990-04-02": [patient],
        "1990-04-03": [],
        "ge1990-04-02": [patient],
        "gt1990-04-02": [],
        "gt1990-04-01": [patient],
        "le1970-06-15": ["older"],
        "lt1970-06-15": [],
        "lt1990": ["older"],
        "ge1970-06": ["older", patient],
    }
    for value, expected in cases.items():
        _, body, _ = fhir("GET", f"/fhir/Patient?birthdate={value}")
        assert body["total"] == len(expected), value
        if patient in expected:
            assert str(patient.pk) in ids(body), value
    _, body, _ = fhir("GET", "/fhir/Patient?birthdate=ge1980&birthdate=lt1991")  # AND
    assert ids(body) == [str(patient.pk)]
    status, body, _ = fhir("GET", "/fhir/Patient?birthdate=ap1990")
    assert status == 400 and body["issue"][0]["expression"] == ["birthdate"]


def test_patient_search_names_the_patients_disclosed_in_the_audit(fhir, patient):
    fhir("GET", f"/fhir/Patient?identifier={patient.mrn}")
    entry = AuditEntry.objects.filter(action="fhir.search").latest("seq")
    assert entry.patient_id == patient.pk and entry.detail["patient_ids"] == [str(patient.pk)]


def test_the_capability_statement_tells_the_truth(fhir):
    _, _, response = fhir("GET", "/fhir/metadata", secret=None)
    cs = CapabilityStatement.model_validate_json(response.content)
    by_type = {r.type: r for r in cs.rest[0].resource}
    patient = by_type["Patient"]
    assert {p.name: p.type for p in patient.searchParam} == {
        "_id": "token",
        "_lastUpdated": "date",
        "identifier": "token",
        "name": "string",
        "family": "string",
        "birthdate": "date",
    }
    assert patient.conditionalCreate is True and patient.conditionalUpdate is False
    assert patient.conditionalRead == "full-support" and patient.versioning == "versioned-update"
    assert set(patient.searchRevInclude) >= {
        "Observation:patient",
        "Observation:subject",
        "Condition:subject",
    }
    assert by_type["Observation"].searchInclude == ["Observation:patient", "Observation:subject"]
    assert by_type["Observation"].conditionalCreate is True
    assert by_type["Procedure"].conditionalCreate is False
    assert "_search" in cs.rest[0].documentation and "_summary=count" in cs.rest[0].documentation


# --- search: POST _search, _summary=count, _include / _revinclude -------------------------------------


def test_post_search_takes_form_parameters_like_a_get(client, token, physician, patient):
    secret = token(scopes=("read",))  # a search is a read, whatever the method
    make_patient(physician, "Other", "Person")
    response = client.post(
        "/fhir/Patient/_search",
        "family=sahin",
        content_type="application/x-www-form-urlencoded",
        **auth(secret),
    )
    assert response.status_code == 200, response.content[:300]
    body = Bundle.model_validate_json(response.content)
    assert body.total == 1 and body.entry[0].resource.id == str(patient.pk)
    # URL and body parameters combine (AND).
    response = client.post("/fhir/Patient/_search?birthdate=1970", {"family": "sahin"}, **auth(secret))
    assert response.json()["total"] == 0
    response = client.post("/fhir/Patient/_search", {"colour": "blue"}, **auth(secret))
    assert is_outcome(response, 400).issue[0].expression == ["colour"]
    response = client.post(
        "/fhir/Patient/_search", json.dumps({"family": "x"}), content_type="application/json", **auth(secret)
    )
    is_outcome(response, 415)
    response = client.get("/fhir/Patient/_search", **auth(secret))
    assert is_outcome(response, 405) and response["Allow"] == "POST"
    assert AuditEntry.objects.filter(action="fhir.search", patient_id=patient.pk).exists()


def test_summary_count_answers_the_total_only(fhir, obs_three, patient):
    status, body, response = fhir("GET", f"/fhir/Observation?patient={patient.pk}&_summary=count")
    Bundle.model_validate_json(response.content)
    assert status == 200 and body["type"] == "searchset" and body["total"] == 3
    assert "entry" not in body and [link["relation"] for link in body["link"]] == ["self"]
    entry = AuditEntry.objects.filter(action="fhir.search").latest("seq")
    assert entry.patient_id == patient.pk and entry.detail["total"] == 3  # a count about one patient
    status, body, _ = fhir("GET", "/fhir/Observation?_summary=true")
    assert status == 400 and body["issue"][0]["expression"] == ["_summary"]


@pytest.fixture
def obs_three(physician, patient):
    return [
        observation_record(
            actor=physician, patient=patient, code="daily_shedding", value=i, effective_at=ago(days=i + 1)
        )
        for i in range(3)
    ]


def test_include_adds_the_patients_the_page_refers_to(fhir, physician, patient, obs_three):
    other = make_patient(physician, "Can", "Yılmaz")
    observation_record(
        actor=physician, patient=other, code="daily_shedding", value=5, effective_at=ago(days=9)
    )
    for include in ("Observation:patient", "Observation:subject", "Observation:subject:Patient", "*"):
        _, body, response = fhir("GET", f"/fhir/Observation?patient={patient.pk}&_include={include}")
        Bundle.model_validate_json(response.content)
        assert len(ids(body)) == 3 and included(body) == [f"Patient/{patient.pk}"], include
        assert body["total"] == 3  # total counts matches only
    _, body, _ = fhir("GET", "/fhir/Observation?_include=Observation:patient")
    assert included(body) == sorted([f"Patient/{patient.pk}", f"Patient/{other.pk}"])
    entry = AuditEntry.objects.filter(action="fhir.search").latest("seq")
    assert entry.detail["patient_ids"] == sorted([str(patient.pk), str(other.pk)])
    for bad in ("Observation:performer", "Condition:subject", "Observation:subject:Group", "Patient:link"):
        status, body, _ = fhir("GET", f"/fhir/Observation?_include={bad}")
        assert status == 400 and body["issue"][0]["expression"] == ["_include"], bad


def test_revinclude_adds_the_records_that_refer_to_the_patients(fhir, physician, patient, obs_three):
    condition = condition_add(
        actor=physician, patient=patient, data={"category": "history", "text": "Migraine"}
    )
    withdrawn = observation_record(
        actor=physician, patient=patient, code="daily_shedding", value=9, effective_at=ago(days=20)
    )
    record_mark_entered_in_error(actor=physician, record=withdrawn, reason="wrong patient")
    _, body, response = fhir("GET", f"/fhir/Patient?_id={patient.pk}&_revinclude=Observation:subject")
    Bundle.model_validate_json(response.content)
    assert ids(body) == [str(patient.pk)] and body["total"] == 1
    assert included(body) == sorted(f"Observation/{o.pk}" for o in obs_three)  # as a search finds them
    _, body, _ = fhir(
        "GET", f"/fhir/Patient?_id={patient.pk}&_revinclude=Observation:patient&_revinclude=Condition:subject"
    )
    assert f"Condition/{condition.pk}" in included(body) and len(included(body)) == 4
    status, body, _ = fhir("GET", "/fhir/Observation?_revinclude=Observation:patient")
    assert status == 400 and body["issue"][0]["expression"] == ["_revinclude"]


def test_revinclude_needs_the_role_to_read_the_included_type(fhir, token, patient, obs_three):
    front_desk = token(role="front_desk")
    status, _, _ = fhir("GET", "/fhir/Patient?_revinclude=Observation:patient", secret=front_desk)
    assert status == 403
    # `*`: the types the role may read (a front desk token: appointments only, none here).
    status, body, _ = fhir("GET", "/fhir/Patient?_revinclude=*", secret=front_desk)
    assert status == 200 and ids(body) == [str(patient.pk)] and included(body) == []
    status, body, _ = fhir("GET", "/fhir/Patient?_revinclude=*")  # a physician: no AuditEvent, yet no 403
    assert status == 200 and included(body) == sorted(f"Observation/{o.pk}" for o in obs_three)


# --- writes: If-Match, If-None-Exist, media types ----------------------------------------------------


def test_a_stale_if_match_update_is_412_and_writes_nothing(fhir, client, token, patient, physician):
    secret = token()
    path = f"/fhir/Patient/{patient.pk}"
    _, _, first = fhir("GET", path)
    etag = first["ETag"]
    assert etag == 'W/"1"'
    patient_update(actor=physician, patient=patient, data={"phone": "+90 532 000 00 01"})  # someone else
    stale = client.put(
        path,
        json.dumps(patient_json(patient.pk, birthDate="1990-04-03")),
        content_type="application/fhir+json",
        HTTP_IF_MATCH=etag,
        **auth(secret),
    )
    outcome = is_outcome(stale, 412)
    assert outcome.issue[0].expression == ["If-Match"] and "version 2" in outcome.issue[0].diagnostics
    patient.refresh_from_db()
    assert patient.birth_date == dt.date(1990, 4, 2) and patient.history.count() == 2
    fresh = client.put(
        path,
        json.dumps(patient_json(patient.pk, birthDate="1990-04-03")),
        content_type="application/fhir+json",
        HTTP_IF_MATCH='W/"2"',
        **auth(secret),
    )
    assert fresh.status_code == 200 and fresh["ETag"] == 'W/"3"', fresh.content[:300]
    for header, status in (("*", 200), ("2", 400), ('W/"9", W/"3"', 200)):
        response = client.put(
            path,
            json.dumps(patient_json(patient.pk, birthDate="1990-04-03")),
            content_type="application/fhir+json",
            HTTP_IF_MATCH=header,
            **auth(secret),
        )
        assert response.status_code == status, (header, response.content[:300])


def test_if_none_exist_creates_once_answers_the_match_and_refuses_an_ambiguous_one(client, token, physician):
    secret = token()
    body = json.dumps(patient_json())

    def post(criteria):
        return client.post(
            "/fhir/Patient",
            body,
            content_type="application/fhir+json",
            HTTP_IF_NONE_EXIST=criteria,
            **auth(secret),
        )

    created = post("family=Brown&birthdate=1985-06-01")
    assert created.status_code == 201, created.content[:300]
    again = post("family=Brown&birthdate=1985-06-01")
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert again["ETag"] == 'W/"1"' and again["Location"].endswith(
        f"/Patient/{created.json()['id']}/_history/1"
    )
    assert Patient.objects.filter(family_name="Brown").count() == 1
    mrn = Patient.objects.get(family_name="Brown").mrn
    assert post(f"identifier={mrn}").status_code == 200
    make_patient(physician, "Bea", "Brown")
    ambiguous = post("family=Brown")
    assert is_outcome(ambiguous, 412).issue[0].expression == ["If-None-Exist"]
    assert Patient.objects.filter(family_name="Brown").count() == 2
    assert is_outcome(post("colour=blue"), 400).issue[0].expression == ["If-None-Exist"]
    assert is_outcome(post(""), 400).issue[0].expression == ["If-None-Exist"]


def test_if_none_exist_on_observation(client, token, patient):
    secret = token()
    body = json.dumps(observation_json(patient))
    criteria = f"patient={patient.pk}&code={S.LOINC}|2276-4&date=2025-01-10"
    kwargs = dict(content_type="application/fhir+json", HTTP_IF_NONE_EXIST=criteria, **auth(secret))
    assert client.post("/fhir/Observation", body, **kwargs).status_code == 201
    assert client.post("/fhir/Observation", body, **kwargs).status_code == 200
    assert patient.observations.count() == 1


@pytest.mark.parametrize(
    "body", [b"{not json", b"{}", b"[1, 2]", b'"Patient"', b'{"resourceType": "Observation"}']
)
def test_malformed_json_or_the_wrong_resource_is_400(client, token, body):
    response = client.post("/fhir/Patient", body, content_type="application/fhir+json", **auth(token()))
    is_outcome(response, 400)
    assert not Patient.objects.filter(family_name="Brown").exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/fhir/Patient"), ("post", "/fhir/Observation"), ("put", "/fhir/Patient/{pid}")],
)
@pytest.mark.parametrize(
    "content_type", ["application/fhir+xml", "text/plain", "application/x-www-form-urlencoded"]
)
def test_an_unsupported_content_type_is_415(client, token, patient, method, path, content_type):
    before = Patient.objects.count()
    body = json.dumps(patient_json(patient.pk))
    response = getattr(client, method)(
        path.format(pid=patient.pk), body, content_type=content_type, **auth(token())
    )
    assert is_outcome(response, 415).issue[0].expression == ["Content-Type"]
    assert Patient.objects.count() == before and patient.history.count() == 1


def test_json_content_types_are_all_accepted(client, token):
    for content_type in ("application/fhir+json", "application/json", "application/fhir+json; charset=utf-8"):
        response = client.post(
            "/fhir/Patient", json.dumps(patient_json()), content_type=content_type, **auth(token())
        )
        assert response.status_code == 201, (content_type, response.content[:300])


# --- content negotiation -----------------------------------------------------------------------------


def test_xml_is_406_on_every_path(client, token, patient):
    secret = token()
    paths = [
        "/fhir/metadata",
        f"/fhir/Patient/{patient.pk}",
        "/fhir/Patient",
        f"/fhir/Patient/{patient.pk}/_history",
        f"/fhir/Patient/{patient.pk}/_history/1",
        "/fhir/Observation/1/_history",
        "/fhir/Group",
        f"/fhir/Group/{patient.clinic.code}",
        "/fhir",
        "/fhir/",
    ]
    for path in paths:
        for ask in ({"data": {"_format": "xml"}}, {"HTTP_ACCEPT": "application/fhir+xml"}):
            response = client.get(path, **ask, **auth(secret))
            is_outcome(response, 406)
    response = client.post(
        "/fhir/Patient?_format=xml",
        json.dumps(patient_json()),
        content_type="application/fhir+json",
        **auth(secret),
    )
    is_outcome(response, 406)
    assert not Patient.objects.filter(family_name="Brown").exists()
    response = client.get(
        f"/fhir/Patient/{patient.pk}", HTTP_ACCEPT="application/xml, text/xml", **auth(secret)
    )
    is_outcome(response, 406)


@pytest.mark.parametrize(
    "accept",
    [
        "application/fhir+json",
        "application/json",
        "*/*",
        "text/html,application/xhtml+xml,*/*;q=0.8",
        "application/*",
    ],
)
def test_json_and_wildcards_are_acceptable(client, token, patient, accept):
    response = client.get(f"/fhir/Patient/{patient.pk}", HTTP_ACCEPT=accept, **auth(token()))
    assert response.status_code == 200 and response.json()["id"] == str(patient.pk)
    response = client.get("/fhir/Patient?_format=json", **auth(token()))
    assert response.status_code == 200


def test_accept_with_json_refused_by_quality_zero_is_406(client, token, patient):
    response = client.get(
        f"/fhir/Patient/{patient.pk}",
        HTTP_ACCEPT="application/fhir+json;q=0, application/fhir+xml",
        **auth(token()),
    )
    is_outcome(response, 406)


# --- conditional read ---------------------------------------------------------------------------------


def test_read_has_last_modified_and_answers_304_when_unchanged(client, token, patient, physician):
    secret = token()
    path = f"/fhir/Patient/{patient.pk}"
    first = client.get(path, **auth(secret))
    assert first.status_code == 200 and first["ETag"] == 'W/"1"'
    last_modified = first["Last-Modified"]
    assert last_modified == http_date(int(patient.history.latest("history_date").history_date.timestamp()))
    same = client.get(path, HTTP_IF_NONE_MATCH='W/"1"', **auth(secret))
    assert same.status_code == 304 and same.content == b"" and same["ETag"] == 'W/"1"'
    assert client.get(path, HTTP_IF_MODIFIED_SINCE=last_modified, **auth(secret)).status_code == 304
    earlier = http_date((timezone.now() - dt.timedelta(days=1)).timestamp())
    assert client.get(path, HTTP_IF_MODIFIED_SINCE=earlier, **auth(secret)).status_code == 200
    assert AuditEntry.objects.filter(action="fhir.read", object_id=str(patient.pk)).count() == 4  # 304s too
    patient_update(actor=physician, patient=patient, data={"phone": "+90 532 000 00 02"})
    changed = client.get(path, HTTP_IF_NONE_MATCH='W/"1"', **auth(secret))
    assert changed.status_code == 200 and changed["ETag"] == 'W/"2"'
    # If-None-Match wins over If-Modified-Since (RFC 9110): a stale tag is a 200 whatever the date.
    stale = client.get(path, HTTP_IF_NONE_MATCH='W/"1"', HTTP_IF_MODIFIED_SINCE=http_date(), **auth(secret))
    assert stale.status_code == 200
    assert client.get(path, HTTP_IF_NONE_MATCH="*", **auth(secret)).status_code == 304
    assert client.get(path, HTTP_IF_MODIFIED_SINCE="yesterday", **auth(secret)).status_code == 200


def test_conditional_read_of_observations_and_versions(client, token, patient, obs_three):
    secret = token()
    path = f"/fhir/Observation/{obs_three[0].pk}"
    first = client.get(path, **auth(secret))
    assert first["ETag"] == 'W/"1"' and first["Last-Modified"]
    assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"], **auth(secret)).status_code == 304
    vread = client.get(f"/fhir/Patient/{patient.pk}/_history/1", HTTP_IF_NONE_MATCH='W/"1"', **auth(secret))
    assert vread.status_code == 304


def test_a_304_needs_a_token_and_the_clinic(client, token, patient):
    path = f"/fhir/Patient/{patient.pk}"
    assert client.get(path, HTTP_IF_NONE_MATCH="*").status_code == 401
    other = client.get(path, HTTP_IF_NONE_MATCH="*", **auth(token(clinic_index=1)))
    assert other.status_code == 404


# --- every path and method: an OperationOutcome ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/fhir/Observation/1/_history", 404),
        ("get", "/fhir/Observation/1/_history/1", 404),
        ("get", "/fhir/Patient/{pid}/$everything", 404),
        ("post", "/fhir/Patient/{pid}/$everything", 404),
        ("get", "/fhir/Patient/$everything", 404),
        ("post", "/fhir", 405),
        ("post", "/fhir/", 405),
        ("get", "/fhir", 405),
        ("delete", "/fhir/Patient/{pid}", 405),
        ("patch", "/fhir/Patient/{pid}", 405),
        ("get", "/fhir/Medication/1/_history", 404),
        ("get", "/fhir/Patient/", 404),
        ("get", "/fhir/a/b/c/d", 404),
        ("put", "/fhir/metadata", 405),
    ],
)
def test_unknown_paths_and_methods_answer_an_operation_outcome(client, token, patient, method, path, status):
    response = getattr(client, method)(path.format(pid=patient.pk), **auth(token()))
    is_outcome(response, status)
    assert b"<html" not in response.content.lower()


def test_includes_take_a_fixed_number_of_queries_whatever_the_page(client, token, physician):
    for i in range(6):
        someone = make_patient(physician, f"Given{i}", f"Family{i}")
        for j in range(2):
            observation_record(
                actor=physician, patient=someone, code="daily_shedding", value=j, effective_at=ago(days=j + 1)
            )
    headers = auth(token())
    client.get("/fhir/Patient?_count=1", **headers)  # first use writes the token's last_used_at
    counts = {}
    for count in (2, 6):
        with CaptureQueriesContext(connection) as forward:
            client.get(f"/fhir/Observation?_count={count}&_include=Observation:patient", **headers)
        with CaptureQueriesContext(connection) as backward:
            response = client.get(f"/fhir/Patient?_count={count}&_revinclude=Observation:subject", **headers)
        assert len(included(response.json())) == 2 * count
        counts[count] = (len(forward), len(backward))
    assert counts[2] == counts[6], counts


POSTGRES = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs concurrent transactions (PostgreSQL); SQLite's IMMEDIATE transactions serialise writers",
)


def race(*requests) -> list[int]:
    """Send the requests (callables taking a Client) at the same moment from threads, each with its own
    database connection; their statuses, sorted."""
    barrier, statuses = threading.Barrier(len(requests)), []

    def send(request):
        try:
            barrier.wait()
            statuses.append(request(Client()).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


@POSTGRES
@pytest.mark.django_db(transaction=True)
def test_concurrent_conditional_creates_make_one_record(token):
    """The clinic row lock makes the second wait, then find the first one's record."""
    secret = token()

    def create(client):
        return client.post(
            "/fhir/Patient",
            json.dumps(patient_json()),
            content_type="application/fhir+json",
            HTTP_IF_NONE_EXIST="family=Brown&birthdate=1985-06-01",
            **auth(secret),
        )

    assert race(create, create) == [200, 201]
    assert Patient.objects.filter(family_name="Brown").count() == 1


@POSTGRES
@pytest.mark.django_db(transaction=True)
def test_concurrent_if_match_updates_one_wins(token, patient):
    """Two clients that read version 1 update at once: the patient row lock gives one 200, the other 412."""
    secret = token()

    def update(birth_date):
        return lambda client: client.put(
            f"/fhir/Patient/{patient.pk}",
            json.dumps(patient_json(patient.pk, birthDate=birth_date)),
            content_type="application/fhir+json",
            HTTP_IF_MATCH='W/"1"',
            **auth(secret),
        )

    assert race(update("1985-06-02"), update("1985-06-03")) == [200, 412]
    assert patient.history.count() == 2
