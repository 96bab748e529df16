"""Withdrawn means withdrawn everywhere: every reader of a signed toxin session, an observation, a diagnosis
and a consent marked entered in error treats it alike — the chart and its pages, REST, FHIR read, search and
bulk export, the case builder (pathways, plan check), CDS prefetch, outcome plots and cohort figures, CSV
export and lot recall (which errs toward including: listed, marked).

Each reader is first shown to see the record while it is current, so a check cannot pass by never having
looked at the right place."""

import json

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import api_token_create
from dermatox.assessments.services import observation_record
from dermatox.bulk.models import BulkExportJob
from dermatox.bulk.services import export_run
from dermatox.cds.prefetch import map_prefetch
from dermatox.chart.case_builder import build_case
from dermatox.chart.outcomes import clinic_cohort, patient_outcomes
from dermatox.common.context import Actor
from dermatox.inventory.selectors import lot_recall
from dermatox.patients import services as ps
from dermatox.transfer.csv_export import csv_export
from dermatox.treatments.actions import SessionStockCorrection
from dermatox.treatments.models import TreatmentSession
from dermatox.treatments.services import session_create
from tests.signing import sign

pytestmark = pytest.mark.django_db
WHY = "Recorded on the wrong patient"


@pytest.fixture
def records(physician, nurse, patient, receive_and_open):
    vial = receive_and_open("WALK-1")
    encounter = ps.encounter_create(
        actor=physician, patient=patient, data={"kind": "consultation", "start": timezone.now()}
    )
    session = sign(
        nurse, session_create(actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=vial.pk)
    )
    return {
        "session": session,
        "administration": session.points.order_by("pk").first(),
        "observation": observation_record(
            actor=physician, patient=patient, code="gags", value=23, encounter=encounter
        ),
        "diagnosis": ps.condition_add(
            actor=physician,
            patient=patient,
            data={
                "category": "diagnosis",
                "code": "androgenetic_alopecia",
                "text": "Androgenetic alopecia",
                "icd10": "L64.9",
            },
        ),
        "consent": ps.consent_record(
            actor=physician,
            patient=patient,
            data={
                "kind": "treatment",
                "decision": "granted",
                "signer_name": "İpek Şahin",
                "signed_at": timezone.now(),
            },
        ),
    }


@pytest.fixture
def bearer(clinics, staff):
    def make(scopes):
        _token, secret = api_token_create(
            actor=Actor.system(clinic=clinics[0]),
            clinic=clinics[0],
            user=staff[Role.PHYSICIAN],
            name="walk-" + "-".join(scopes),
            role=Role.PHYSICIAN,
            scopes=list(scopes),
        )
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    return make


def withdraw_all(physician, nurse, records):
    ps.record_mark_entered_in_error(actor=nurse, record=records["session"], reason=WHY)
    for name in ("observation", "diagnosis", "consent"):
        ps.record_mark_entered_in_error(actor=physician, record=records[name], reason=WHY)


FHIR = {
    "session": "Procedure",
    "administration": "MedicationAdministration",
    "observation": "Observation",
    "diagnosis": "Condition",
    "consent": "Consent",
}


def fhir_status(resource: dict) -> str:
    if resource["resourceType"] == "Condition":
        return resource["verificationStatus"]["coding"][0]["code"]
    return resource.get("status", "")


def fhir_reads(client, auth, records) -> dict[str, str]:
    out = {}
    for name, kind in FHIR.items():
        response = client.get(f"/fhir/{kind}/{records[name].pk}", **auth)
        assert response.status_code == 200, (kind, response.content[:200])
        out[name] = fhir_status(response.json())
    return out


def fhir_searches(client, auth, patient) -> dict[str, int]:
    out = {}
    for name, kind in FHIR.items():
        bundle = client.get(f"/fhir/{kind}?patient={patient.pk}", **auth).json()
        out[name] = bundle["total"]
    return out


