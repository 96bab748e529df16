"""FHIR R4 (4.0.1) endpoints under /fhir/: metadata, read, vread, search, Patient create/update/history,
Observation create. Thin: authentication by API token, scoped reads from `fhir.selectors`, writes through
the services, mapping in `fhir/`. Every error is an OperationOutcome with its HTTP status."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from functools import wraps
from urllib.parse import urlencode

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from dermatox.accounts.tokens import bearer_secret, token_actor
from dermatox.assessments.services import observation_record
from dermatox.audit.services import audit_record
from dermatox.common.errors import DermatoxError, InvalidInput, NotFound, TooManyRequests
from dermatox.common.http import client_ip
from dermatox.common.params import as_bounded_int, whole_number
from dermatox.common.throttle import token_throttle
from dermatox.fhir import inbound
from dermatox.fhir import resources as R
from dermatox.fhir.selectors import SPECS, Spec, patient_ids_of, record_id_lookup
from dermatox.patients.selectors import patient_get
from dermatox.patients.services import condition_add, patient_create, patient_update

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
DEFAULT_COUNT, MAX_COUNT = 50, 200
PAGING_PARAMS = {"_count", "_offset", "_format"}


class BadRequest(Exception):
    def __init__(self, message: str, expression: str | None = None):
        super().__init__(message)
        self.message, self.expression = message, expression


# --- responses ---------------------------------------------------------------------------------------


def fhir_response(resource, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(
        resource.model_dump_json(exclude_none=True), content_type=FHIR_JSON, status=status
    )
    for key, value in (headers or {}).items():
        response[key] = value
    return response


_NOT_FHIR_TEXT = re.compile(r"[^ \r\n\t\S]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _fhir_text(text: str) -> str:
    """Echoed client input (e.g. an unknown parameter name) made a valid FHIR string: control characters
    become "?", so a hostile query cannot turn a 400 into a 500."""
    return _NOT_FHIR_TEXT.sub("?", text)


def outcome(status: int, code: str, problems: list[tuple[str | None, str]], headers=None) -> HttpResponse:
    issues = []
    for path, message in problems:
        issue = {"severity": "error", "code": code, "diagnostics": _fhir_text(message) or "error"}
        if path and _fhir_text(path).strip():
            issue["expression"] = [_fhir_text(path)]
        issues.append(issue)
    return fhir_response(
        OperationOutcome.model_validate({"resourceType": "OperationOutcome", "issue": issues}),
        status,
        headers,
    )


ISSUE_CODES = {
    401: "login",
    403: "forbidden",
    404: "not-found",
    409: "conflict",
    413: "too-costly",
    429: "throttled",
    500: "exception",
}  # else "invalid"


def error_outcome(exc: Exception) -> HttpResponse | None:
    """Our exceptions as OperationOutcomes with their HTTP status (None: not ours, let it raise)."""
    if isinstance(exc, BadRequest):
        return outcome(400, "invalid", [(exc.expression, exc.message)])
    if isinstance(exc, inbound.InvalidResource):
        return outcome(exc.status, ISSUE_CODES.get(exc.status, "invalid"), exc.problems)
    if not isinstance(exc, DermatoxError):
        return None
    status = exc.http_status
    issues = [(k, " ".join(v)) for k, v in exc.fields.items()] if isinstance(exc, InvalidInput) else []
    headers = {"WWW-Authenticate": 'Bearer realm="fhir"'} if status == 401 else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return outcome(status, ISSUE_CODES.get(status, "invalid"), issues or [(None, exc.message)], headers)


def fhir_endpoint(view=None, *, scope: str | None = None):
    """Authenticate (scope: the one given, else read for GET and write otherwise) and map every error to an
    OperationOutcome. The view is called as view(request, actor, ...)."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            needed = scope or ("read" if request.method in ("GET", "HEAD") else "write")
            try:
                actor = token_actor(
                    bearer_secret(request.headers.get("Authorization")),
                    scope=needed,
                    ip=client_ip(request),
                    user_agent=request.headers.get("User-Agent", ""),
                )
                token_throttle(request, actor.token_id)
                return view(request, actor, *args, **kwargs)
            except (DermatoxError, BadRequest, inbound.InvalidResource) as exc:
                return error_outcome(exc)

        return wrapper

    return decorate(view) if view is not None else decorate


