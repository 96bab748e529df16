"""Who may poll, download and delete a bulk export: only the token that started it, while its user still
holds the role that may read what the files hold. Each attack below got through before the binding (a
manager's token downloaded a physician's export of Observations and deleted it)."""

import argparse
import datetime as dt
import json

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from dermatox.accounts.models import ApiToken, Membership
from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import api_token_create, api_token_revoke
from dermatox.assessments.services import observation_record
from dermatox.audit.models import AuditEntry
from dermatox.bulk.models import BulkExportJob
from dermatox.bulk.services import export_run
from dermatox.common.context import Actor
from dermatox.patients.services import patient_create
from tests.conftest import make_user
from tests.fhir.conftest import ago
from tests.fhir.test_bulk import auth, kickoff

pytestmark = pytest.mark.django_db


def new_token(clinic, user, role, scopes=("read", "export")) -> str:
    _token, secret = api_token_create(
        actor=Actor.system(clinic=clinic), clinic=clinic, user=user, name="t", role=role, scopes=list(scopes)
    )
    return secret


@pytest.fixture
def done_export(client, clinics, staff, physician, patient, django_capture_on_commit_callbacks):
    """A physician's finished export of Patient and Observation (two patients, three observations):
    (secret, status URL, file URL of the Observations, job)."""
    second = patient_create(
        actor=physician,
        data={"given_name": "Can", "family_name": "Ak", "sex_at_birth": "male", "birth_date": "1985-02-03"},
    )
    for who, value in ((patient, 80), (patient, 70), (second, 60)):
        observation_record(
            actor=physician, patient=who, code="daily_shedding", value=value, effective_at=ago(1)
        )
    secret = new_token(clinics[0], staff[Role.PHYSICIAN], Role.PHYSICIAN)
    response = kickoff(
        client, "/fhir/$export?_type=Patient,Observation", secret, django_capture_on_commit_callbacks
    )
    job = export_run(str(BulkExportJob.objects.get().pk))
    assert job.status == "done"
    return secret, response["Content-Location"], f"/fhir/bulk-files/{job.pk}/Observation.ndjson", job


def attackers(clinics, staff) -> dict[str, str]:
    other_physician = make_user("physician_a2", clinics[0], Role.PHYSICIAN)
    return {
        # No FHIR read of Observations, but an export token of the same clinic.
        "manager": new_token(clinics[0], staff[Role.MANAGER], Role.MANAGER, ("read", "export")),
        "other physician, same clinic": new_token(clinics[0], other_physician, Role.PHYSICIAN),
        "same physician, another token": new_token(clinics[0], staff[Role.PHYSICIAN], Role.PHYSICIAN),
        "physician of another clinic": new_token(clinics[1], staff["physician_b"], Role.PHYSICIAN),
    }


@pytest.mark.parametrize(
    "who",
    [
        "manager",
        "other physician, same clinic",
        "same physician, another token",
        "physician of another clinic",
    ],
)
def test_another_token_cannot_poll_download_or_delete(client, clinics, staff, done_export, who):
    _secret, status_url, file_url, job = done_export
    attacker = attackers(clinics, staff)[who]
    # 404, as for an export that does not exist: its existence is not revealed.
    assert client.get(status_url, **auth(attacker)).status_code == 404
    assert client.get(file_url, **auth(attacker)).status_code == 404
    assert client.delete(status_url, **auth(attacker)).status_code == 404
    job.refresh_from_db()
    assert job.status == "done" and all(default_storage.exists(o["file"]) for o in job.output)
    assert not AuditEntry.objects.filter(action__in=["bulk.export_download", "bulk.export_delete"]).exists()


def test_the_token_that_started_it_still_can(client, done_export):
    secret, status_url, file_url, _job = done_export
    assert client.get(status_url, **auth(secret)).status_code == 200
    lines = b"".join(client.get(file_url, **auth(secret)).streaming_content).splitlines()
    assert len(lines) == 3
    assert client.delete(status_url, **auth(secret)).status_code == 202


def test_a_revoked_or_expired_token_is_refused(client, done_export):
    secret, status_url, file_url, job = done_export
    ApiToken.objects.filter(pk=job.token_id).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    for method, url in (("get", status_url), ("get", file_url), ("delete", status_url)):
        assert getattr(client, method)(url, **auth(secret)).status_code == 401
    ApiToken.objects.filter(pk=job.token_id).update(expires_at=None)
    api_token_revoke(actor=Actor.system(), token=job.token)
    for method, url in (("get", status_url), ("get", file_url), ("delete", status_url)):
        assert getattr(client, method)(url, **auth(secret)).status_code == 401
    assert BulkExportJob.objects.get(pk=job.pk).status == "done"


def test_a_user_whose_role_changed_is_refused(client, staff, clinics, done_export):
    """The physician became the clinic's manager: the token (still a physician's) no longer works at all
    (a token acts only in the role its user holds, docs/security/tokens.md), so neither does the export."""
    secret, status_url, file_url, job = done_export
    Membership.objects.filter(user=staff[Role.PHYSICIAN], clinic=clinics[0]).update(role=Role.MANAGER)
    for method, url in (("get", status_url), ("get", file_url), ("delete", status_url)):
        response = getattr(client, method)(url, **auth(secret))
        assert response.status_code == 401, response.content
    assert BulkExportJob.objects.get(pk=job.pk).status == "done"
    Membership.objects.filter(user=staff[Role.PHYSICIAN], clinic=clinics[0]).update(active=False)
    assert client.get(status_url, **auth(secret)).status_code == 401  # no longer a member at all


