"""Bulk export: kick-off (validate, record the job, queue it), the run (stream NDJSON per type), cancel.

The run reads each resource type with a server-side iterator and writes one line at a time to a temporary
file (encrypted under a key held only in memory) before it goes to storage, so memory stays flat however
large the clinic. Photos are never inlined (the record has none yet; when it has, resources will carry
references, not data).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from decimal import Decimal

import orjson
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dermatox.accounts.roles import role_has
from dermatox.accounts.tokens import role_held
from dermatox.audit.services import audit_record
from dermatox.bulk.models import BulkExportJob
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput, NotFound, PermissionDenied
from dermatox.common.filecrypt import SealedSpool

OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")


def _specs() -> dict:
    from dermatox.fhir.selectors import SPECS

    return SPECS


def patient_id_of(spec, record) -> str | None:
    from dermatox.fhir.selectors import patient_id_of

    return patient_id_of(spec, record)


def available_types(actor: Actor, level: str) -> list[str]:
    """What this token's role may read; Patient and Group level: only the patient compartment."""
    return [
        name
        for name, spec in _specs().items()
        if actor.can(spec.perm) and (level == BulkExportJob.Level.SYSTEM or spec.patient_field is not None)
    ]


def _job_actor(job: BulkExportJob) -> Actor:
    return Actor(
        user=job.user, clinic=job.clinic, role=job.role or None, channel="api", token_id=job.token_id
    )


def binding_problem(job: BulkExportJob, now: dt.datetime | None = None) -> str | None:
    """Why the job's files may no longer be produced or handed out (None: they may). Checked by the run and
    on every status, file and DELETE request: the token revoked or expired since, the user no longer holding
    the job's role in its clinic, or that role no longer reading one of the job's types."""
    token = job.token
    now = now or timezone.now()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return "the API token that started this export was revoked or has expired"
    if not job.role or not role_held(job.user_id, job.clinic_id, job.role):  # the tokens' own rule
        return "the user who started this export no longer holds its role in the clinic"
    specs = _specs()
    unreadable = [t for t in job.types if t not in specs or not role_has(job.role, specs[t].perm)]
    if unreadable:
        return f"the role may no longer read {', '.join(unreadable)}"
    return None


def _default(value):
    if isinstance(value, Decimal):  # FHIR decimals: exact text of the stored value
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# Kick-off parameters this server acts on; every other one is refused (400 naming it) or, under
# `Prefer: handling=lenient`, set aside and reported in the manifest's `error` file (never ignored silently).
SUPPORTED_PARAMS = ("_outputFormat", "_since", "_type", "patient")
NOT_SUPPORTED = {
    "_typeFilter": "search filters on the exported types are not supported",
    "_elements": "element subsets are not supported (whole resources are exported)",
    "includeAssociatedData": "associated data (provenance, ...) is not supported",
    "_until": "is not a Bulk Data 2.0 parameter supported here",
    "allowPartialManifests": "partial manifests are not supported",
    "organizeOutputBy": "output is organised by resource type only",
}


def _unsupported_text(name: str) -> str:
    return NOT_SUPPORTED.get(name, "is not a kick-off parameter this server supports")


def _one(params: dict[str, list[str]], name: str, errors: dict[str, list[str]]) -> str | None:
    values = [v for v in params.get(name, []) if v != ""]
    if len(values) > 1:
        errors[name] = ["may be given once"]
        return None
    return values[0] if values else None