def method_not_allowed(allowed: list[str]) -> HttpResponse:
    return outcome(
        405, "not-supported", [(None, f"allowed: {', '.join(allowed)}")], {"Allow": ", ".join(allowed)}
    )


# --- metadata ----------------------------------------------------------------------------------------


# FHIR Bulk Data Access IG operations ($export at system, Patient and Group level: docs/fhir.md).
BULK_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
BULK_PATIENT_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
BULK_GROUP_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"


def capability_statement(base: str) -> CapabilityStatement:
    resources = []
    for name, spec in SPECS.items():
        params = [{"name": n, "type": t} for n, t in spec.search_params().items()]
        interactions = ["read", "search-type"] + (["create"] if name in CREATE_VIEWS else [])
        if name == "Patient":
            interactions += ["vread", "update", "history-instance"]
        resource = {
            "type": name,
            "interaction": [{"code": c} for c in interactions],
            "versioning": "versioned" if spec.history else "no-version",
            "readHistory": name == "Patient",
            "updateCreate": False,
            "searchParam": params,
        }
        if name == "Patient":
            resource["operation"] = [{"name": "export", "definition": BULK_PATIENT_EXPORT}]
        resources.append(resource)
    from dermatox.fhir.groups import capability_entry  # Group: a clinic's patients (fhir/groups.py)

    resources.append(capability_entry(BULK_GROUP_EXPORT))
    return CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-01-01",
            "publisher": "Dermatox",
            "kind": "instance",
            "software": {"name": "Dermatox"},
            "implementation": {"description": "Dermatox FHIR R4 API", "url": base},
            "fhirVersion": FHIR_VERSION,
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": "Search paging: _count (default 50, max 200), next/self links.",
                    "security": {
                        "description": "Authorization: Bearer <API token> (Dermatox API tokens with scopes "
                        "read / write / export). Each token acts for one clinic; other clinics' records are not found."
                    },
                    "resource": resources,
                    "operation": [{"name": "export", "definition": BULK_EXPORT}],
                }
            ],
        }
    )


@csrf_exempt
def metadata(request: HttpRequest) -> HttpResponse:
    """Public, as FHIR expects (it describes the server, not any patient)."""
    if request.method != "GET":
        return method_not_allowed(["GET"])
    return fhir_response(capability_statement(request.build_absolute_uri("/fhir")))


# --- search parameters -------------------------------------------------------------------------------

_DATE = re.compile(r"^(eq|ne|ge|le|gt|lt|sa|eb|ap)?(\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?)$")


def _interval(value: str) -> tuple[dt.datetime, dt.datetime]:
    """The instant range [start, end) a FHIR date value of any precision stands for."""
    tz = timezone.get_current_timezone()
    if len(value) == 4:
        start = dt.datetime(int(value), 1, 1)
        end = dt.datetime(int(value) + 1, 1, 1)
    elif len(value) == 7:
        y, m = int(value[:4]), int(value[5:7])
        start = dt.datetime(y, m, 1)
        end = dt.datetime(y + (m == 12), m % 12 + 1, 1)
    elif len(value) == 10:
        start = dt.datetime.fromisoformat(value)
        end = start + dt.timedelta(days=1)
    else:
        start = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if start.tzinfo is None:
            raise ValueError("a time needs a zone")
        end = start + dt.timedelta(seconds=1)
    if start.tzinfo is None:
        start, end = timezone.make_aware(start, tz), timezone.make_aware(end, tz)
    return start, end


