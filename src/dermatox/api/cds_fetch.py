"""The CDS services' own fetch of a prefetch key the EHR did not send (CDS Hooks 2.0: the service may fetch
it from `fhirServer` with `fhirAuthorization`), when that server is this one: read through the FHIR API's
selectors (clinic scope, role, entered-in-error left out as a search does), never over HTTP, as the API
token in `fhirAuthorization.access_token` (scope `read`), audited as one read naming the patient.

Any other `fhirServer` cannot be fetched from: this server makes no outbound requests on a caller's word
(an address in a request is not a reason to connect to it), so the service answers 412. Wired in urls.py:
the CDS package itself reads none of our records (tests/test_boundaries.py)."""

from __future__ import annotations

import json
import re

from django.http import HttpRequest

from dermatox.accounts.tokens import token_actor
from dermatox.audit.services import audit_record
from dermatox.cds.views import CannotFetch
from dermatox.common.errors import DermatoxError, NotFound, TooManyRequests
from dermatox.common.http import client_ip
from dermatox.common.throttle import token_throttle
from dermatox.fhir.selectors import SPECS
from dermatox.patients.selectors import patient_get

_READ = re.compile(r"^(?P<type>[A-Za-z]+)/\{\{context\.patientId\}\}$")
_SEARCH = re.compile(r"^(?P<type>[A-Za-z]+)\?patient=\{\{context\.patientId\}\}$")


def own_base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir")


def _not_here(type_name: str) -> dict:
    """What a key gets when this server holds no such resources: the spec's way to say it could not be
    fetched (the card lists it as missing, never as "none")."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "warning",
                "code": "not-supported",
                "diagnostics": f"This FHIR server has no {type_name} resources",
            }
        ],
    }


def own_fhir_prefetch(
    request: HttpRequest, *, fhir_server: str, access_token: str, patient_id: str, templates: dict[str, str]
) -> dict:
    """{key: resource, Bundle or OperationOutcome} for each missing key's template, read as the token."""
    ours = own_base(request)
    if fhir_server.rstrip("/") != ours:
        raise CannotFetch(
            f"fhirServer: {fhir_server[:200]} is not this server's FHIR API ({ours}); this service fetches "
            "from no other server: send the prefetch keys"
        )
    try:
        actor = token_actor(
            access_token,
            scope="read",
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        token_throttle(request, actor.token_id)
    except TooManyRequests as exc:
        raise CannotFetch(f"fhirAuthorization: {exc.message}", status=429) from None
    except DermatoxError as exc:
        raise CannotFetch(f"fhirAuthorization: {exc.message}") from None
    try:
        patient = patient_get(actor=actor, patient_id=patient_id, audit_as=None)
    except NotFound:
        raise CannotFetch(
            "context.patientId: no such patient on this FHIR server for the token in fhirAuthorization"
        ) from None
    except DermatoxError as exc:  # the token's role reads no patients
        raise CannotFetch(f"fhirAuthorization: {exc.message}") from None
    values: dict = {}
    counts: dict[str, int] = {}
    for key, template in templates.items():
        read, search = _READ.match(template), _SEARCH.match(template)
        type_name = (read or search).group("type") if (read or search) else template
        spec = SPECS.get(type_name)
        if spec is None or (read and type_name != "Patient"):
            values[key] = _not_here(type_name)  # no such resources here, or a query shape we do not run
            continue
        if not actor.can(spec.perm):
            values[key] = _forbidden(type_name)
            continue
        qs = spec.scoped(actor).filter(**{spec.patient_field: patient.pk})
        if spec.entered_in_error:
            qs = qs.filter(entered_in_error_at__isnull=True)
        if read and type_name == "Patient":
            values[key] = _as_json(spec.to_fhir(qs.get()))
            counts[key] = 1
            continue
        records = list(qs.order_by(*spec.order))
        counts[key] = len(records)
        values[key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(records),
            "entry": [{"resource": _as_json(spec.to_fhir(r))} for r in records],
        }
    audit_record(
        actor=actor,
        action="cds.prefetch",
        obj=patient,
        detail={"keys": sorted(templates), "counts": counts},
    )
    return values


def _forbidden(type_name: str) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "forbidden",
                "diagnostics": f"The token's role may not read {type_name} resources",
            }
        ],
    }


def _as_json(resource) -> dict:
    return json.loads(resource.model_dump_json(exclude_none=True))
