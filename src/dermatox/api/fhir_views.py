"""FHIR R4 (4.0.1) endpoints under /fhir/: metadata, read, vread, search (GET and POST _search), Patient
create/update/history, Observation and Condition create, conditional read/create/update. Thin:
authentication by API token, scoped reads from `fhir.selectors`, writes through the services, mapping in
`fhir/`, HTTP headers in `fhir_http`. Every error, and every path or method we do not serve, is an
OperationOutcome with its HTTP status."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from functools import wraps
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from dermatox.accounts.tokens import bearer_secret, token_actor
from dermatox.api import fhir_http as H
from dermatox.assessments.services import observation_record
from dermatox.audit.services import audit_record
from dermatox.common.errors import DermatoxError, InvalidInput, NotFound, TooManyRequests
from dermatox.common.http import client_ip
from dermatox.common.params import as_bounded_int, whole_number
from dermatox.common.throttle import token_throttle
from dermatox.fhir import inbound
from dermatox.fhir import resources as R
from dermatox.fhir.selectors import (
    SPECS,
    Spec,
    conditional_create_lock,
    patient_ids_of,
    record_id_lookup,
    record_version,
    split_token,
)
from dermatox.patients.selectors import patient_get
from dermatox.patients.services import condition_add, patient_create, patient_update

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
DEFAULT_COUNT, MAX_COUNT = 50, 200
MAX_INCLUDED = 1000  # resources _include/_revinclude add to one page, at most
RESULT_PARAMS = {"_count", "_offset", "_format", "_summary", "_include", "_revinclude"}


class BadRequest(Exception):
    def __init__(self, message: str, expression: str | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.expression, self.status = message, expression, status


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
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    429: "throttled",
    500: "exception",
}  # else "invalid"


def error_outcome(exc: Exception) -> HttpResponse | None:
    """Our exceptions as OperationOutcomes with their HTTP status (None: not ours, let it raise)."""
    if isinstance(exc, BadRequest):
        return outcome(exc.status, ISSUE_CODES.get(exc.status, "invalid"), [(exc.expression, exc.message)])
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


def fhir_endpoint(view=None, *, scope: str | None = None, negotiate: bool = False):
    """Authenticate (scope: the one given, else read for GET and write otherwise) and map every error to an
    OperationOutcome. The view is called as view(request, actor, ...). `negotiate`: first answer 406 when
    the client takes no JSON (`_format`, Accept), before anything else (the FHIR interactions; bulk
    export negotiates its own formats)."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            needed = scope or ("read" if request.method in ("GET", "HEAD") else "write")
            if negotiate and (problem := H.not_acceptable(request)):
                return outcome(406, "not-supported", [("_format", problem)])
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
        versioning = "versioned" if spec.history else "no-version"
        resource = {
            "type": name,
            "interaction": [{"code": c} for c in interactions],
            # Patient: an update with If-Match is checked against the version (412 when stale).
            "versioning": "versioned-update" if name == "Patient" else versioning,
            "readHistory": name == "Patient",
            "updateCreate": False,
            "conditionalCreate": name in CREATE_VIEWS,  # If-None-Exist
            "conditionalRead": "full-support",  # If-None-Match and If-Modified-Since answer 304
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
            "searchInclude": [f"{name}:{n}" for n in spec.references()],
            "searchRevInclude": [
                f"{t}:{n}" for t, s in SPECS.items() for n, target in s.references().items() if target == name
            ],
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
                    "documentation": "Search with GET or POST [type]/_search (form-encoded). Paging: _count "
                    "(default 50, max 200), next/self/previous links; _summary=count; _include/_revinclude as "
                    "listed per type. JSON only: _format or Accept asking for anything else is a 406.",
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
    if problem := H.not_acceptable(request):
        return outcome(406, "not-supported", [("_format", problem)])
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


def _count(params: QueryDict) -> tuple[int, int]:
    try:
        count = whole_number(params.get("_count"), "_count", default=DEFAULT_COUNT)
        offset = whole_number(params.get("_offset"), "_offset", default=0)
    except InvalidInput as exc:
        raise BadRequest(exc.message, next(iter(exc.fields))) from None
    return min(count, MAX_COUNT), offset


def _values(params: QueryDict, name: str) -> list[list[str]]:
    """Each occurrence of the parameter (AND) as its comma-separated values (OR), empty ones refused."""
    groups = []
    for raw in params.getlist(name):
        values = [v for v in raw.split(",") if v.strip()]
        if not values:
            raise BadRequest(f"{name}: a value is required", name)
        groups.append(values)
    return groups


def _token_q(spec: Spec, name: str, value: str) -> Q:
    try:
        system, code = split_token(value)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}", name) from None
    return spec.code(system, code)