def test_the_run_refuses_a_token_revoked_while_the_job_waited(
    client, clinics, staff, patient, django_capture_on_commit_callbacks
):
    secret = new_token(clinics[0], staff[Role.PHYSICIAN], Role.PHYSICIAN)
    kickoff(client, "/fhir/$export?_type=Patient", secret, django_capture_on_commit_callbacks)
    job = BulkExportJob.objects.get()
    assert job.role == Role.PHYSICIAN and job.user == staff[Role.PHYSICIAN]
    api_token_revoke(actor=Actor.system(), token=job.token)
    job = export_run(str(job.pk))
    assert job.status == "failed" and "revoked" in job.error
    assert job.output == [] and not default_storage.exists(f"exports/{job.pk}/Patient.ndjson")


def test_the_run_refuses_a_user_deactivated_while_the_job_waited(
    client, clinics, staff, patient, django_capture_on_commit_callbacks
):
    secret = new_token(clinics[0], staff[Role.PHYSICIAN], Role.PHYSICIAN)
    kickoff(client, "/fhir/$export?_type=Patient", secret, django_capture_on_commit_callbacks)
    job = BulkExportJob.objects.get()
    type(staff[Role.PHYSICIAN]).objects.filter(pk=staff[Role.PHYSICIAN].pk).update(is_active=False)
    job = export_run(str(job.pk))
    assert job.status == "failed" and "no longer holds its role" in job.error
    assert job.output == [] and not default_storage.exists(f"exports/{job.pk}/Patient.ndjson")


def test_a_download_audit_names_the_patients_it_disclosed(client, patient, done_export):
    secret, _status_url, file_url, job = done_export
    b"".join(client.get(file_url, **auth(secret)).streaming_content)
    entry = AuditEntry.objects.get(action="bulk.export_download")
    exported = sorted(
        {
            json.loads(line)["subject"]["reference"].removeprefix("Patient/")
            for line in default_storage.open(job.output[1]["file"]).read().splitlines()
        }
    )
    assert len(exported) == 2 and str(patient.pk) in exported
    assert entry.detail["patient_ids"] == exported
    assert entry.detail["type"] == "Observation" and entry.detail["count"] == 3
    assert entry.role == Role.PHYSICIAN and entry.actor_username == "physician_a"


def test_a_download_of_one_patients_file_sets_the_patient(
    client, clinics, staff, patient, django_capture_on_commit_callbacks
):
    """Consistent with the other reads: a read about one patient carries its patient id."""
    secret = new_token(clinics[0], staff[Role.PHYSICIAN], Role.PHYSICIAN)
    kickoff(client, "/fhir/$export?_type=Patient", secret, django_capture_on_commit_callbacks)
    job = export_run(str(BulkExportJob.objects.get().pk))
    b"".join(client.get(f"/fhir/bulk-files/{job.pk}/Patient.ndjson", **auth(secret)).streaming_content)
    entry = AuditEntry.objects.get(action="bulk.export_download")
    assert entry.patient_id == patient.pk and entry.detail["patient_ids"] == [str(patient.pk)]


# --- The Bulk Data retention rules: files go on DELETE (test_bulk), on cancel (test_bulk), on failure, and
# DERMATOX_BULK_EXPORT_HOURS after the export, deleted by the worker.


def test_a_failed_run_deletes_what_it_wrote(
    client, clinics, staff, physician, patient, monkeypatch, django_capture_on_commit_callbacks
):
    observation_record(actor=physician, patient=patient, code="daily_shedding", value=80, effective_at=ago(1))
    secret = new_token(clinics[0], staff[Role.PHYSICIAN], Role.PHYSICIAN)
    kickoff(client, "/fhir/$export?_type=Patient,Observation", secret, django_capture_on_commit_callbacks)
    job = BulkExportJob.objects.get()
    saved = []
    real_save = default_storage.save

    def save_once_then_fail(name, content):  # the Patient file is written, then the disk is full
        if saved:
            raise OSError("disk full")
        saved.append(real_save(name, content))
        return saved[-1]

    monkeypatch.setattr(default_storage, "save", save_once_then_fail)
    with pytest.raises(OSError, match="disk full"):
        export_run(str(job.pk))
    job.refresh_from_db()
    assert job.status == "failed" and "disk full" in job.error
    assert saved and not any(default_storage.exists(name) for name in saved)


@pytest.mark.django_db(transaction=True)
def test_the_worker_sweep_deletes_files_after_the_retention(
    client, clinics, staff, patient, settings, django_capture_on_commit_callbacks
):
    """What `dermatox worker` does on its sweep (the housekeeping task, run by the real database worker)."""
    from dermatox.cli import cmd_worker

    secret = new_token(clinics[0], staff[Role.PHYSICIAN], Role.PHYSICIAN)
    kickoff(client, "/fhir/$export?_type=Patient", secret, django_capture_on_commit_callbacks)
    job = export_run(str(BulkExportJob.objects.get().pk))
    file_name = job.output[0]["file"]
    BulkExportJob.objects.filter(pk=job.pk).update(
        finished_at=ago(hours=settings.DERMATOX_BULK_EXPORT_HOURS + 1)
    )
    assert default_storage.exists(file_name)
    cmd_worker(argparse.Namespace(batch=True, sweep_minutes=1, anchor_minutes=0, interval=0, verbose=False))
    assert not default_storage.exists(file_name)
    assert BulkExportJob.objects.get(pk=job.pk).status == "expired"
