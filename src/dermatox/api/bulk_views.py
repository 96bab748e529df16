"""FHIR Bulk Data Access ($export), asynchronous request pattern: kick-off → 202 + Content-Location,
poll the status URL (202 with X-Progress, then 200 with the manifest), download NDJSON files with the same
token, DELETE the status URL to cancel (or, once the files are fetched, to have them deleted at once; the
worker deletes them DERMATOX_BULK_EXPORT_HOURS after the export in any case). Levels: system, Patient (all
patients of the token's clinic, or those the `patient` parameter names) and Group (a Group is a clinic here,
its id the clinic code, its members the clinic's current patients: fhir/groups.py). Kick-off as the SMART
reference client sends it: `Prefer: respond-async` (with `handling=lenient`: unsupported parameters are set
aside and reported in the manifest's `error` file, otherwise refused with 400). Authentication and errors
are the FHIR API's."""

from __future__ import annotations

import json

from django.http import FileResponse, HttpResponse
from django.utils.http import http_date

from dermatox.api.fhir_views import error_outcome, fhir_endpoint, method_not_allowed
from dermatox.bulk import services
from dermatox.bulk.models import BulkExportJob
from dermatox.common.errors import Conflict, InvalidInput
from dermatox.common.json_body import JsonBodyError, parse_json


def _value(parameter: dict) -> str:
    """A Parameters entry's value as text: a reference's `reference`, a boolean as FHIR writes it."""
    key = next((k for k in parameter if k.startswith("value")), None)
    if key is None:
        raise ValueError("no value[x]")
    value = parameter[key]
    if key == "valueReference":
        return str(value["reference"])
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise ValueError(f"{key}: not a primitive value")
    return str(value)


def _parameters(request) -> dict[str, list[str]]:
    """Every value of every kick-off parameter: the query string's (a name may repeat) and those of a
    Parameters resource posted as the body (Bulk Data IG 2.0: each `_type` or `patient` its own entry).
    `patient` is a POST-only parameter: in the query string it is refused, never ignored (ignoring it would
    export every patient's records)."""
    params: dict[str, list[str]] = {name: request.GET.getlist(name) for name in request.GET}
    if "patient" in params:
        raise InvalidInput(
            "patient: send it in a POST Parameters body (valueReference Patient/<id>), not in the query",
            fields={"patient": ["only in a POST Parameters body, as valueReference Patient/<id>"]},
        )
    if request.method == "POST" and request.body:
        try:
            document = parse_json(request.body)
        except JsonBodyError as exc:
            raise InvalidInput(str(exc), fields={exc.path: [exc.message]}) from None
        try:
            if document.get("resourceType") != "Parameters":
                raise ValueError("resourceType")
            for number, p in enumerate(document.get("parameter") or []):
                try:
                    name = p["name"]
                    if not isinstance(name, str) or not name:
                        raise ValueError("name")
                    params.setdefault(name, []).append(_value(p))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise InvalidInput(
                        f"parameter[{number}]: needs a name and one value[x] ({exc})",
                        fields={
                            f"parameter[{number}]": [
                                "needs a name and one primitive value[x] or valueReference"
                            ]
                        },
                    ) from None
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InvalidInput(
                "body: not a Parameters resource", fields={"body": ["not a Parameters resource"]}
            ) from None
    return params


def _prefer(request) -> tuple[bool, bool]:
    """(respond-async asked for, handling=lenient asked for), from the Prefer header(s) (RFC 7240:
    comma-separated preferences, any order, case-insensitive, a value may be quoted; `;` is read as a
    separator too, as some clients write `respond-async; handling=lenient`)."""
    preferences = set()
    for item in request.headers.get("Prefer", "").replace(";", ",").split(","):
        name, _, value = item.strip().partition("=")
        preferences.add((name.strip().lower(), value.strip().strip('"').lower()))
    return ("respond-async", "") in preferences, ("handling", "lenient") in preferences


@fhir_endpoint(scope="export")
def kickoff(request, actor, level: str, group: str = ""):
    if request.method not in ("GET", "POST"):
        return method_not_allowed(["GET", "POST"])
    respond_async, lenient = _prefer(request)
    if not respond_async:
        raise InvalidInput(
            "Prefer: respond-async is required",
            fields={"Prefer": ["must include respond-async (and may include handling=lenient)"]},
        )
    job = services.export_kickoff(
        actor=actor,
        level=level,
        params=_parameters(request),
        request_url=request.build_absolute_uri(),
        group=group,
        lenient=lenient,
    )
    response = HttpResponse(status=202)
    response["Content-Location"] = request.build_absolute_uri(f"/fhir/bulk-status/{job.pk}")
    return response


def _entry(request, job: BulkExportJob, output: dict) -> dict:
    url = request.build_absolute_uri(f"/fhir/bulk-files/{job.pk}/{output['type']}.ndjson")
    return {"type": output["type"], "url": url, "count": output["count"]}


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
        "output": [_entry(request, job, o) for o in job.output if not o.get("error") and o["count"]],
        "error": [_entry(request, job, o) for o in job.output if o.get("error")],
    }
    response = HttpResponse(json.dumps(manifest), content_type="application/json")
    response["Expires"] = http_date(services.expires_at(job).timestamp())
    return response


@fhir_endpoint(scope="export")
def download(request, actor, job_id, type_name):
    handle = services.export_file(actor=actor, job_id=job_id, type_name=type_name)
    return FileResponse(handle, content_type="application/fhir+ndjson")