def matching(actor, spec: Spec, params: QueryDict, result_params=RESULT_PARAMS):
    """The records of the actor's clinic a search's parameters select (unordered): what a search pages
    through and what a conditional create (If-None-Exist) counts. An unknown parameter, a modifier or a
    value we cannot read is a BadRequest naming it."""
    allowed = set(result_params) | set(spec.search_params())
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadRequest(f"unsupported search parameter(s): {', '.join(unknown)}", unknown[0])
    qs = spec.scoped(actor)
    if spec.entered_in_error:
        qs = qs.filter(entered_in_error_at__isnull=True)
    if "_id" in params:
        qs = qs.filter(_id_filter(spec, params["_id"]))
    for name in ("patient", "subject"):
        if name in params:
            qs = qs.filter(_patient_filter(spec, params[name]))
    if "code" in params:
        for values in _values(params, "code"):
            q = Q()
            for value in values:
                q |= _token_q(spec, "code", value)
            qs = qs.filter(q)
    for name, (_kind, build) in spec.params.items():
        for values in _values(params, name) if name in params else []:
            q = Q()
            for value in values:
                try:
                    q |= build(actor, qs, value)
                except ValueError as exc:
                    raise BadRequest(f"{name}: {exc}", name) from None
            qs = qs.filter(q)
    for name, field_name in spec.date_params.items():
        if name in params:
            qs = qs.filter(date_filter(name, field_name, params.getlist(name), field_name in spec.date_only))
    if "_lastUpdated" in params:
        qs = qs.filter(date_filter("_lastUpdated", spec.last_updated, params.getlist("_lastUpdated"), False))
    return qs


def _summary(params: QueryDict) -> bool:
    """True for `_summary=count` (the total only); `false` is the default (whole resources)."""
    values = params.getlist("_summary")
    for value in values:
        if value not in ("count", "false"):
            raise BadRequest(
                f"_summary: only 'count' and 'false' are supported, not {value[:40]!r}", "_summary"
            )
    return "count" in values


def _includes(actor, spec: Spec, params: QueryDict) -> tuple[set[str], dict[str, set[str]]]:
    """`_include` (`<this type>:<reference parameter>[:<target>]`, or `*`): the types whose records this
    page refers to; `_revinclude` (`<type>:<reference parameter>[:<this type>]`, or `*`): type -> the
    reference parameters by which its records refer to this page's. `*` means those the actor's role may
    read; a type named outright that the role may not read is a 403 when it is read."""
    forward: set[str] = set()
    for value in params.getlist("_include"):
        if value == "*":
            forward |= set(spec.references().values())
            continue
        source, _, rest = value.partition(":")
        name, _, target = rest.partition(":")
        references = spec.references()
        if source != spec.type or name not in references or target not in ("", references[name]):
            offered = ", ".join(f"{spec.type}:{n}" for n in references) or "none"
            raise BadRequest(
                f"_include: {value[:60]!r} is not supported here (supported: {offered})", "_include"
            )
        forward.add(references[name])
    backward: dict[str, set[str]] = {}
    referring = {
        (t, n): s for t, s in SPECS.items() for n, target in s.references().items() if target == spec.type
    }
    for value in params.getlist("_revinclude"):
        if value == "*":
            for t, n in referring:
                if actor.can(SPECS[t].perm):
                    backward.setdefault(t, set()).add(n)
            continue
        source, _, rest = value.partition(":")
        name, _, target = rest.partition(":")
        if (source, name) not in referring or target not in ("", spec.type):
            offered = ", ".join(f"{t}:{n}" for t, n in referring) or "none"
            raise BadRequest(
                f"_revinclude: {value[:60]!r} is not supported here (supported: {offered})", "_revinclude"
            )
        backward.setdefault(source, set()).add(name)
    return forward, backward


