"""CDS Hooks 2.0 endpoints: discovery, patient-view and order-select. Thin: parse, map (prefetch.py,
orders.py), run the pure engine / plan check, render cards (cards.py).

Prefetch: a key the EHR sent as `null` means it has no such data; an OperationOutcome means it could not
fetch it (shown as missing data, never assumed normal). A key it did not send at all is fetched from
`fhirServer` with `fhirAuthorization` by the `fetch` the URLconf wires in (api/cds_fetch.py: only when that
server is this one, through our own selectors); when it cannot be fetched the answer is 412, naming why.
Callers are EHRs with a JWT signed by a key registered for them (trust.py; open while none is registered,
which production refuses).
Nothing is stored: the request's data never touches our records.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from dermatox.cds.cards import data_card, plan_cards, recommendation_cards
from dermatox.cds.orders import VIAL_CHECKS, draft_toxin_orders
from dermatox.cds.prefetch import PrefetchError, map_prefetch
from dermatox.cds.trust import ClientsFileError, Untrusted, check_client, load_clients
from dermatox.clinical.pathways import CaseError, assess
from dermatox.clinical.toxin.plan import check_plan
from dermatox.common.json_body import JsonBodyError, parse_json

PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "medications": "MedicationStatement?patient={{context.patientId}}",
    "administrations": "MedicationAdministration?patient={{context.patientId}}",
}
SERVICES = [
    {
        "hook": "patient-view",
        "id": "dermatox-patient-view",
        "title": "Dermatox hair, acne and toxin pathways",
        "description": "Evidence-graded advice for hair loss, acne and botulinum toxin from the patient's "
        "conditions, hair/skin observations, labs (LOINC) and medications: what is recommended, an "
        "option, not yet, or contraindicated, each with its reasons and evidence.",
        "prefetch": PREFETCH,
        "usageRequirements": "Send every prefetch key (null when there is no data). A key not sent is "
        "fetched only when fhirServer is this Dermatox server's own FHIR API and fhirAuthorization holds a "
        "Dermatox API token with the read scope; otherwise the answer is 412. Codes: ICD-10/SNOMED "
        "conditions, LOINC labs, and the Dermatox code systems for hair/skin findings (see the service "
        "documentation).",
    },
    {
        "hook": "order-select",
        "id": "dermatox-order-select",
        "title": "Dermatox botulinum toxin order check",
        "description": "Checks a draft botulinum toxin order (product, dose in units, body site) against "
        "the Dermatox plan checker: contraindications, the 12-week interval, the label maximum and "
        "units that are not interchangeable between products are blocks; interactions and off-label use "
        "are warnings.",
        "prefetch": PREFETCH,
    },
]
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "600",
}


class BadRequest(ValueError):
    pass


class CannotFetch(Exception):
    """A prefetch key is missing and cannot be fetched: 412 (CDS Hooks 2.0), the message says why."""

    def __init__(self, message: str, status: int = 412):
        super().__init__(message)
        self.status = status


# fetch(request, fhir_server=, access_token=, patient_id=, templates={key: template}) -> {key: value}
Fetch = Callable[..., dict]


def _json(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    for key, value in CORS.items():
        response[key] = value
    return response


def _preflight() -> HttpResponse:
    response = HttpResponse(status=204)
    for key, value in CORS.items():
        response[key] = value
    return response


def _error(message: str, status: int = 400, code: str = "invalid_request") -> JsonResponse:
    return _json({"message": message, "code": code}, status=status)


@csrf_exempt
def discovery(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight()
    if request.method != "GET":
        return _error("Use GET for discovery.", status=405)
    return _json({"services": SERVICES})


def _read(request: HttpRequest, hook: str) -> dict:
    try:
        body = parse_json(request.body)
    except JsonBodyError as exc:
        raise BadRequest(str(exc)) from None
    if not isinstance(body, dict):
        raise BadRequest("body: must be a JSON object")
    if body.get("hook") != hook:
        raise BadRequest(f"hook: must be {hook!r} for this service")
    instance = body.get("hookInstance")
    if not isinstance(instance, str) or not instance.strip():
        raise BadRequest("hookInstance: required (a UUID)")
    context = body.get("context")
    if not isinstance(context, dict):
        raise BadRequest("context: required (an object)")
    if not isinstance(context.get("patientId"), str) or not context["patientId"]:
        raise BadRequest("context.patientId: required")
    prefetch = body.setdefault("prefetch", {})
    if not isinstance(prefetch, dict):
        raise BadRequest(f"prefetch: must be an object with the keys {', '.join(PREFETCH)}")
    server, authorization = body.get("fhirServer"), body.get("fhirAuthorization")
    if server is not None and (not isinstance(server, str) or not server.strip()):
        raise BadRequest("fhirServer: must be the FHIR server's base URL")
    if authorization is not None and (
        not isinstance(authorization, dict)
        or not isinstance(authorization.get("access_token"), str)
        or not authorization["access_token"]
        or str(authorization.get("token_type", "")).lower() != "bearer"
    ):
        raise BadRequest("fhirAuthorization: must be an object with access_token and token_type Bearer")
    return body


def _complete(request: HttpRequest, body: dict, fetch: Fetch | None) -> None:
    """Fetch the prefetch keys the EHR did not send, or raise CannotFetch (412) saying why not."""
    prefetch = body["prefetch"]
    absent = [key for key in PREFETCH if key not in prefetch]
    if absent:
        server, authorization = body.get("fhirServer"), body.get("fhirAuthorization")
        named = ", ".join(f"prefetch.{key}" for key in absent)
        if fetch is None or server is None or authorization is None:
            raise CannotFetch(
                f"{named}: missing, and without fhirServer and fhirAuthorization this service cannot fetch "
                "it: send every prefetch key (null when there is no data)"
            )
        prefetch.update(
            fetch(
                request,
                fhir_server=server,
                access_token=authorization["access_token"],
                patient_id=body["context"]["patientId"],
                templates={key: PREFETCH[key] for key in absent},
            )
        )
    if prefetch.get("patient") is None:
        raise BadRequest("prefetch.patient: required (a Patient resource)")


def _mapped(body: dict):
    mapped = map_prefetch(body["prefetch"], as_of=timezone.localdate())
    patient_id = body["context"]["patientId"]
    if mapped.patient_id and mapped.patient_id != patient_id:
        raise BadRequest(
            f"prefetch.patient.id: {mapped.patient_id!r} does not match context.patientId {patient_id!r}"
        )
    return mapped


@functools.cache
def _clients(path: str) -> dict:
    try:
        return load_clients(path)
    except ClientsFileError as exc:
        raise ImproperlyConfigured(f"DERMATOX_CDS_CLIENTS {exc}") from exc


def _check_caller(request: HttpRequest) -> None:
    """Open (DERMATOX_CDS_OPEN, a development default) or a registered EHR's JWT for this service's URL.
    Used token ids go to the database cache, which every server process sees."""
    if settings.DERMATOX_CDS_OPEN:
        return
    check_client(
        request.headers.get("Authorization"),
        request.build_absolute_uri(request.path),
        _clients(settings.DERMATOX_CDS_CLIENTS) if settings.DERMATOX_CDS_CLIENTS else {},
        lambda key, seconds: caches["shared"].add(key, True, timeout=seconds),
    )


def _service(hook: str, run, fetch: Fetch | None = None):
    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        if request.method == "OPTIONS":
            return _preflight()
        if request.method != "POST":
            return _error("Use POST to call a CDS service.", status=405)
        try:
            _check_caller(request)
        except Untrusted as exc:
            response = _error(str(exc), status=401, code="unauthenticated")
            response["WWW-Authenticate"] = 'Bearer realm="dermatox-cds"'
            return response
        try:
            body = _read(request, hook)
            _complete(request, body, fetch)
            cards = run(body)
        except CannotFetch as exc:
            return _error(str(exc), status=exc.status, code="precondition_failed")
        except BadRequest as exc:
            return _error(str(exc))
        except PrefetchError as exc:
            return _error(str(exc))
        except CaseError as exc:
            return _error("The prefetch gives an invalid case: " + "; ".join(exc.problems))
        return _json({"cards": cards})

    return view


def _patient_view(body: dict) -> list[dict]:
    mapped = _mapped(body)
    cards = []
    if mapped.case is not None:
        result = assess(mapped.case)
        cards = recommendation_cards(result, seed=body["hookInstance"])
    notes = data_card(missing=mapped.missing, ignored=mapped.ignored)
    return cards + ([notes] if notes else [])


def _order_select(body: dict) -> list[dict]:
    context = body["context"]
    if "draftOrders" not in context:
        raise BadRequest("context.draftOrders: required (a Bundle of draft orders)")
    mapped = _mapped(body)
    if mapped.case is None:
        orders = draft_toxin_orders(context, {})
        notes = data_card(missing=mapped.missing, ignored=mapped.ignored)
        return [notes] if orders and notes else []
    orders = draft_toxin_orders(context, mapped.case)
    if not orders:
        return []
    cards = []
    for order in orders:
        if order.plan is None:
            cards += plan_cards(
                {"blocks": [], "warnings": [{"id": "order_incomplete", "text": order.problem}]},
                order_label=order.label,
                order_short=order.short,
            )
            continue
        check = check_plan(order.plan)
        check["warnings"] = [w for w in check["warnings"] if w["id"] not in VIAL_CHECKS]
        check["blocks"] = [b for b in check["blocks"] if b["id"] not in VIAL_CHECKS]
        cards += plan_cards(
            check,
            order_label=order.label,
            order_short=order.short,
            seed=f"{body['hookInstance']}|{order.label}",
        )
    notes = data_card(missing=mapped.missing, ignored=mapped.ignored)
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted(cards, key=lambda c: order[c["indicator"]]) + ([notes] if notes else [])


RUNS = {"patient-view": _patient_view, "order-select": _order_select}


def service_view(hook: str, fetch: Fetch | None = None):
    """The endpoint of a hook's service; `fetch` gets the prefetch keys the EHR left out (None: 412)."""
    return _service(hook, RUNS[hook], fetch)


patient_view = service_view("patient-view")
order_select = service_view("order-select")
