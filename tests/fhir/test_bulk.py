"""FHIR Bulk Data $export: kick-off, status polling, manifest, NDJSON files that parse as R4B resources."""

import json

import pytest
from fhir.resources.R4B import get_fhir_model_class

from dermatox.bulk.models import BulkExportJob
from dermatox.bulk.services import export_run
from tests.web.fixtures import full_record

pytestmark = pytest.mark.django_db
ASYNC = {"HTTP_PREFER": "respond-async", "HTTP_ACCEPT": "application/fhir+json"}


def auth(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}", **ASYNC}


@pytest.fixture
def exporter(token):
    return token(role="physician", scopes=("read", "export"))


def kickoff(client, path, secret, capture, **extra):
    with capture(execute=True):
        response = client.get(path, **auth(secret), **extra)
    return response


def test_system_export_every_line_is_a_valid_r4b_resource(
    client, exporter, physician, patient, django_capture_on_commit_callbacks
):
    full_record(physician, patient)
    response = kickoff(client, "/fhir/$export", exporter, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    status_url = response["Content-Location"]
    assert client.get(status_url, **auth(exporter)).status_code == 202  # queued, not run yet
    job = BulkExportJob.objects.get()
    export_run(str(job.pk))  # what the worker does
    manifest = client.get(status_url, **auth(exporter)).json()
    assert manifest["requiresAccessToken"] is True and manifest["transactionTime"]
    counts = {o["type"]: o["count"] for o in manifest["output"]}
    assert counts["Patient"] == 1 and counts["Observation"] >= 1 and counts["Condition"] >= 1
    assert "AuditEvent" not in counts  # a physician's token may not read the audit trail
    for entry in manifest["output"]:
        body = b"".join(client.get(entry["url"], **auth(exporter)).streaming_content).decode()
        lines = [line for line in body.splitlines() if line]
        assert len(lines) == entry["count"]
        for line in lines:
            resource = get_fhir_model_class(entry["type"]).model_validate_json(line)
            assert resource.get_resource_type() == entry["type"]


def test_patient_level_and_group_level(
    client, exporter, patient, clinics, django_capture_on_commit_callbacks
):
    assert (
        kickoff(
            client,
            "/fhir/Patient/$export?_type=Patient,Observation",
            exporter,
            django_capture_on_commit_callbacks,
        ).status_code
        == 202
    )
    group = f"/fhir/Group/{clinics[0].code}/$export"
    assert kickoff(client, group, exporter, django_capture_on_commit_callbacks).status_code == 202
    assert (
        kickoff(client, "/fhir/Group/bbb/$export", exporter, django_capture_on_commit_callbacks).status_code
        == 404
    )
    assert [j.level for j in BulkExportJob.objects.order_by("created_at")] == ["patient", "group"]


def test_since_and_type_are_checked(client, exporter, django_capture_on_commit_callbacks):
    response = kickoff(
        client,
        "/fhir/$export?_type=Patient,Banana&_since=yesterday",
        exporter,
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 400
    expressions = {e for issue in response.json()["issue"] for e in issue["expression"]}
    assert expressions == {"_type", "_since"}
    assert not BulkExportJob.objects.exists()


def test_kickoff_needs_respond_async_and_the_export_scope(client, token, exporter):
    response = client.get("/fhir/$export", HTTP_AUTHORIZATION=f"Bearer {exporter}")
    assert response.status_code == 400
    reader = token(role="physician", scopes=("read",))
    assert client.get("/fhir/$export", **auth(reader)).status_code == 403
    assert client.get("/fhir/$export", **ASYNC).status_code == 401


def test_another_clinic_cannot_poll_or_download(
    client, token, exporter, patient, django_capture_on_commit_callbacks
):
    status_url = kickoff(client, "/fhir/$export?_type=Patient", exporter, django_capture_on_commit_callbacks)[
        "Content-Location"
    ]
    job = BulkExportJob.objects.get()
    export_run(str(job.pk))
    other = token(role="physician", scopes=("read", "export"), clinic_index=1)
    assert client.get(status_url, **auth(other)).status_code == 404
    assert client.get(f"/fhir/bulk-files/{job.pk}/Patient.ndjson", **auth(other)).status_code == 404
    body = b"".join(
        client.get(f"/fhir/bulk-files/{job.pk}/Patient.ndjson", **auth(exporter)).streaming_content
    )
    assert json.loads(body.splitlines()[0])["id"] == str(patient.pk)


def test_cancel(client, exporter, django_capture_on_commit_callbacks):
    status_url = kickoff(client, "/fhir/$export", exporter, django_capture_on_commit_callbacks)[
        "Content-Location"
    ]
    assert client.delete(status_url, **auth(exporter)).status_code == 202
    assert BulkExportJob.objects.get().status == "cancelled"
    assert client.delete(status_url, **auth(exporter)).status_code == 409


def test_capability_statement_advertises_export(client):
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    statement = CapabilityStatement.model_validate_json(client.get("/fhir/metadata").content)
    rest = statement.rest[0]
    assert [o.name for o in rest.operation] == ["export"]
    by_type = {r.type: r for r in rest.resource}
    assert by_type["Patient"].operation[0].definition.endswith("patient-export")
    assert by_type["Group"].operation[0].definition.endswith("group-export")
