"""Search: the search parameters (dates, tokens, ids, patients), matching, _include/_revinclude, _summary,
paging; GET [type] and POST [type]/_search."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from urllib.parse import urlencode

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from dermatox.api import fhir_http as H
from dermatox.api.fhir_views.endpoint import BadRequest, fhir_response
from dermatox.audit.services import audit_record
from dermatox.common.errors import InvalidInput
from dermatox.common.params import as_bounded_int, whole_number
from dermatox.fhir import resources as R
from dermatox.fhir.selectors import SPECS, Spec, patient_ids_of, record_id_lookup, split_token

DEFAULT_COUNT, MAX_COUNT = 50, 200
MAX_INCLUDED = 1000  # resources _include/_revinclude add to one page, at most
RESULT_PARAMS = {"_count", "_offset", "_format", "_summary", "_include", "_revinclude"}


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