def _included(actor, spec: Spec, records: list, forward: set[str], backward: dict[str, set[str]]) -> list:
    """(spec, record) pairs _include and _revinclude add to a page: the patients its records refer to, and
    the records (as a search would find them) that refer to its patients; at most MAX_INCLUDED."""
    out: list = []
    if not records:
        return out
    patient_ids = patient_ids_of(spec, records)
    if "Patient" in forward and spec.type != "Patient":
        patients = SPECS["Patient"]
        out += [
            (patients, r) for r in patients.scoped(actor).filter(pk__in=patient_ids).order_by(*patients.order)
        ]
    for type_name in sorted(backward):
        other = SPECS[type_name]
        qs = matching(actor, other, QueryDict()).filter(**{f"{other.patient_field}__in": patient_ids})
        room = MAX_INCLUDED + 1 - len(out)
        out += [(other, r) for r in qs.order_by(*other.order)[: max(room, 0)]]
    return out


def search(request: HttpRequest, actor, spec: Spec, params: QueryDict | None = None) -> HttpResponse:
    params = request.GET if params is None else params
    if problem := H.not_acceptable(request, params):
        raise BadRequest(problem, "_format", status=406)
    count, offset = _count(params)
    only_count = _summary(params)
    forward, backward = _includes(actor, spec, params)
    qs = matching(actor, spec, params)
    total = qs.count()
    records = list(qs.order_by(*spec.order)[offset : offset + count]) if count and not only_count else []
    base = request.build_absolute_uri(f"/fhir/{spec.type}")
    query = [(k, v) for k, vs in params.lists() for v in vs if k not in ("_count", "_offset")]

    def page_url(at: int) -> str:
        return f"{base}?{urlencode([*query, ('_count', count), ('_offset', at)])}"

    links = [{"relation": "self", "url": page_url(offset)}]
    if count and offset + count < total and not only_count:
        links.append({"relation": "next", "url": page_url(offset + count)})
    if offset > 0 and count and not only_count:
        links.append({"relation": "previous", "url": page_url(max(0, offset - count))})
    included = _included(actor, spec, records, forward, backward)
    entries = [_entry(request, spec, record, "match") for record in records]
    entries += [_entry(request, other, record, "include") for other, record in included[:MAX_INCLUDED]]
    if len(included) > MAX_INCLUDED:
        entries.append(_truncated_outcome())
    patient_ids = sorted(
        set(patient_ids_of(spec, records)).union(
            *(patient_ids_of(o, [r]) for o, r in included[:MAX_INCLUDED]),
            _counted_patients(spec, params) if only_count and total else (),
        )
    )
    audit_record(
        actor=actor,
        action="fhir.search",
        patient_id=patient_ids[0] if len(patient_ids) == 1 else None,
        detail={
            "type": spec.type,
            "query": urlencode(query)[:300],
            "results": len(records),
            "included": min(len(included), MAX_INCLUDED),
            "total": total,
            "patient_ids": patient_ids,
        },
    )
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links, "entry": entries}
    return fhir_response(Bundle.model_validate(R._clean(bundle)))


def _counted_patients(spec: Spec, params: QueryDict) -> set[str]:
    """The patients a `_summary=count` search that found something was about: those its patient/subject
    parameters name (a count of one patient's records tells something about that patient)."""
    if spec.type == "Patient":
        return set()
    named = set()
    for name in ("patient", "subject"):
        for value in params.getlist(name):
            try:
                named.add(str(uuid.UUID(value.removeprefix("Patient/"))))
            except ValueError:
                continue
    return named


