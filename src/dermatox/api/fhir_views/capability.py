"""GET /fhir/metadata: the CapabilityStatement (public: it describes the server, not any patient)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from dermatox.api import fhir_http as H
from dermatox.api.fhir_views.endpoint import FHIR_VERSION, fhir_response, method_not_allowed, outcome
from dermatox.api.fhir_views.writes import CREATE_VIEWS
from dermatox.fhir.selectors import SPECS

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
