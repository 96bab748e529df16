"""FHIR Bulk Data $export: kick-off, status polling, manifest, NDJSON files that parse as R4B resources."""

import datetime as dt
import json
from email.utils import parsedate_to_datetime

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from dermatox.assessments.services import observation_record
from dermatox.audit.models import AuditEntry
from dermatox.audit.services import audit_record
from dermatox.bulk.models import BulkExportJob
from dermatox.bulk.services import export_run, exports_expire
from dermatox.patients.services import patient_create, patient_update
from dermatox.treatments.services import session_create
from tests.fhir.conftest import ago
from tests.signing import sign
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
    assert job.token.name == "t-physician-0-read-export"  # the run acts with that token's role
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
    job = BulkExportJob.objects.get()
    assert job.status == "cancelled"
    assert export_run(str(job.pk)).status == "cancelled"  # the worker picks it up later: nothing is run
    # Bulk Data: once deleted, the polling location answers 404.
    assert client.get(status_url, **auth(exporter)).status_code == 404
    assert client.delete(status_url, **auth(exporter)).status_code == 404


@pytest.mark.parametrize("types", ["Patient,Observation", "Patient"])  # mid-run; during the last file
def test_cancel_while_running_deletes_what_was_written(
    exporter, patient, client, monkeypatch, django_capture_on_commit_callbacks, types
):
    kickoff(client, f"/fhir/$export?_type={types}", exporter, django_capture_on_commit_callbacks)
    job = BulkExportJob.objects.get()
    saved = []
    real_save = default_storage.save

    def save_then_cancel(name, content):  # the client cancels while the first file is being written
        saved.append(real_save(name, content))
        BulkExportJob.objects.filter(pk=job.pk).update(status="cancelled")
        return saved[-1]

    monkeypatch.setattr(default_storage, "save", save_then_cancel)
    assert export_run(str(job.pk)).status == "cancelled"
    assert saved and not any(default_storage.exists(name) for name in saved)


def test_delete_after_download_removes_the_files(
    client, exporter, patient, django_capture_on_commit_callbacks
):
    status_url = kickoff(client, "/fhir/$export?_type=Patient", exporter, django_capture_on_commit_callbacks)[
        "Content-Location"
    ]
    job = export_run(str(BulkExportJob.objects.get().pk))
    response = client.get(status_url, **auth(exporter))
    expected = job.finished_at + dt.timedelta(hours=settings.DERMATOX_BULK_EXPORT_HOURS)
    assert parsedate_to_datetime(response["Expires"]) == expected.replace(microsecond=0)
    file_name = job.output[0]["file"]
    assert default_storage.exists(file_name)
    assert client.delete(status_url, **auth(exporter)).status_code == 202
    assert not default_storage.exists(file_name)
    assert client.get(status_url, **auth(exporter)).status_code == 404
    assert client.get(response.json()["output"][0]["url"], **auth(exporter)).status_code == 404
    assert AuditEntry.objects.filter(action="bulk.export_delete").count() == 1


def test_the_worker_deletes_files_after_the_retention(
    client, exporter, patient, django_capture_on_commit_callbacks
):
    for _ in range(2):
        kickoff(client, "/fhir/$export?_type=Patient", exporter, django_capture_on_commit_callbacks)
    old, new = BulkExportJob.objects.order_by("created_at")
    for job in (old, new):
        export_run(str(job.pk))
    hours = settings.DERMATOX_BULK_EXPORT_HOURS
    BulkExportJob.objects.filter(pk=old.pk).update(finished_at=ago(hours=hours + 1))
    old.refresh_from_db()
    new.refresh_from_db()
    assert exports_expire() == 1
    assert not default_storage.exists(old.output[0]["file"])
    assert default_storage.exists(new.output[0]["file"])
    assert BulkExportJob.objects.get(pk=old.pk).status == "expired"
    assert exports_expire() == 0


