"""What every router of the REST API shares: the API object with its token auth and bounded JSON parser,
the errors (mapped once, to `Error`), pages, and the common query parameters."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Query, Swagger
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from dermatox.accounts.tokens import bearer_secret, token_actor
from dermatox.api import reads
from dermatox.api.schemas import base as s
from dermatox.common.context import Actor
from dermatox.common.errors import DermatoxError, TooManyRequests, summarise
from dermatox.common.http import client_ip
from dermatox.common.json_body import JsonBodyError, parse_json
from dermatox.common.throttle import token_throttle

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000


class TokenAuth(HttpBearer):
    """A Dermatox API token; the scope it needs follows from the method (GET: read, else write)."""

    def __call__(self, request: HttpRequest) -> Actor:
        # Unlike HttpBearer, a missing or malformed header is rejected here, with our error shape.
        return self.authenticate(request, bearer_secret(request.headers.get("Authorization")))

    def authenticate(self, request: HttpRequest, token: str) -> Actor:
        scope = "read" if request.method in READ_METHODS else "write"
        actor = token_actor(
            token,
            scope=scope,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        token_throttle(request, actor.token_id)
        return actor


class BoundedJsonParser(Parser):
    """Bodies through the one bounded JSON reader (depth, size, UTF-8). NUL characters and integer ranges
    are left to the schemas, which name the field (422) and the services (400)."""

    def parse_body(self, request):
        return parse_json(request.body, check_values=False)


class RestAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        """`dermatox_api_rest_<view>`, the ids of the time every operation lived in api/rest.py: clients
        generate their method names from them, so the router module an operation lives in shows nowhere."""
        return "dermatox_api_rest_" + operation.view_func.__name__


api = RestAPI(
    parser=BoundedJsonParser(),
    title="Dermatox API",
    version="1",
    description=(
        "Records of one clinic: patients, history, observations, consents, toxin sessions, follow-ups and "
        "appointments. Authenticate with `Authorization: Bearer <token>` (make one with "
        "`dermatox token create`). Every error is `{message, code, fields}`."
    ),
    urls_namespace="api",
    auth=TokenAuth(),
    openapi_url="/openapi.json",
    docs_url="/docs",
    # ninja's local Swagger UI (ninja is in INSTALLED_APPS); no validator badge fetched from swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)

# --- errors: mapped once ---------------------------------------------------------------------------------

ERRORS = {status: s.Error for status in (400, 401, 403, 404, 409, 422, 429)}
STATUS_CODES = {400: "bad_request", 401: "unauthenticated", 403: "permission_denied", 404: "not_found"}


def _error(request, status: int, message: str, code: str, fields: dict | None = None):
    response = api.create_response(
        request, {"message": message, "code": code, "fields": fields or {}}, status=status
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="dermatox"'
    return response


@api.exception_handler(DermatoxError)
def _dermatox_error(request, exc: DermatoxError):
    response = _error(request, exc.http_status, exc.message, exc.code, exc.fields)
    if isinstance(exc, TooManyRequests):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _location(loc) -> str:
    """`("body", "payload", "given_name")` -> `body.given_name`; `("query", "limit")` -> `query.limit`."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body" and len(parts) >= 2:
        parts = [parts[0], *parts[2:]]  # the handler's argument name means nothing to a client
    return ".".join(parts) or "__all__"


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        fields.setdefault(_location(error.get("loc", ())), []).append(str(error.get("msg", "invalid")))
    return _error(request, 422, f"Invalid request: {summarise(fields)}", "invalid", fields)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    cause = exc.__cause__  # ninja wraps what the parser raised in a generic 400
    if isinstance(cause, JsonBodyError):
        status, code = (413, "request_too_large") if cause.too_large else (400, "bad_request")
        return _error(request, status, str(cause), code, {cause.path: [cause.message]})
    code = STATUS_CODES.get(exc.status_code, "error")
    return _error(request, exc.status_code, str(exc), code)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "Not found", "not_found")


# --- output mapping ----------------------------------------------------------------------------------------


def _page(request: HttpRequest, page: reads.Slice, offset: int, limit: int, items: list) -> dict:
    def link(at: int) -> str:
        params = request.GET.copy()
        params["offset"], params["limit"] = str(at), str(limit)
        return f"{request.path}?{params.urlencode()}"

    has_next = offset + len(page.items) < page.count
    return {
        "count": page.count,
        "next": link(offset + limit) if has_next else None,
        "previous": link(max(0, offset - limit)) if offset > 0 else None,
        "items": items,
    }


def _fields(record, names: tuple[str, ...]) -> dict:
    return {name: getattr(record, name) for name in names}


# --- query parameters and the sections of a patient's record ----------------------------------------------

Limit = Query(50, ge=1, le=MAX_LIMIT, description=f"page size, at most {MAX_LIMIT}")
Offset = Query(0, ge=0, le=MAX_OFFSET, description="how many records to skip")
NameWords = Query("", max_length=100, description="words of the name (case and accents ignored)")
BirthDate = Query(None, description="date of birth")
Category = Query(None, description="history or diagnosis")
Code = Query("", max_length=64, description="only this measurement")
DateFrom = Query(None, description="measured on or after this day (UTC)")
DateTo = Query(None, description="measured on or before this day (UTC)")


def _section(request, patient_id, section, offset, limit, mapper, **filters):
    page = reads.section_page(
        actor=request.auth, patient_id=patient_id, section=section, offset=offset, limit=limit, **filters
    )
    return _page(request, page, offset, limit, [mapper(r) for r in page.items])


def _writable_patient(request, patient_id):
    return reads.patient_read(actor=request.auth, patient_id=patient_id, audit_as=None)
