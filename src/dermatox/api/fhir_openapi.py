"""An OpenAPI description of the FHIR read and search interactions, built from the same search definitions
the views use. For integrators' tooling and for the contract tests (schemathesis); the FHIR contract itself
is the CapabilityStatement at /fhir/metadata."""

from __future__ import annotations

from django.http import JsonResponse

from dermatox.fhir.selectors import SPECS

FHIR_JSON = "application/fhir+json"
ERRORS = {
    "400": "Bad search parameter",
    "401": "No valid token",
    "403": "Scope or role",
    "404": "Not found",
    "406": "Not JSON (_format or Accept)",
    "429": "Over the token's rate limit; see Retry-After",
}


def _resource(type_name: str) -> dict:
    return {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "enum": [type_name]}},
    }


def _responses(ok: dict) -> dict:
    responses = {"200": {"description": "OK", "content": {FHIR_JSON: {"schema": ok}}}}
    for status, text in ERRORS.items():
        responses[status] = {
            "description": f"{text} (OperationOutcome)",
            "content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}},
        }
    return responses


def _query(name: str, kind: str = "string") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": kind}}


def fhir_openapi() -> dict:
    paths = {}
    for type_name, spec in SPECS.items():
        params = [_query(name) for name in spec.search_params()]
        params += [_query("_count", "integer"), _query("_offset", "integer"), _query("_summary")]
        params += [_query(name) for name in ("_include", "_revinclude")]
        security = [{"Bearer": []}]
        paths[f"/fhir/{type_name}"] = {
            "get": {
                "operationId": f"search{type_name}",
                "parameters": params,
                "security": security,
                "responses": _responses(_resource("Bundle")),
            }
        }
        paths[f"/fhir/{type_name}/{{id}}"] = {
            "get": {
                "operationId": f"read{type_name}",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "security": security,
                "responses": _responses(_resource(type_name)),
            }
        }
    from dermatox.fhir.groups import SEARCH_PARAMS as GROUP_PARAMS  # the clinic as a Group

    paths["/fhir/Group"] = {
        "get": {
            "operationId": "searchGroup",
            "parameters": [_query(name) for name in GROUP_PARAMS],
            "security": [{"Bearer": []}],
            "responses": _responses(_resource("Bundle")),
        }
    }
    paths["/fhir/Group/{id}"] = {
        "get": {
            "operationId": "readGroup",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "security": [{"Bearer": []}],
            "responses": _responses(_resource("Group")),
        }
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Dermatox FHIR R4 (read and search)", "version": "4.0.1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"Bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "OperationOutcome": {
                    "type": "object",
                    "required": ["resourceType", "issue"],
                    "properties": {
                        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
                        "issue": {"type": "array", "minItems": 1, "items": {"type": "object"}},
                    },
                }
            },
        },
    }


def openapi_view(request):
    return JsonResponse(fhir_openapi())