def _patient_ids(
    actor: Actor, level: str, group: str, references: list[str], errors: dict[str, list[str]]
) -> list[str]:
    """The `patient` parameter's references, each a patient of the level (the clinic, or the Group's
    members); any other is refused, named, and not looked up further (another clinic's patient reads the
    same as one that does not exist)."""
    if not references:
        return []
    if level == BulkExportJob.Level.SYSTEM:
        errors["patient"] = [
            "applies to Patient and Group level export only (Bulk Data IG), not system level"
        ]
        return []
    from dermatox.fhir.groups import group_members
    from dermatox.patients.selectors import patients_in_scope

    wanted: dict[str, str] = {}
    malformed = []
    for reference in references:
        pid = reference.strip().removeprefix("Patient/")
        try:
            wanted[str(uuid.UUID(pid))] = reference
        except ValueError:
            malformed.append(reference)
    members = group_members(actor, group) if level == BulkExportJob.Level.GROUP else patients_in_scope(actor)
    found = {str(pk) for pk in members.filter(pk__in=list(wanted)).values_list("pk", flat=True)}
    unknown = malformed + [ref for pid, ref in wanted.items() if pid not in found]
    if unknown:
        where = "members of this Group" if level == BulkExportJob.Level.GROUP else "patients of this clinic"
        errors["patient"] = [
            f"not {where}: {', '.join(unknown[:10])}" + (" ..." if len(unknown) > 10 else "")
        ]
    return sorted(found)


@transaction.atomic
def export_kickoff(
    *,
    actor: Actor,
    level: str,
    params: dict[str, list[str]],
    request_url: str,
    group: str = "",
    lenient: bool = False,
) -> BulkExportJob:
    """Validate the kick-off parameters (each problem named), record the job and queue its run.

    `params`: every value of every parameter, as the client sent them (`_type` repeated and/or comma
    separated; `patient` as references). `lenient`: the client sent `Prefer: handling=lenient`, so
    parameters this server does not support are set aside and reported rather than refused."""
    errors: dict[str, list[str]] = {}
    if level == BulkExportJob.Level.GROUP:
        from dermatox.fhir.groups import group_clinic

        group_clinic(actor, group)  # NotFound for any Group but the token's clinic
    ignored = []
    for name in params:
        if name in SUPPORTED_PARAMS:
            continue
        if lenient:
            ignored.append({"parameter": name, "reason": _unsupported_text(name)})
        else:
            errors[name] = [
                f"{_unsupported_text(name)}; leave it out, or send Prefer: handling=lenient to have it "
                "ignored and reported in the manifest's error file"
            ]
    output_format = _one(params, "_outputFormat", errors) or "application/fhir+ndjson"
    if output_format not in OUTPUT_FORMATS:
        errors["_outputFormat"] = [f"must be one of {', '.join(OUTPUT_FORMATS)}"]
    available = available_types(actor, level)
    requested = [t.strip() for value in params.get("_type", []) for t in value.split(",") if t.strip()]
    types = list(dict.fromkeys(requested)) or available
    unknown = [t for t in types if t not in available]
    if unknown:
        errors["_type"] = [
            f"not exported at this level: {', '.join(unknown)} (available: {', '.join(available)})"
        ]
    since = None
    since_text = _one(params, "_since", errors)
    if since_text:
        since = parse_datetime(since_text)
        if since is None or timezone.is_naive(since):
            errors["_since"] = ["must be a FHIR instant with a time zone, e.g. 2026-01-01T00:00:00Z"]
    patients = _patient_ids(actor, level, group, params.get("patient", []), errors)
    if errors:
        raise InvalidInput.from_fields(errors)
    job = BulkExportJob.objects.create(
        clinic=actor.clinic,
        token_id=actor.token_id,
        user=actor.acting_user,
        role=actor.role or "",
        level=level,
        group=group,
        types=types,
        since=since,
        patients=patients,
        ignored=ignored,
        request_url=request_url[:2000],
        transaction_time=timezone.now(),
    )
    detail = {
        "level": level,
        "types": types,
        "patient_ids": patients,
        "ignored": [i["parameter"] for i in ignored],
    }
    audit_record(
        actor=actor,
        action="bulk.export_kickoff",
        obj=job,
        patient_id=patients[0] if len(patients) == 1 else None,
        detail=detail,
    )
    from dermatox.bulk.tasks import bulk_export_run

    transaction.on_commit(lambda: bulk_export_run.enqueue(str(job.pk)))
    return job


