"""FHIR Bulk Data Access ($export), asynchronous request pattern: kick-off → 202 + Content-Location,
poll the status URL (202 with X-Progress, then 200 with the manifest), download NDJSON files with the same
token, DELETE the status URL to cancel (or, once the files are fetched, to have them deleted at once; the
worker deletes them DERMATOX_BULK_EXPORT_HOURS after the export in any case). Levels: system, Patient (all
patients of the token's clinic) and Group (a Group is a clinic here; its id is the clinic code).
Authentication and errors are the FHIR API's."""

from __future__ import annotations

import json

from django.http import FileResponse, HttpResponse
from django.utils.http import http_date

from dermatox.api.fhir_views import error_outcome, fhir_endpoint, method_not_allowed
from dermatox.bulk import services
from dermatox.bulk.models import BulkExportJob
from dermatox.common.errors import Conflict, InvalidInput
from dermatox.common.json_body import JsonBodyError, parse_json


def _parameters(request) -> dict[str, str]:
    """Query-string parameters, plus those of a Parameters resource posted as the body (_type repeats)."""
    params = dict(request.GET.items())
    if request.method == "POST" and request.body:
        try:
            document = parse_json(request.body)
        except JsonBodyError as exc:
            raise InvalidInput(str(exc), fields={exc.path: [exc.message]}) from None
        try:
            for p in document.get("parameter", []):
                value = str(next((p[k] for k in p if k.startswith("value")), ""))
                if p["name"] == "_type":
                    value = ",".join(filter(None, [params.get("_type", ""), value]))
                params[p["name"]] = value
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InvalidInput(
                "body: not a Parameters resource", fields={"body": ["not a Parameters resource"]}
            ) from None
    return params


@fhir_endpoint(scope="export")
def kickoff(request, actor, level: str, group: str = ""):
    if request.method not in ("GET", "POST"):
        return method_not_allowed(["GET", "POST"])
    if request.headers.get("Prefer", "").replace(" ", "") != "respond-async":
        raise InvalidInput("Prefer: respond-async is required", fields={"Prefer": ["must be respond-async"]})
    job = services.export_kickoff(
        actor=actor,
        level=level,
        params=_parameters(request),
        request_url=request.build_absolute_uri(),
        group=group,
    )
    response = HttpResponse(status=202)
    response["Content-Location"] = request.build_absolute_uri(f"/fhir/bulk-status/{job.pk}")
    return response


@fhir_endpoint(scope="export")
def status(request, actor, job_id):
    if request.method == "DELETE":
        services.export_delete(actor=actor, job_id=job_id)
        return HttpResponse(status=202)
    job = services.export_get(actor=actor, job_id=job_id)
    if job.status in (BulkExportJob.Status.QUEUED, BulkExportJob.Status.RUNNING):
        response = HttpResponse(status=202)
        response["X-Progress"] = job.progress or job.status
        response["Retry-After"] = "5"
        return response
    if job.status == BulkExportJob.Status.FAILED:
        return error_outcome(Conflict(f"The export failed: {job.error}"))
    manifest = {
        "transactionTime": job.transaction_time.isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": o["type"],
                "url": request.build_absolute_uri(f"/fhir/bulk-files/{job.pk}/{o['type']}.ndjson"),
                "count": o["count"],
            }
            for o in job.output
        ],
        "error": [],
    }
    response = HttpResponse(json.dumps(manifest), content_type="application/json")
    response["Expires"] = http_date(services.expires_at(job).timestamp())
    return response


@fhir_endpoint(scope="export")
def download(request, actor, job_id, type_name):
    handle = services.export_file(actor=actor, job_id=job_id, type_name=type_name)
    return FileResponse(handle, content_type="application/fhir+ndjson")
