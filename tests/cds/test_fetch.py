"""A prefetch key the EHR left out, fetched from our own FHIR API (fhirServer is this server, the access
token a Dermatox API token): through our selectors, as that token, audited; anything else is 412."""

from __future__ import annotations

import json
import uuid

import pytest

from dermatox.assessments.services import observation_record
from dermatox.audit.models import AuditEntry
from dermatox.patients.services import condition_add, patient_create
from tests.fhir import conftest as fhir_fixtures
from tests.fhir.conftest import ago

token = fhir_fixtures.token  # make(role=, scopes=, clinic_index=) -> an API token's secret
pytestmark = pytest.mark.django_db
PV = "/cds-services/dermatox-patient-view"
OURS = "http://testserver/fhir"


@pytest.fixture
def man_with_aga(physician):
    man = patient_create(
        actor=physician,
        data={"given_name": "Ali", "family_name": "Kaya", "sex_at_birth": "male", "birth_date": "1992-05-06"},
    )
    condition_add(
        actor=physician,
        patient=man,
        data={"category": "diagnosis", "code": "androgenetic_alopecia", "text": "AGA", "icd10": "L64.9"},
    )
    observation_record(actor=physician, patient=man, code="daily_shedding", value=150, effective_at=ago(2))
    return man


def hook(patient_id, *, server=OURS, secret=None, prefetch=None) -> str:
    body = {
        "hookInstance": str(uuid.uuid4()),
        "hook": "patient-view",
        "fhirServer": server,
        "context": {"userId": "Practitioner/x", "patientId": str(patient_id)},
    }
    if secret is not None:
        body["fhirAuthorization"] = {"access_token": secret, "token_type": "Bearer", "expires_in": 300}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return json.dumps(body)


def test_without_prefetch_our_own_server_is_read_as_the_token(client, token, man_with_aga):
    secret = token(role="physician", scopes=("read",))
    response = client.post(PV, data=hook(man_with_aga.pk, secret=secret), content_type="application/json")
    assert response.status_code == 200, response.content
    cards = response.json()["cards"]
    minoxidil = [c for c in cards if c["source"].get("topic", {}).get("code") == "minoxidil_topical"]
    assert minoxidil and minoxidil[0]["indicator"] == "info"  # from our Condition and Observation
    data = next(c for c in cards if c["summary"].startswith("Dermatox data check"))
    assert (
        "prefetch.medications: could not be fetched (This FHIR server has no MedicationStatement"
        in (data["detail"])
    )
    entry = AuditEntry.objects.get(action="cds.prefetch")
    assert entry.patient_id == man_with_aga.pk and entry.detail["counts"]["conditions"] == 1
    assert sorted(entry.detail["keys"]) == sorted(
        ["administrations", "conditions", "medications", "observations", "patient"]
    )


def test_only_the_missing_keys_are_fetched(client, token, man_with_aga):
    """The EHR sent the patient and null conditions ("none"): those stand; the rest is fetched."""
    secret = token(role="physician", scopes=("read",))
    sent = {
        "patient": {
            "resourceType": "Patient",
            "id": str(man_with_aga.pk),
            "gender": "male",
            "birthDate": "1992-05-06",
        },
        "conditions": None,
    }
    response = client.post(
        PV, data=hook(man_with_aga.pk, secret=secret, prefetch=sent), content_type="application/json"
    )
    assert response.status_code == 200
    cards = response.json()["cards"]
    assert not any(c["source"].get("topic", {}).get("code") == "minoxidil_topical" for c in cards)  # no AGA
    keys = AuditEntry.objects.get(action="cds.prefetch").detail["keys"]
    assert sorted(keys) == ["administrations", "medications", "observations"]


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("foreign server", "fhirServer"),
        ("no such token", "fhirAuthorization"),
        ("token without read", "fhirAuthorization"),
        ("another clinic's token", "context.patientId"),
        ("unknown patient", "context.patientId"),
    ],
)
def test_what_cannot_be_fetched_is_412_and_nothing_is_read(client, token, man_with_aga, case, needle):
    secret = token(role="physician", scopes=("read",))
    patient_id, server = man_with_aga.pk, OURS
    if case == "foreign server":
        server = "https://ehr.example.org/fhir"
    elif case == "no such token":
        secret = "dx_not-a-token"
    elif case == "token without read":
        secret = token(role="physician", scopes=("export",))
    elif case == "another clinic's token":
        secret = token(role="physician", scopes=("read",), clinic_index=1)
    else:
        patient_id = uuid.uuid4()
    response = client.post(
        PV, data=hook(patient_id, server=server, secret=secret), content_type="application/json"
    )
    assert response.status_code == 412, response.content
    assert response.json()["message"].startswith(needle)
    assert "Kaya" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="cds.prefetch").exists()