def test_capability_statement_advertises_export(client):
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    statement = CapabilityStatement.model_validate_json(client.get("/fhir/metadata").content)
    rest = statement.rest[0]
    assert [o.name for o in rest.operation] == ["export"]
    by_type = {r.type: r for r in rest.resource}
    assert by_type["Patient"].operation[0].definition.endswith("patient-export")
    assert by_type["Group"].operation[0].definition.endswith("group-export")


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_export(client, path, secret, capture) -> dict[str, list[dict]]:
    """Kick off, run the job as the worker does, download every file: {type: [resource, ...]}."""
    status_url = kickoff(client, path, secret, capture)["Content-Location"]
    export_run(str(BulkExportJob.objects.order_by("-created_at").first().pk))
    manifest = client.get(status_url, **auth(secret)).json()
    return {
        entry["type"]: [
            json.loads(line)
            for line in b"".join(client.get(entry["url"], **auth(secret)).streaming_content).splitlines()
        ]
        for entry in manifest["output"]
    }


def test_system_export_holds_only_the_tokens_clinic(
    client, exporter, physician, patient, staff, actor_for, clinics, django_capture_on_commit_callbacks
):
    full_record(physician, patient)
    other = actor_for(staff["physician_b"])
    patient_b = patient_create(
        actor=other,
        data={
            "given_name": "Bea",
            "family_name": "Other",
            "sex_at_birth": "female",
            "birth_date": "1990-01-01",
        },
    )
    observation_record(actor=other, patient=patient_b, code="daily_shedding", value=80, effective_at=ago(1))
    exported = run_export(client, "/fhir/$export", exporter, django_capture_on_commit_callbacks)
    assert [p["id"] for p in exported["Patient"]] == [str(patient.pk)]
    subjects = {
        (r.get("subject") or r.get("patient") or {}).get("reference")
        for resources in exported.values()
        for r in resources
        if r["resourceType"] not in ("Patient", "Practitioner", "Organization", "Location")
    }
    assert subjects == {f"Patient/{patient.pk}"}
    # The staff and the clinic exported are this clinic's only.
    assert [o["id"] for o in exported["Organization"]] == [str(clinics[0].pk)]
    assert str(staff["physician_b"].pk) not in {p["id"] for p in exported["Practitioner"]}


def test_bulk_meta_is_the_same_as_a_read(
    client, exporter, physician, nurse, patient, fhir, receive_and_open, django_capture_on_commit_callbacks
):
    """Bulk merges one streamed history query onto the records by key order, rather than two subqueries
    per row: the version and last-updated time must be a read's, for every record and type (patients with
    0 to 4 later versions, UUID keys; administrations, read with their session and lot)."""
    patients = [patient]
    for changes in range(5):
        other = patient_create(
            actor=physician,
            data={
                "given_name": "P",
                "family_name": f"N{changes}",
                "sex_at_birth": "male",
                "birth_date": "1980-01-01",
            },
        )
        for n in range(changes):
            patient_update(actor=physician, patient=other, data={"given_name": f"V{n}"})
        patients.append(other)
    patient_update(actor=physician, patient=patient, data={"given_name": "Renamed"})
    observation_record(actor=physician, patient=patient, code="daily_shedding", value=90, effective_at=ago(2))
    session = session_create(
        actor=nurse, patient=patient, protocol="glabellar_lines", vial_id=receive_and_open("META-1").pk
    )
    sign(nurse, session)
    path = "/fhir/$export?_type=Patient,Observation,Procedure,MedicationAdministration"
    exported = run_export(client, path, exporter, django_capture_on_commit_callbacks)
    assert len(exported["Patient"]) == 6 and len(exported["MedicationAdministration"]) == 5
    assert sorted(int(p["meta"]["versionId"]) for p in exported["Patient"]) == [1, 2, 2, 3, 4, 5]
    for resources in exported.values():
        for resource in resources:
            _status, read, _response = fhir("GET", f"/fhir/{resource['resourceType']}/{resource['id']}")
            assert resource["meta"]["versionId"] == read["meta"]["versionId"]
            assert instant(resource["meta"]["lastUpdated"]) == instant(read["meta"]["lastUpdated"])