def date_filter(name: str, field_name: str, values: list[str], date_only: bool) -> Q:
    q = Q()
    for raw in values:
        m = _DATE.match(raw)
        if not m:
            raise BadRequest(f"{name}: not a FHIR date ({raw!r})", name)
        prefix, value = m.group(1) or "eq", m.group(2)
        if prefix not in ("eq", "ge", "le", "gt", "lt"):
            raise BadRequest(f"{name}: prefix {prefix!r} is not supported (eq, ge, le, gt, lt)", name)
        try:
            start, end = _interval(value)
        except ValueError as exc:
            raise BadRequest(f"{name}: {exc}", name) from exc
        if date_only:
            start, end = start.date(), end.date()
        q &= {
            "eq": Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end}),
            "ge": Q(**{f"{field_name}__gte": start}),
            "gt": Q(**{f"{field_name}__gte": end}),
            "le": Q(**{f"{field_name}__lt": end}),
            "lt": Q(**{f"{field_name}__lt": start}),
        }[prefix]
    return q


def _patient_filter(spec: Spec, value: str) -> Q:
    pid = value.removeprefix("Patient/")
    try:
        return Q(**{spec.patient_field: uuid.UUID(pid)})
    except ValueError:
        return Q(pk__in=[])  # a malformed id matches nothing, like an unknown one


def _id_filter(spec: Spec, value: str) -> Q:
    ids = [v.strip() for v in value.split(",") if v.strip()]
    lookup = record_id_lookup(spec)
    valid = []
    for v in ids:  # a malformed or out-of-range id matches nothing, like an unknown one
        if spec.uuid_id:
            try:
                valid.append(uuid.UUID(v))
            except ValueError:
                continue
        elif (number := as_bounded_int(v)) is not None:
            valid.append(number)
    return Q(**{f"{lookup}__in": valid})


def _count(request: HttpRequest) -> tuple[int, int]:
    try:
        count = whole_number(request.GET.get("_count"), "_count", default=DEFAULT_COUNT)
        offset = whole_number(request.GET.get("_offset"), "_offset", default=0)
    except InvalidInput as exc:
        raise BadRequest(exc.message, next(iter(exc.fields))) from None
    return min(count, MAX_COUNT), offset


def search(request: HttpRequest, actor, spec: Spec) -> HttpResponse:
    allowed = set(PAGING_PARAMS) | set(spec.search_params())
    unknown = sorted(set(request.GET) - allowed)
    if unknown:
        raise BadRequest(f"unsupported search parameter(s): {', '.join(unknown)}", unknown[0])
    if request.GET.get("_format", "json") not in ("json", FHIR_JSON, "application/json"):
        raise BadRequest("_format: only json is supported", "_format")
    count, offset = _count(request)
    qs = spec.scoped(actor)
    if spec.entered_in_error:
        qs = qs.filter(entered_in_error_at__isnull=True)
    if "_id" in request.GET:
        qs = qs.filter(_id_filter(spec, request.GET["_id"]))
    for name in ("patient", "subject"):
        if name in request.GET:
            qs = qs.filter(_patient_filter(spec, request.GET[name]))
    if "code" in request.GET:
        q = Q()
        for token in request.GET["code"].split(","):
            system, sep, code = token.rpartition("|")
            q |= spec.code(system if sep else None, code)
        qs = qs.filter(q)
    for name, field_name in spec.date_params.items():
        if name in request.GET:
            qs = qs.filter(
                date_filter(name, field_name, request.GET.getlist(name), field_name in spec.date_only)
            )
    if "_lastUpdated" in request.GET:
        qs = qs.filter(
            date_filter("_lastUpdated", spec.last_updated, request.GET.getlist("_lastUpdated"), False)
        )
    total = qs.count()
    records = list(qs.order_by(*spec.order)[offset : offset + count]) if count else []
    base = request.build_absolute_uri(f"/fhir/{spec.type}")
    params = [(k, v) for k, vs in request.GET.lists() for v in vs if k not in ("_count", "_offset")]

    def page_url(at: int) -> str:
        return f"{base}?{urlencode([*params, ('_count', count), ('_offset', at)])}"

    links = [{"relation": "self", "url": page_url(offset)}]
    if count and offset + count < total:
        links.append({"relation": "next", "url": page_url(offset + count)})
    if offset > 0 and count:
        links.append({"relation": "previous", "url": page_url(max(0, offset - count))})
    entries = []
    for record in records:
        resource = spec.to_fhir(record)
        entries.append(
            {
                "fullUrl": f"{base}/{resource.id}",
                "resource": json.loads(resource.model_dump_json(exclude_none=True)),
                "search": {"mode": "match"},
            }
        )
    patient_ids = patient_ids_of(spec, records)
    audit_record(
        actor=actor,
        action="fhir.search",
        patient_id=patient_ids[0] if len(patient_ids) == 1 else None,
        detail={
            "type": spec.type,
            "query": request.GET.urlencode()[:300],
            "results": len(records),
            "total": total,
            "patient_ids": patient_ids,
        },
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": entries,
    }
    return fhir_response(Bundle.model_validate(R._clean(bundle)))