def _entry(request: HttpRequest, spec: Spec, record, mode: str) -> dict:
    resource = spec.to_fhir(record)
    return {
        "fullUrl": request.build_absolute_uri(f"/fhir/{spec.type}/{resource.id}"),
        "resource": json.loads(resource.model_dump_json(exclude_none=True)),
        "search": {"mode": mode},
    }


def _truncated_outcome() -> dict:
    issue = {
        "severity": "warning",
        "code": "too-costly",
        "diagnostics": f"_include/_revinclude: only the first {MAX_INCLUDED} resources are included; "
        "page with a smaller _count",
    }
    return {"resource": {"resourceType": "OperationOutcome", "issue": [issue]}, "search": {"mode": "outcome"}}


def search_post_view(request: HttpRequest, actor, spec: Spec) -> HttpResponse:
    """POST [type]/_search: the parameters form-encoded in the body (and/or in the URL), as a GET."""
    if problem := H.unsupported_body(request, (H.FORM, "multipart/form-data")):
        raise BadRequest(problem, "Content-Type", status=415)
    params = request.GET.copy()
    for name, values in request.POST.lists():
        params.setlist(name, params.getlist(name) + values)
    return search(request, actor, spec, params)


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


def conditional_read(request: HttpRequest, resource, audit) -> HttpResponse:
    """The resource with its validators (ETag, Last-Modified), or 304 when the client's copy is current
    (If-None-Match, If-Modified-Since). `audit()` records the read either way: a 304 still tells the
    client the record exists and is as it has it."""
    meta = resource.meta
    version = (meta.versionId if meta else None) or "1"
    updated = meta.lastUpdated if meta else None
    headers = H.validators(version, updated)
    audit()
    if H.not_modified(request, version, updated):
        return H.response_304(headers)
    return fhir_response(resource, headers=headers)


def read(request: HttpRequest, actor, spec: Spec, resource_id: str) -> HttpResponse:
    record = _get_record(actor, spec, resource_id)
    return conditional_read(
        request,
        spec.to_fhir(record),
        lambda: audit_record(actor=actor, action="fhir.read", obj=record, detail={"type": spec.type}),
    )


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


def _if_match(request) -> list[str] | None:
    """The versions an update may replace (If-Match: `W/"<versionId>"`, a list, or `*`), None without it."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = H.parse_tags(header)
    if tags is None:
        raise BadRequest('If-Match: not an entity tag (W/"<versionId>")', "If-Match")
    return tags


def patient_update_view(request, actor, resource_id: str) -> HttpResponse:
    """A full replace; with If-Match, only of the version named (else 412, nothing written). The version is
    checked and the update written in one transaction with the patient's row locked, so of two clients
    that read version n, the second to write gets 412."""
    expected = _if_match(request)
    data, body_id = inbound.patient_from_fhir(request.body)
    with transaction.atomic():
        patient = patient_get(actor=actor, patient_id=resource_id, audit_as=None)
        if body_id != resource_id:
            raise BadRequest("Patient.id must match the id in the URL", "Patient.id")
        if expected is not None and "*" not in expected:
            current = record_version(actor, SPECS["Patient"], patient.pk, lock=True)
            if current not in expected:
                raise BadRequest(
                    f"If-Match: the patient is at version {current}, not {', '.join(expected)[:40]}: read it "
                    "again and reapply the change",
                    "If-Match",
                    status=412,
                )
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


def create(request: HttpRequest, actor, spec: Spec) -> HttpResponse:
    """POST [type], with If-None-Exist a conditional create: the header's search parameters matching no
    record create it (201), one record answer it unchanged (200), more than one 412. The match and the
    create are one transaction holding the clinic's lock, so two identical requests make one record."""
    if problem := H.unsupported_body(request):
        raise BadRequest(problem, "Content-Type", status=415)
    header = request.headers.get("If-None-Exist")
    if header is None:
        return CREATE_VIEWS[spec.type](request, actor)
    criteria = QueryDict(header.strip().removeprefix("?"))
    if not criteria:
        raise BadRequest(
            "If-None-Exist: search parameters are required (e.g. identifier=<system>|<value>)",
            "If-None-Exist",
        )
    with transaction.atomic():
        conditional_create_lock(actor)
        try:
            found = list(matching(actor, spec, criteria, result_params=()).order_by(*spec.order)[:2])
        except BadRequest as exc:
            raise BadRequest(f"If-None-Exist: {exc.message}", "If-None-Exist") from None
        if not found:
            return CREATE_VIEWS[spec.type](request, actor)
    if len(found) > 1:
        raise BadRequest(
            f"If-None-Exist: more than one {spec.type} matches; make the criteria selective",
            "If-None-Exist",
            status=412,
        )
    record = found[0]
    audit_record(actor=actor, action="fhir.read", obj=record, detail={"type": spec.type, "conditional": True})
    resource = spec.to_fhir(record)
    version = resource.meta.versionId if resource.meta else "1"
    return fhir_response(
        resource,
        200,
        {
            "Location": request.build_absolute_uri(f"/fhir/{spec.type}/{resource.id}/_history/{version}"),
            **H.validators(version, resource.meta.lastUpdated if resource.meta else None),
        },
    )