def export_run(job_id: str) -> BulkExportJob:
    """Write every requested type as NDJSON. A failure marks the job failed with the reason."""
    job = BulkExportJob.objects.select_related("clinic", "token").get(pk=job_id)
    if job.status != BulkExportJob.Status.QUEUED:
        return job
    problem = binding_problem(job)
    if problem:  # e.g. the token was revoked while the job waited: nothing is read, nothing written
        BulkExportJob.objects.filter(pk=job.pk, status=BulkExportJob.Status.QUEUED).update(
            status=BulkExportJob.Status.FAILED, error=problem, finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    BulkExportJob.objects.filter(pk=job.pk).update(status=BulkExportJob.Status.RUNNING)
    output = []
    actor = _job_actor(job)
    try:
        patients_filter = job.patients or None  # the kick-off's `patient` parameter, checked then
        if job.level == BulkExportJob.Level.GROUP:  # the Group's members as they are now
            from dermatox.fhir.groups import group_members

            members = group_members(actor, job.group)
            patients_filter = members.filter(pk__in=job.patients) if job.patients else members
        for number, type_name in enumerate(job.types, start=1):
            if BulkExportJob.objects.filter(pk=job.pk, status=BulkExportJob.Status.CANCELLED).exists():
                break  # the client cancelled: what this run wrote is deleted below
            BulkExportJob.objects.filter(pk=job.pk).update(
                progress=f"{type_name} ({number}/{len(job.types)})"
            )
            spec = _specs()[type_name]
            records = spec.bulk_records(
                actor,
                since=job.since,
                compartment=job.level != BulkExportJob.Level.SYSTEM,
                until=job.transaction_time,  # nothing changed after the manifest's transactionTime
                patients=patients_filter,
            )
            count, patients = 0, set()  # whom the file discloses: named in the audit of each download
            with SealedSpool() as spool:  # the file being built is encrypted on disk too
                for record in records:
                    spool.write(orjson.dumps(spec.to_fhir(record, as_dict=True), default=_default) + b"\n")
                    count += 1
                    patients.add(patient_id_of(spec, record))
                if count == 0:  # Bulk Data: no output entry (and no file) for a type with nothing in it
                    continue
                name = default_storage.save(f"exports/{job.pk}/{type_name}.ndjson", File(spool.plaintext()))
            patients.discard(None)
            output.append({"type": type_name, "file": name, "count": count, "patient_ids": sorted(patients)})
        if job.ignored:  # what handling=lenient set aside, said in the manifest's error file
            lines = b"".join(orjson.dumps(_ignored_outcome(entry)) + b"\n" for entry in job.ignored)
            name = default_storage.save(f"exports/{job.pk}/OperationOutcome.ndjson", ContentFile(lines))
            output.append(
                {
                    "type": "OperationOutcome",
                    "file": name,
                    "count": len(job.ignored),
                    "patient_ids": [],
                    "error": True,
                }
            )
    except Exception as exc:  # recorded on the job (the client sees it in the status response), then cleaned
        BulkExportJob.objects.filter(pk=job.pk, status=BulkExportJob.Status.RUNNING).update(
            status=BulkExportJob.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        with contextlib.suppress(Exception):
            _delete_files(output)
        raise
    # Only a run still running finishes: a cancel, even one while the last file was written, wins.
    finished = BulkExportJob.objects.filter(pk=job.pk, status=BulkExportJob.Status.RUNNING).update(
        status=BulkExportJob.Status.DONE, output=output, progress="", finished_at=timezone.now()
    )
    if not finished:
        _delete_files(output)
    job.refresh_from_db()
    return job


def _ignored_outcome(entry: dict) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "warning",
                "code": "not-supported",
                "diagnostics": f"{entry['parameter']}: {entry['reason']}; ignored (Prefer: handling=lenient)",
                "expression": [entry["parameter"]],
            }
        ],
    }