def _get_record(actor, spec: Spec, resource_id: str):
    qs = spec.scoped(actor)
    try:
        key = uuid.UUID(resource_id) if spec.uuid_id else as_bounded_int(resource_id)
    except ValueError as exc:
        raise NotFound(f"No such {spec.type}") from exc
    if key is None:
        raise NotFound(f"No such {spec.type}")
    record = qs.filter(**{record_id_lookup(spec): key}).first()
    if record is None:
        raise NotFound(f"No such {spec.type}")
    return record


def read(request: HttpRequest, actor, spec: Spec, resource_id: str) -> HttpResponse:
    record = _get_record(actor, spec, resource_id)
    audit_record(actor=actor, action="fhir.read", obj=record, detail={"type": spec.type})
    resource = spec.to_fhir(record)
    headers = {"ETag": f'W/"{resource.meta.versionId}"'} if resource.meta and resource.meta.versionId else {}
    return fhir_response(resource, headers=headers)


# --- writes ------------------------------------------------------------------------------------------


def _invalid_input(exc: InvalidInput, paths: dict[str, str], type_name: str) -> inbound.InvalidResource:
    problems = [
        (paths.get(name, type_name), f"{' '.join(messages)}") for name, messages in exc.fields.items()
    ] or [(type_name, exc.message)]
    return inbound.InvalidResource(problems)


def _patient_response(request, actor, patient, status: int) -> HttpResponse:
    record = SPECS["Patient"].scoped(actor).get(pk=patient.pk)
    resource = R.patient_to_fhir(record)
    vid = resource.meta.versionId
    return fhir_response(
        resource,
        status,
        {
            "Location": request.build_absolute_uri(f"/fhir/Patient/{patient.pk}/_history/{vid}"),
            "ETag": f'W/"{vid}"',
        },
    )


def patient_create_view(request, actor) -> HttpResponse:
    data, _ = inbound.patient_from_fhir(request.body)
    try:
        patient = patient_create(actor=actor, data=data)
    except InvalidInput as exc:
        raise _invalid_input(exc, inbound.PATIENT_PATHS, "Patient") from exc
    return _patient_response(request, actor, patient, 201)


def patient_update_view(request, actor, resource_id: str) -> HttpResponse:
    patient = patient_get(actor=actor, patient_id=resource_id, audit_as=None)
    data, body_id = inbound.patient_from_fhir(request.body)
    if body_id != resource_id:
        raise BadRequest("Patient.id must match the id in the URL", "Patient.id")
    try:
        patient = patient_update(actor=actor, patient=patient, data=data)
    except InvalidInput as exc:
        raise _invalid_input(exc, inbound.PATIENT_PATHS, "Patient") from exc
    return _patient_response(request, actor, patient, 200)


def _create_for_patient(request, actor, type_name: str, patient_id: str, paths: dict, write) -> HttpResponse:
    """Create a record of a patient of the actor's clinic with `write(patient)` (a service call); answer
    201 with the resource as stored. An unknown patient is a 422 on `subject`, like any bad element."""
    try:
        patient = patient_get(actor=actor, patient_id=patient_id, audit_as=None)
    except NotFound as exc:
        raise inbound.InvalidResource([(f"{type_name}.subject", "no such patient")]) from exc
    try:
        record = write(patient)
    except InvalidInput as exc:
        raise _invalid_input(exc, paths, type_name) from exc
    resource = SPECS[type_name].to_fhir(SPECS[type_name].scoped(actor).get(pk=record.pk))
    return fhir_response(
        resource,
        201,
        {"Location": request.build_absolute_uri(f"/fhir/{type_name}/{record.pk}/_history/1")},
    )


