"""Routing: the type, _search and instance views, [base] and every path under /fhir/ we do not serve."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from dermatox.api import fhir_http as H
from dermatox.api.fhir_views.endpoint import BadRequest, fhir_endpoint, method_not_allowed, outcome
from dermatox.api.fhir_views.reads import read
from dermatox.api.fhir_views.searches import search, search_post_view
from dermatox.api.fhir_views.writes import CREATE_VIEWS, create, patient_update_view
from dermatox.common.errors import NotFound
from dermatox.fhir.selectors import SPECS, Spec


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