def _delete_files(output: list[dict]) -> None:
    for entry in output:
        default_storage.delete(entry["file"])
    folders = {os.path.dirname(entry["file"]) for entry in output}
    for folder in folders:  # exports/<job>/ on disk; storages without folders have nothing to remove
        with contextlib.suppress(NotImplementedError, OSError):
            os.rmdir(default_storage.path(folder))


def _expire(job: BulkExportJob) -> None:
    _delete_files(job.output)
    BulkExportJob.objects.filter(pk=job.pk).update(status=BulkExportJob.Status.EXPIRED, output=[])


def expires_at(job: BulkExportJob) -> dt.datetime:
    """When the worker deletes a finished export's files (the manifest's Expires header)."""
    return job.finished_at + dt.timedelta(hours=settings.DERMATOX_BULK_EXPORT_HOURS)


def exports_expire(now: dt.datetime | None = None) -> int:
    """Delete the files of every export finished more than the retention ago (any clinic); how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.DERMATOX_BULK_EXPORT_HOURS)
    finished = (BulkExportJob.Status.DONE, BulkExportJob.Status.FAILED, BulkExportJob.Status.CANCELLED)
    jobs = list(BulkExportJob.objects.filter(status__in=finished, finished_at__lt=cutoff))
    for job in jobs:
        _expire(job)
    return len(jobs)


def export_get(*, actor: Actor, job_id) -> BulkExportJob:
    """An export the actor's own token started. Any other token, even of the same clinic and user, is told
    there is no such export (its existence is not revealed); the token that started it is refused once the
    user no longer holds the role or the role no longer reads what the files hold. Once cancelled or
    deleted, it is gone for the client (Bulk Data: "subsequent requests to the polling location SHALL
    return 404")."""
    job = None
    if actor.token_id is not None:
        job = (
            BulkExportJob.objects.select_related("token")
            .filter(pk=job_id, clinic=actor.clinic, token_id=actor.token_id, role=actor.role)
            .first()
        )
    if job is None or job.status in (BulkExportJob.Status.CANCELLED, BulkExportJob.Status.EXPIRED):
        raise NotFound("No such export (it may have been cancelled, or its files deleted)")
    problem = binding_problem(job)
    if problem:
        raise PermissionDenied(f"This export is no longer available to this token: {problem}")
    return job


def export_delete(*, actor: Actor, job_id) -> None:
    """The client's DELETE: cancels a queued or running export; for a finished one, it is the client saying
    it has its files, so they are deleted now rather than at the end of the retention."""
    job = export_get(actor=actor, job_id=job_id)
    if job.status in (BulkExportJob.Status.QUEUED, BulkExportJob.Status.RUNNING):
        BulkExportJob.objects.filter(pk=job.pk).update(
            status=BulkExportJob.Status.CANCELLED, finished_at=timezone.now()
        )
        audit_record(actor=actor, action="bulk.export_cancel", obj=job)
    else:
        _expire(job)
        audit_record(actor=actor, action="bulk.export_delete", obj=job)


def export_file(*, actor: Actor, job_id, type_name: str):
    """An output file of a finished export (audited as the export of that type's records)."""
    job = export_get(actor=actor, job_id=job_id)
    entry = next((o for o in job.output if o["type"] == type_name), None)
    if job.status != BulkExportJob.Status.DONE or entry is None:
        raise NotFound("No such file")
    patient_ids = entry.get("patient_ids", [])
    audit_record(
        actor=actor,
        action="bulk.export_download",
        obj=job,
        patient_id=patient_ids[0] if len(patient_ids) == 1 else None,
        detail={"type": type_name, "count": entry["count"], "patient_ids": patient_ids},
    )
    return default_storage.open(entry["file"], "rb")