def bulk_counts(client, auth, capture) -> dict[str, int]:
    headers = {**auth, "HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}
    with capture(execute=True):
        kickoff = client.get("/fhir/Patient/$export", **headers)
    assert kickoff.status_code == 202, kickoff.content[:300]
    job = BulkExportJob.objects.order_by("-created_at").first()
    export_run(str(job.pk))
    manifest = client.get(kickoff["Content-Location"], **headers).json()
    counts = {}
    for entry in manifest["output"]:
        body = b"".join(client.get(entry["url"], **headers).streaming_content).decode()
        statuses = [fhir_status(json.loads(line)) for line in body.splitlines() if line]
        counts[entry["type"]] = len(statuses)
        assert "entered-in-error" not in statuses, entry["type"]
    return {name: counts.get(kind, 0) for name, kind in FHIR.items()}


def rest_lists(client, auth, patient) -> dict[str, int]:
    sections = {"session": "toxin-sessions", "observation": "observations", "diagnosis": "conditions"}
    sections["consent"] = "consents"
    return {
        name: client.get(f"/api/patients/{patient.pk}/{path}", **auth).json()["count"]
        for name, path in sections.items()
    }


def chart_links(client, patient, records) -> dict[str, bool]:
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    return {
        "session": f"/sessions/{records['session'].pk}/" in page,
        "observation": f"/error/observation/{records['observation'].pk}/" in page,
        "diagnosis": f"/error/condition/{records['diagnosis'].pk}/" in page,
        "consent": f"/error/consent/{records['consent'].pk}/" in page,
    }


def case_facts(patient) -> dict:
    case = build_case(patient, timezone.localdate()).case
    history = case.get("history", {})
    return {
        "toxin_history": len(history.get("toxin_history", [])),
        "hair_diagnosis": "androgenetic_alopecia" in json.dumps(case),
        "gags": "gags" in json.dumps(case),
    }


def cds_facts(client, auth, records, patient) -> dict:
    """What the CDS service takes from a prefetch built of our own FHIR reads of the records."""
    prefetch = {"patient": client.get(f"/fhir/Patient/{patient.pk}", **auth).json()}
    for name in ("administration", "observation", "diagnosis"):
        prefetch[name] = client.get(f"/fhir/{FHIR[name]}/{records[name].pk}", **auth).json()
    case = map_prefetch(prefetch, as_of=timezone.localdate()).case or {}
    return {
        "toxin_history": len(case.get("history", {}).get("toxin_history", [])),
        "hair_diagnosis": "androgenetic_alopecia" in json.dumps(case),
        "gags": "gags" in json.dumps(case),
    }


def figures(physician, patient) -> dict:
    outcomes = patient_outcomes(actor=physician, patient=patient)
    cohort = clinic_cohort(actor=physician)
    csv_text, _rows, _left = csv_export(actor=physician, kind="observations")
    return {
        "outcome_series": sum(len(s.points) for s in outcomes.series),
        "outcome_sessions": len(outcomes.sessions),
        "cohort_sessions": sum(n for _p, n in cohort.sessions_per_protocol),
        "csv_gags_rows": sum(1 for line in csv_text.splitlines() if ",gags," in line),
    }


def test_every_reader_treats_withdrawn_records_as_withdrawn(
    client, login, staff, physician, nurse, patient, records, bearer, django_capture_on_commit_callbacks
):
    fhir_auth = bearer(("read", "export"))
    rest_auth = bearer(("read",))
    login(staff[Role.PHYSICIAN])

    # While current, every reader sees every record.
    assert set(fhir_reads(client, fhir_auth, records).values()) <= {
        "completed",
        "final",
        "confirmed",
        "active",
    }
    every = {"session": 1, "administration": 5, "observation": 1, "diagnosis": 1, "consent": 1}
    assert fhir_searches(client, fhir_auth, patient) == every  # glabellar lines: 5 points
    assert bulk_counts(client, fhir_auth, django_capture_on_commit_callbacks) == every
    assert rest_lists(client, rest_auth, patient) == dict.fromkeys(
        ("session", "observation", "diagnosis", "consent"), 1
    )
    assert all(chart_links(client, patient, records).values())
    assert case_facts(patient) == {"toxin_history": 1, "hair_diagnosis": True, "gags": True}
    assert cds_facts(client, fhir_auth, records, patient) == {
        "toxin_history": 1,
        "hair_diagnosis": True,
        "gags": True,
    }
    assert figures(physician, patient) == {
        "outcome_series": 1,
        "outcome_sessions": 1,
        "cohort_sessions": 1,
        "csv_gags_rows": 1,
    }
    (line,) = lot_recall(actor=nurse, lot_number="WALK-1")
    assert line.entered_in_error == 0

    withdraw_all(physician, nurse, records)

    # Read by id: the record is there, marked entered in error (FHIR: both Procedure and its administrations).
    assert set(fhir_reads(client, fhir_auth, records).values()) == {"entered-in-error"}
    session_json = client.get(f"/api/toxin-sessions/{records['session'].pk}", **rest_auth).json()
    assert session_json["entered_in_error"]["reason"] == WHY
    page = client.get(f"/patients/{patient.pk}/sessions/{records['session'].pk}/").content.decode()
    assert "This session was marked as entered in error" in page
    assert "Sign session and deduct" not in page and "aftercare.pdf" not in page
    # Searches, lists, exports, the chart, the rules and the figures leave them out.
    assert set(fhir_searches(client, fhir_auth, patient).values()) == {0}
    assert set(bulk_counts(client, fhir_auth, django_capture_on_commit_callbacks).values()) == {0}
    assert set(rest_lists(client, rest_auth, patient).values()) == {0}
    # The patient page points to the withdrawn session only to ask what happened to its units.
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "say what happened to its units" in page
    SessionStockCorrection(nurse, TreatmentSession.objects.get(pk=records["session"].pk)).execute(
        kind="wasted"
    )
    assert not any(chart_links(client, patient, records).values())
    assert case_facts(patient) == {"toxin_history": 0, "hair_diagnosis": False, "gags": False}
    assert cds_facts(client, fhir_auth, records, patient) == {
        "toxin_history": 0,
        "hair_diagnosis": False,
        "gags": False,
    }
    assert figures(physician, patient) == dict.fromkeys(
        ("outcome_series", "outcome_sessions", "cohort_sessions", "csv_gags_rows"), 0
    )
    assert (
        client.get(f"/patients/{patient.pk}/sessions/{records['session'].pk}/aftercare.pdf").status_code
        == 404
    )
    # Lot recall errs toward including: still listed, marked.
    (line,) = lot_recall(actor=nurse, lot_number="WALK-1")
    assert line.administrations == line.entered_in_error == 5