def test_since_exports_only_what_changed(
    client, exporter, physician, patient, django_capture_on_commit_callbacks
):
    """_since compares with meta.lastUpdated: a record made before it and changed after it is exported."""
    old = observation_record(
        actor=physician, patient=patient, code="daily_shedding", value=100, effective_at=ago(3)
    )
    changed = patient_create(
        actor=physician,
        data={
            "given_name": "C",
            "family_name": "Changed",
            "sex_at_birth": "male",
            "birth_date": "1980-01-01",
        },
    )
    since = timezone.now()
    new = observation_record(
        actor=physician, patient=patient, code="daily_shedding", value=60, effective_at=ago(1)
    )
    patient_update(actor=physician, patient=changed, data={"phone": "+90 532 111 11 11"})
    path = f"/fhir/$export?_type=Patient,Observation&_since={since.isoformat().replace('+00:00', 'Z')}"
    exported = run_export(client, path, exporter, django_capture_on_commit_callbacks)
    assert [o["id"] for o in exported["Observation"]] == [str(new.pk)] and old.pk != new.pk
    assert [p["id"] for p in exported["Patient"]] == [str(changed.pk)]  # not the unchanged fixture patient


def test_patient_level_export_holds_only_the_patient_compartment(
    client, token, physician, patient, django_capture_on_commit_callbacks
):
    """The audit trail also records logins and settings, about no patient: those are not in the Patient
    compartment, so Patient-level export leaves them out and system-level export keeps them."""
    audit_record(actor=physician, action="auth.login")
    auditor = token(role="manager", scopes=("export",))
    by_level = {
        path: run_export(client, f"{path}?_type=AuditEvent", auditor, django_capture_on_commit_callbacks)
        for path in ("/fhir/Patient/$export", "/fhir/$export")
    }
    compartment = by_level["/fhir/Patient/$export"]["AuditEvent"]
    assert compartment and all(
        e["entity"][0]["what"]["reference"] == f"Patient/{patient.pk}" for e in compartment
    )
    assert len(by_level["/fhir/$export"]["AuditEvent"]) > len(compartment)


def test_on_disk_the_exports_folder_goes_too(
    client, exporter, patient, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    status_url = kickoff(client, "/fhir/$export?_type=Patient", exporter, django_capture_on_commit_callbacks)[
        "Content-Location"
    ]
    job = export_run(str(BulkExportJob.objects.get().pk))
    assert (tmp_path / "exports" / str(job.pk) / "Patient.ndjson").is_file()
    assert client.delete(status_url, **auth(exporter)).status_code == 202
    assert not (tmp_path / "exports" / str(job.pk)).exists()


def test_nothing_changed_after_the_transaction_time_is_in_the_files(
    client, exporter, physician, patient, django_capture_on_commit_callbacks
):
    """Bulk Data: the files hold nothing modified after the manifest's transactionTime. A record made, and
    a patient changed, between the kick-off and the worker's run are left for the next `_since` export."""
    before = observation_record(
        actor=physician, patient=patient, code="daily_shedding", value=100, effective_at=ago(3)
    )
    status_url = kickoff(
        client, "/fhir/$export?_type=Patient&_type=Observation", exporter, django_capture_on_commit_callbacks
    )["Content-Location"]
    observation_record(actor=physician, patient=patient, code="daily_shedding", value=60, effective_at=ago(1))
    patient_update(actor=physician, patient=patient, data={"given_name": "Later"})
    job = BulkExportJob.objects.get()
    assert job.types == ["Patient", "Observation"]  # a repeated _type is a list, not its last value
    export_run(str(job.pk))
    manifest = client.get(status_url, **auth(exporter)).json()
    # Patient changed after the transaction time: nothing left to export, so no entry (never a count of 0).
    assert [(o["type"], o["count"]) for o in manifest["output"]] == [("Observation", 1)]
    body = b"".join(client.get(manifest["output"][0]["url"], **auth(exporter)).streaming_content)
    assert [json.loads(line)["id"] for line in body.splitlines()] == [str(before.pk)]
    assert instant(json.loads(body)["meta"]["lastUpdated"]) <= instant(manifest["transactionTime"])
