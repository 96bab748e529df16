"""The FHIR endpoint wrapper (token authentication, scope, content negotiation, errors as an
OperationOutcome) and the responses every interaction answers with."""

from __future__ import annotations

import re
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B.operationoutcome import OperationOutcome

from dermatox.accounts.tokens import bearer_secret, token_actor
from dermatox.api import fhir_http as H
from dermatox.common.errors import DermatoxError, InvalidInput, TooManyRequests
from dermatox.common.http import client_ip
from dermatox.common.throttle import token_throttle
from dermatox.fhir import inbound

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"


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