def observation_create_view(request, actor) -> HttpResponse:
    patient_id, kwargs = inbound.observation_from_fhir(request.body)
    return _create_for_patient(
        request,
        actor,
        "Observation",
        patient_id,
        inbound.OBSERVATION_PATHS,
        lambda patient: observation_record(actor=actor, patient=patient, **kwargs),
    )


def condition_create_view(request, actor) -> HttpResponse:
    patient_id, data = inbound.condition_from_fhir(request.body)
    return _create_for_patient(
        request,
        actor,
        "Condition",
        patient_id,
        inbound.CONDITION_PATHS,
        lambda patient: condition_add(actor=actor, patient=patient, data=data),
    )


CREATE_VIEWS = {
    "Patient": patient_create_view,
    "Observation": observation_create_view,
    "Condition": condition_create_view,
}


# --- routing -----------------------------------------------------------------------------------------


def _spec(type_name: str) -> Spec:
    spec = SPECS.get(type_name)
    if spec is None:
        raise NotFound(f"Resource type {type_name!r} is not supported")
    return spec


@fhir_endpoint
def type_view(request: HttpRequest, actor, type_name: str) -> HttpResponse:
    spec = _spec(type_name)
    if request.method == "GET":
        return search(request, actor, spec)
    if request.method == "POST" and type_name in CREATE_VIEWS:
        return CREATE_VIEWS[type_name](request, actor)
    return method_not_allowed(["GET", "POST"] if type_name in CREATE_VIEWS else ["GET"])


@fhir_endpoint
def instance_view(request: HttpRequest, actor, type_name: str, resource_id: str) -> HttpResponse:
    spec = _spec(type_name)
    if request.method == "GET":
        return read(request, actor, spec, resource_id)
    if request.method == "PUT" and type_name == "Patient":
        return patient_update_view(request, actor, resource_id)
    return method_not_allowed(["GET", "PUT"] if type_name == "Patient" else ["GET"])


@fhir_endpoint
def patient_history_view(request: HttpRequest, actor, resource_id: str, version_id: str | None = None):
    if request.method != "GET":
        return method_not_allowed(["GET"])
    patient = patient_get(actor=actor, patient_id=resource_id, audit_as=None)
    versions = list(patient.history.order_by("history_date", "history_id"))
    identifiers = list(patient.identifiers.all())
    base = request.build_absolute_uri(f"/fhir/Patient/{patient.pk}")
    numbered = []
    for number, row in enumerate(versions, start=1):
        instance = row.instance
        instance.fhir_version, instance.fhir_updated = number, row.history_date
        resource = R.patient_to_fhir(instance, clinic=patient.clinic, identifiers=identifiers)
        numbered.append((number, row, resource))
    if version_id is not None:
        match = [r for n, _, r in numbered if str(n) == version_id]
        if not match:
            raise NotFound("No such version")
        audit_record(
            actor=actor, action="fhir.read", obj=patient, detail={"type": "Patient", "version": version_id}
        )
        return fhir_response(match[0], headers={"ETag": f'W/"{version_id}"'})
    audit_record(
        actor=actor, action="fhir.history", obj=patient, detail={"type": "Patient", "versions": len(numbered)}
    )
    entries = [
        {
            "fullUrl": base,
            "resource": json.loads(resource.model_dump_json(exclude_none=True)),
            "request": {
                "method": "POST" if row.history_type == "+" else "PUT",
                "url": f"Patient/{patient.pk}",
            },
            "response": {"status": "201" if row.history_type == "+" else "200"},
        }
        for _, row, resource in reversed(numbered)
    ]
    bundle = {"resourceType": "Bundle", "type": "history", "total": len(entries), "entry": entries}
    return fhir_response(Bundle.model_validate(R._clean(bundle)))
