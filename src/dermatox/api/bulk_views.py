"""FHIR Bulk Data Access ($export), asynchronous request pattern: kick-off → 202 + Content-Location,
poll the status URL (202 with X-Progress, then 200 with the manifest), download NDJSON files with the same
token, DELETE the status URL to cancel. Levels: system, Patient (all patients of the token's clinic) and
Group (a Group is a clinic here; its id is the clinic code)."""

from __future__ import annotations

import json

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from dermatox.accounts.tokens import TokenRejected, bearer_secret, token_actor, token_for
from dermatox.bulk import services
from dermatox.bulk.models import BulkExportJob
from dermatox.common.errors import Conflict, DermatoxError, InvalidInput, NotFound, PermissionDenied

FHIR_JSON = "application/fhir+json"
STATUS_FOR = {TokenRejected: 401, PermissionDenied: 403, NotFound: 404, Conflict: 409, InvalidInput: 400}


def _outcome(exc: DermatoxError) -> HttpResponse:
    status = next(code for kind, code in STATUS_FOR.items() if isinstance(exc, kind))
    issues = [
        {
            "severity": "error",
            "code": "invalid" if status == 400 else "processing",
            "diagnostics": f"{k}: {' '.join(v)}",
            "expression": [k],
        }
        for k, v in exc.fields.items()
    ] or [
        {
            "severity": "error",
            "code": {401: "login", 403: "forbidden", 404: "not-found"}.get(status, "processing"),
            "diagnostics": exc.message,
        }
    ]
    response = HttpResponse(
        json.dumps({"resourceType": "OperationOutcome", "issue": issues}),
        status=status,
        content_type=FHIR_JSON,
    )
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def _actor(request, scope: str):
    secret = bearer_secret(request.headers.get("Authorization"))
    return token_actor(
        secret,
        scope=scope,
        ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.headers.get("User-Agent", ""),
    )


@csrf_exempt
def kickoff(request, level: str, group: str = ""):
    """GET or POST (parameters in the query string, or a Parameters resource in the body)."""
    try:
        if request.method not in ("GET", "POST"):
            raise InvalidInput("method: use GET or POST", fields={"method": ["use GET or POST"]})
        actor = _actor(request, "export")
        if request.headers.get("Prefer", "").replace(" ", "") != "respond-async":
            raise InvalidInput(
                "Prefer: respond-async is required", fields={"Prefer": ["must be respond-async"]}
            )
        params = {k: v for k, v in request.GET.items()}
        if request.method == "POST" and request.body:
            try:
                body = json.loads(request.body)
                for p in body.get("parameter", []):
                    value = next((p[k] for k in p if k.startswith("value")), "")
                    params[p["name"]] = (
                        ",".join(filter(None, [params.get(p["name"], ""), str(value)]))
                        if p["name"] == "_type"
                        else str(value)
                    )
            except (ValueError, KeyError, TypeError, AttributeError):
                raise InvalidInput(
                    "body: not a Parameters resource", fields={"body": ["not a Parameters resource"]}
                ) from None
        job = services.export_kickoff(
            actor=actor,
            token=token_for(bearer_secret(request.headers.get("Authorization"))),
            level=level,
            params=params,
            request_url=request.build_absolute_uri(),
            group=group,
        )
    except DermatoxError as exc:
        return _outcome(exc)
    response = HttpResponse(status=202)
    response["Content-Location"] = request.build_absolute_uri(f"/fhir/bulk-status/{job.pk}")
    return response


@csrf_exempt
def status(request, job_id):
    try:
        actor = _actor(request, "export")
        if request.method == "DELETE":
            services.export_cancel(actor=actor, job_id=job_id)
            return HttpResponse(status=202)
        job = services.export_get(actor=actor, job_id=job_id)
    except DermatoxError as exc:
        return _outcome(exc)
    if job.status in (BulkExportJob.Status.QUEUED, BulkExportJob.Status.RUNNING):
        response = HttpResponse(status=202)
        response["X-Progress"] = job.progress or job.status
        response["Retry-After"] = "5"
        return response
    if job.status == BulkExportJob.Status.FAILED:
        return _outcome(Conflict(f"The export failed: {job.error}"))
    if job.status == BulkExportJob.Status.CANCELLED:
        return _outcome(NotFound("This export was cancelled"))
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
    response["Expires"] = (job.finished_at or timezone.now()).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response


def download(request, job_id, type_name):
    try:
        actor = _actor(request, "export")
        handle = services.export_file(actor=actor, job_id=job_id, type_name=type_name)
    except DermatoxError as exc:
        return _outcome(exc)
    return FileResponse(handle, content_type="application/fhir+ndjson")
