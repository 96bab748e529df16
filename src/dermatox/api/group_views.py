"""FHIR Group read and search (/fhir/Group, /fhir/Group/<id>): the token's clinic as a Group of its current
patients (fhir/groups.py). Routed before the generic FHIR routes, which know no Group."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from fhir.resources.R4B.bundle import Bundle

from dermatox.api.fhir_views import BadRequest, fhir_endpoint, fhir_response, method_not_allowed
from dermatox.fhir.groups import SEARCH_PARAMS, group_read, group_search

ALLOWED = set(SEARCH_PARAMS) | {"_format"}


@fhir_endpoint(negotiate=True)
def group_type_view(request: HttpRequest, actor) -> HttpResponse:
    if request.method != "GET":
        return method_not_allowed(["GET"])
    unknown = sorted(set(request.GET) - ALLOWED)
    if unknown:
        raise BadRequest(f"unsupported search parameter(s): {', '.join(unknown)}", unknown[0])
    if request.GET.get("_format", "json") not in ("json", "application/fhir+json", "application/json"):
        raise BadRequest("_format: only json is supported", "_format")
    params = {name: request.GET.getlist(name) for name in SEARCH_PARAMS if name in request.GET}
    groups = group_search(actor=actor, params=params)
    base = request.build_absolute_uri("/fhir/Group")
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(groups),
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": [
            {
                "fullUrl": f"{base}/{group.id}",
                "resource": json.loads(group.model_dump_json(exclude_none=True)),
                "search": {"mode": "match"},
            }
            for group in groups
        ]
        or None,
    }
    return fhir_response(Bundle.model_validate({k: v for k, v in bundle.items() if v is not None}))


@fhir_endpoint(negotiate=True)
def group_instance_view(request: HttpRequest, actor, group_id: str) -> HttpResponse:
    if request.method != "GET":
        return method_not_allowed(["GET"])
    return fhir_response(group_read(actor=actor, group_id=group_id))