# --- routing -----------------------------------------------------------------------------------------


def _spec(type_name: str) -> Spec:
    spec = SPECS.get(type_name)
    if spec is None:
        raise NotFound(f"Resource type {type_name!r} is not supported")
    return spec


@fhir_endpoint(negotiate=True)
def type_view(request: HttpRequest, actor, type_name: str) -> HttpResponse:
    spec = _spec(type_name)
    if request.method == "GET":
        return search(request, actor, spec)
    if request.method == "POST" and type_name in CREATE_VIEWS:
        return create(request, actor, spec)
    return method_not_allowed(["GET", "POST"] if type_name in CREATE_VIEWS else ["GET"])


@fhir_endpoint(scope="read", negotiate=True)
def search_view(request: HttpRequest, actor, type_name: str) -> HttpResponse:
    spec = _spec(type_name)
    if request.method == "POST":
        return search_post_view(request, actor, spec)
    return method_not_allowed(["POST"])


@fhir_endpoint(negotiate=True)
def instance_view(request: HttpRequest, actor, type_name: str, resource_id: str) -> HttpResponse:
    spec = _spec(type_name)
    if resource_id.startswith("$"):
        raise NotFound(f"Operation {resource_id[:40]} is not supported on {type_name} (see /fhir/metadata)")
    if request.method == "GET":
        return read(request, actor, spec, resource_id)
    if request.method == "PUT" and type_name == "Patient":
        if problem := H.unsupported_body(request):
            raise BadRequest(problem, "Content-Type", status=415)
        return patient_update_view(request, actor, resource_id)
    return method_not_allowed(["GET", "PUT"] if type_name == "Patient" else ["GET"])


@csrf_exempt
def base_view(request: HttpRequest) -> HttpResponse:
    """[base] itself: batch/transaction (POST) and whole-system search or history are not supported."""
    if problem := H.not_acceptable(request):
        return outcome(406, "not-supported", [("_format", problem)])
    return outcome(
        405,
        "not-supported",
        [(None, "batch, transaction and whole-system interactions are not supported; see /fhir/metadata")],
        {"Allow": ""},
    )


@csrf_exempt
def unknown_view(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Every other path under /fhir/: an OperationOutcome, never a page. Unauthenticated on purpose: it
    names no record and reads nothing."""
    if problem := H.not_acceptable(request):
        return outcome(406, "not-supported", [("_format", problem)])
    first = rest.split("/", 1)[0]
    if first and first not in SPECS and not first.startswith(("$", "_")):
        message = f"Resource type {first[:60]!r} is not supported (see /fhir/metadata)"
    else:
        message = f"{request.method} /fhir/{rest[:100]} is not an interaction this server supports (see /fhir/metadata)"
    return outcome(404, "not-supported" if first in SPECS else "not-found", [(None, message)])


@fhir_endpoint(negotiate=True)
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
        return conditional_read(
            request,
            match[0],
            lambda: audit_record(
                actor=actor,
                action="fhir.read",
                obj=patient,
                detail={"type": "Patient", "version": version_id},
            ),
        )
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
