"""The REST API at /api/ (OpenAPI document at /api/openapi.json, browsable docs at /api/docs).

Every operation authenticates with an API token (`Authorization: Bearer dx_…`): GET needs the `read` scope,
writes the `write` scope. The token's clinic is the only clinic it sees: another clinic's records answer 404.
Errors, all of them, have one shape: `{message, code, fields}` (see `Error`), mapped here once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Query, Status, Swagger
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from dermatox.accounts.tokens import bearer_secret, token_actor
from dermatox.api import reads
from dermatox.api import schemas as s
from dermatox.assessments.services import observation_record
from dermatox.common.context import Actor
from dermatox.common.errors import DermatoxError, InvalidInput, TooManyRequests, summarise
from dermatox.common.http import client_ip
from dermatox.common.json_body import JsonBodyError, parse_json
from dermatox.common.throttle import token_throttle
from dermatox.patients import services as patient_services
from dermatox.scheduling import services as scheduling_services
from dermatox.scheduling.selectors import appointment_get, follow_up_get
from dermatox.treatments import services as treatment_services
from dermatox.treatments.actions import SessionStockCorrection, SessionWithdraw
from dermatox.treatments.selectors import appointment_reason_shown, follow_up_shown, point_get, session_get

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


api = NinjaAPI(
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


def _patient(p) -> dict:
    return {
        "id": p.pk,
        "mrn": p.mrn,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "sex_at_birth": p.sex_at_birth,
        "birth_date": p.birth_date,
        "phone": p.phone,
        "email": p.email,
        "address": p.address,
        "preferred_language": p.preferred_language,
        "identifiers": [{"system": i.system, "value": i.value} for i in p.identifiers.all()],
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def _fields(record, names: tuple[str, ...]) -> dict:
    return {name: getattr(record, name) for name in names}


CONDITION_OUT = ("id", "category", "code", "text", "icd10", "snomed", "clinical_status", "onset_date")
MEDICATION_OUT = ("id", "code", "name", "dose", "status", "start_date", "end_date", "recorded_at")
ALLERGY_OUT = ("id", "code", "substance", "reaction", "criticality", "recorded_at")


def _condition(c) -> dict:
    return {**_fields(c, CONDITION_OUT), "recorded_at": c.recorded_at}


def _observation(o) -> dict:
    return {
        **_fields(o, ("id", "code", "loinc", "value_code", "unit", "method", "body_site", "device", "note")),
        "value_number": float(o.value_number) if o.value_number is not None else None,
        "components": o.components or {},
        "effective_at": o.effective_at,
        "encounter_id": o.encounter_id,
        "recorded_at": o.recorded_at,
    }


def _consent(c) -> dict:
    return {
        **_fields(c, ("id", "kind", "decision", "scope", "signed_at", "signer_name")),
        "has_document": bool(c.document),
    }


def _administration(point) -> dict | None:
    w = point.withdrawal
    if w is None:
        return None
    lot = w.vial.lot
    return {
        "units": float(w.units),
        "at": w.at,
        "product": lot.product,
        "lot_number": lot.lot_number,
        "lot_expiry": lot.expiry,
    }


def _vial(v) -> dict:
    strength = v.units_per_0_1_ml
    return {
        **_fields(v, ("id", "state", "vial_units", "opened_at", "beyond_use_at")),
        "product": v.lot.product,
        "lot_number": v.lot.lot_number,
        "expiry": v.lot.expiry,
        "remaining_units": float(v.remaining_units),
        "units_per_0_1_ml": float(strength) if strength is not None else None,
    }


def _point(p) -> dict:
    return {
        **_fields(p, ("id", "view", "region", "depth")),
        "x": float(p.x),
        "y": float(p.y),
        "units": float(p.units),
        "administration": _administration(p),
    }


def _session(t) -> dict:
    return {
        **_fields(t, ("id", "protocol", "product", "status", "vial_id", "note", "created_at", "signed_at")),
        "total_units": float(sum((p.units for p in t.points.all()), start=0)),
        "points": [_point(p) for p in t.points.all()],
        "acknowledgements": [
            {k: a.get(k, "") for k in ("warning", "text", "reason", "by_name", "at")}
            for a in t.acknowledgements or []
        ],
        "entered_in_error": {
            "at": t.entered_in_error_at,
            "by_name": str(t.entered_in_error_by or ""),
            "reason": t.entered_in_error_reason,
            "stock_correction": t.stock_correction,
        }
        if t.is_entered_in_error
        else None,
    }


def _follow_up(actor, record) -> dict:
    """Through the one follow-up read (`follow_up_shown`): no clinical reason or source for front desk."""
    shown = follow_up_shown(actor, record)
    return {
        name: getattr(shown, name)
        for name in ("id", "due_date", "status", "visit", "reason", "source", "created_at")
    }


def _appointment(a, actor) -> dict:
    return {
        **_fields(a, ("id", "uid", "start", "end", "kind", "status")),
        "reason": appointment_reason_shown(actor, a),
        "practitioner_id": a.practitioner_id,
        "practitioner_name": str(a.practitioner) if a.practitioner else "",
        "follow_up_id": a.follow_up_id,
    }


# --- patients ------------------------------------------------------------------------------------------------

Limit = Query(50, ge=1, le=MAX_LIMIT, description=f"page size, at most {MAX_LIMIT}")
Offset = Query(0, ge=0, le=MAX_OFFSET, description="how many records to skip")
NameWords = Query("", max_length=100, description="words of the name (case and accents ignored)")
BirthDate = Query(None, description="date of birth")
Category = Query(None, description="history or diagnosis")
Code = Query("", max_length=64, description="only this measurement")
DateFrom = Query(None, description="measured on or after this day (UTC)")
DateTo = Query(None, description="measured on or before this day (UTC)")


@api.get("/patients", response={200: s.PatientPage, **ERRORS}, tags=["patients"])
def patient_list(
    request,
    q: str = NameWords,
    birth_date: dt.date | None = BirthDate,
    limit: int = Limit,
    offset: int = Offset,
):
    """The clinic's patients, by name; searched by name words and/or date of birth."""
    page = reads.patients_page(actor=request.auth, text=q, birth_date=birth_date, offset=offset, limit=limit)
    return _page(request, page, offset, limit, [_patient(p) for p in page.items])


@api.post("/patients", response={201: s.PatientOut, **ERRORS}, tags=["patients"])
def patient_create(request, payload: s.PatientIn):
    patient = patient_services.patient_create(actor=request.auth, data=payload.model_dump())
    return Status(201, _patient(reads.patient_read(actor=request.auth, patient_id=patient.pk, audit_as=None)))


@api.get("/patients/{patient_id}", response={200: s.PatientOut, **ERRORS}, tags=["patients"])
def patient_detail(request, patient_id: uuid.UUID):
    return _patient(reads.patient_read(actor=request.auth, patient_id=patient_id))


@api.patch("/patients/{patient_id}", response={200: s.PatientOut, **ERRORS}, tags=["patients"])
def patient_update(request, patient_id: uuid.UUID, payload: s.PatientPatch):
    """Change the fields sent; the record keeps every earlier version."""
    actor = request.auth
    patient = reads.patient_read(actor=actor, patient_id=patient_id, audit_as=None)
    patient_services.patient_update(actor=actor, patient=patient, data=payload.model_dump(exclude_unset=True))
    return _patient(reads.patient_read(actor=actor, patient_id=patient_id, audit_as=None))


# --- sections of a patient's record ----------------------------------------------------------------------------


def _section(request, patient_id, section, offset, limit, mapper, **filters):
    page = reads.section_page(
        actor=request.auth, patient_id=patient_id, section=section, offset=offset, limit=limit, **filters
    )
    return _page(request, page, offset, limit, [mapper(r) for r in page.items])


def _writable_patient(request, patient_id):
    return reads.patient_read(actor=request.auth, patient_id=patient_id, audit_as=None)


def _writable_session(request, session_id):
    """The session to change, in the token's clinic (else 404); the service checks role and state (one
    marked entered in error: 409 `session_entered_in_error`)."""
    return session_get(actor=request.auth, session_id=session_id, include_withdrawn=True)


def _session_now(request, session_id) -> dict:
    """The session as a write left it, with its points (not audited as a read: the write is)."""
    return _session(reads.session_read(actor=request.auth, session_id=session_id, audit_as=None))


@api.get("/patients/{patient_id}/conditions", response={200: s.ConditionPage, **ERRORS}, tags=["history"])
def condition_list(
    request,
    patient_id: uuid.UUID,
    category: Literal["history", "diagnosis"] | None = Category,
    limit: int = Limit,
    offset: int = Offset,
):
    """Medical history and diagnoses (current records; those marked entered in error are left out)."""
    return _section(request, patient_id, "conditions", offset, limit, _condition, category=category)


@api.post("/patients/{patient_id}/conditions", response={201: s.ConditionOut, **ERRORS}, tags=["history"])
def condition_create(request, patient_id: uuid.UUID, payload: s.ConditionIn):
    patient = _writable_patient(request, patient_id)
    record = patient_services.condition_add(actor=request.auth, patient=patient, data=payload.model_dump())
    return Status(201, _condition(record))


@api.get("/patients/{patient_id}/medications", response={200: s.MedicationPage, **ERRORS}, tags=["history"])
def medication_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    return _section(request, patient_id, "medications", offset, limit, lambda r: _fields(r, MEDICATION_OUT))


@api.post("/patients/{patient_id}/medications", response={201: s.MedicationOut, **ERRORS}, tags=["history"])
def medication_create(request, patient_id: uuid.UUID, payload: s.MedicationIn):
    patient = _writable_patient(request, patient_id)
    record = patient_services.medication_add(actor=request.auth, patient=patient, data=payload.model_dump())
    return Status(201, _fields(record, MEDICATION_OUT))


@api.get("/patients/{patient_id}/allergies", response={200: s.AllergyPage, **ERRORS}, tags=["history"])
def allergy_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    return _section(request, patient_id, "allergies", offset, limit, lambda r: _fields(r, ALLERGY_OUT))


@api.post("/patients/{patient_id}/allergies", response={201: s.AllergyOut, **ERRORS}, tags=["history"])
def allergy_create(request, patient_id: uuid.UUID, payload: s.AllergyIn):
    patient = _writable_patient(request, patient_id)
    record = patient_services.allergy_add(actor=request.auth, patient=patient, data=payload.model_dump())
    return Status(201, _fields(record, ALLERGY_OUT))


@api.get(
    "/patients/{patient_id}/observations",
    response={200: s.ObservationPage, **ERRORS},
    tags=["observations"],
)
def observation_list(
    request,
    patient_id: uuid.UUID,
    code: str = Code,
    date_from: dt.date | None = DateFrom,
    date_to: dt.date | None = DateTo,
    limit: int = Limit,
    offset: int = Offset,
):
    """Measurements, newest first."""
    if date_from and date_to and date_to < date_from:
        raise InvalidInput("date_to: before date_from", fields={"date_to": ["must not be before date_from"]})
    return _section(
        request,
        patient_id,
        "observations",
        offset,
        limit,
        _observation,
        code=code,
        date_from=date_from,
        date_to=date_to,
    )


@api.post(
    "/patients/{patient_id}/observations",
    response={201: s.ObservationOut, **ERRORS},
    tags=["observations"],
)
def observation_create(request, patient_id: uuid.UUID, payload: s.ObservationIn):
    """Record one measurement; the value is checked against the measurement's range and unit."""
    patient = _writable_patient(request, patient_id)
    record = observation_record(actor=request.auth, patient=patient, **payload.model_dump())
    return Status(201, _observation(record))


@api.get("/patients/{patient_id}/consents", response={200: s.ConsentPage, **ERRORS}, tags=["consents"])
def consent_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    """Every consent decision, newest first (the current state of a kind is its newest decision)."""
    return _section(request, patient_id, "consents", offset, limit, _consent)


@api.post("/patients/{patient_id}/consents", response={201: s.ConsentOut, **ERRORS}, tags=["consents"])
def consent_create(request, patient_id: uuid.UUID, payload: s.ConsentIn):
    """Record one consent decision (granted, refused or withdrawn). A new decision on a kind replaces the
    current state of that kind; earlier decisions stay on the record."""
    patient = _writable_patient(request, patient_id)
    record = patient_services.consent_record(actor=request.auth, patient=patient, data=payload.model_dump())
    return Status(201, _consent(record))


@api.get(
    "/patients/{patient_id}/toxin-sessions",
    response={200: s.ToxinSessionPage, **ERRORS},
    tags=["treatments"],
)
def toxin_session_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    """Toxin sessions with their injection points; a signed session's points carry what was administered
    (units, product, lot). Units are the product's own and never converted."""
    return _section(request, patient_id, "toxin_sessions", offset, limit, _session)


@api.post(
    "/patients/{patient_id}/toxin-sessions",
    response={201: s.ToxinSessionOut, **ERRORS},
    tags=["treatments"],
)
def toxin_session_create(request, patient_id: uuid.UUID, payload: s.ToxinSessionIn):
    """Start a draft session from a protocol: its points are laid out on the maps, to be adjusted, then
    signed. The vial may be chosen now or later (`PUT …/vial`); it must be open and of the protocol's
    product (400 on `vial` otherwise)."""
    patient = _writable_patient(request, patient_id)
    session = treatment_services.session_create(actor=request.auth, patient=patient, **payload.model_dump())
    return Status(201, _session_now(request, session.pk))


@api.get("/toxin-sessions/{session_id}", response={200: s.ToxinSessionOut, **ERRORS}, tags=["treatments"])
def toxin_session_detail(request, session_id: int):
    """One session with its current points; once signed, each point carries what was administered."""
    return _session(reads.session_read(actor=request.auth, session_id=session_id))


@api.post(
    "/toxin-sessions/{session_id}/points",
    response={201: s.InjectionPointOut, **ERRORS},
    tags=["treatments"],
)
def injection_point_create(request, session_id: int, payload: s.InjectionPointIn):
    """Add a point to a draft session (409 `session_signed` once signed)."""
    session = _writable_session(request, session_id)
    point = treatment_services.point_save(actor=request.auth, session=session, data=payload.model_dump())
    return Status(201, _point(point))


@api.patch(
    "/toxin-sessions/{session_id}/points/{point_id}",
    response={200: s.InjectionPointOut, **ERRORS},
    tags=["treatments"],
)
def injection_point_update(request, session_id: int, point_id: int, payload: s.InjectionPointPatch):
    """Move or re-dose a point: the fields sent change, as a new version of the point. The region is not
    worked out from the position: send it when the point moves to another one."""
    session = _writable_session(request, session_id)
    point = point_get(session=session, point_id=point_id)
    point = treatment_services.point_save(
        actor=request.auth, session=session, point=point, data=payload.model_dump(exclude_unset=True)
    )
    return _point(point)


@api.delete(
    "/toxin-sessions/{session_id}/points/{point_id}",
    response={204: None, **ERRORS},
    tags=["treatments"],
)
def injection_point_delete(request, session_id: int, point_id: int):
    """Remove a point from a draft session (it is kept, marked entered in error, with its history)."""
    session = _writable_session(request, session_id)
    point = point_get(session=session, point_id=point_id)
    treatment_services.point_remove(actor=request.auth, session=session, point=point)
    return Status(204, None)


@api.put(
    "/toxin-sessions/{session_id}/vial", response={200: s.ToxinSessionOut, **ERRORS}, tags=["treatments"]
)
def toxin_session_set_vial(request, session_id: int, payload: s.VialIn):
    """Choose the vial the doses come from: an open vial of the session's product in this clinic."""
    session = _writable_session(request, session_id)
    treatment_services.session_set_vial(actor=request.auth, session=session, vial_id=payload.vial_id)
    return _session_now(request, session.pk)


@api.post(
    "/toxin-sessions/{session_id}/sign",
    response={200: s.ToxinSessionOut, **ERRORS},
    tags=["treatments"],
    openapi_extra={
        "responses": {
            409: {
                "description": "Not signed, nothing written: the plan check blocks it (`plan_blocked`, "
                "the reasons in `message`); a warning has no reason (`warnings_not_acknowledged`: "
                "`fields` names each as `acknowledgements.<warning id>` with the warning's text); the "
                "session is already signed (`session_signed`) or entered in error "
                "(`session_entered_in_error`).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        }
    },
)
def toxin_session_sign(request, session_id: int, payload: s.SessionSignIn | None = None):
    """Sign: the plan is checked, then in one transaction the units are taken from the vial, each point is
    recorded as an administration with its lot, and the protocol's reviews are added as follow-ups. A plan
    the rules block answers 409 `plan_blocked` (the reasons in `message`) and writes nothing. A plan with
    warnings is signed only with a reason for each (`acknowledgements: [{warning, reason}]`, 3 to 300
    characters); otherwise 409 `warnings_not_acknowledged` lists the warning ids in `message` and in
    `fields` (`acknowledgements.<id>`: the warning's text) and writes nothing. The reasons are stored with
    the session (`acknowledgements`: who, when, the warning and the reason). A session already signed
    answers 409 `session_signed`; no vial or no points answers 400."""
    session = _writable_session(request, session_id)
    reasons: dict[str, str] = {}
    for ack in payload.acknowledgements if payload else []:
        if ack.warning in reasons:
            raise InvalidInput.from_fields({"acknowledgements": [f"{ack.warning}: given twice"]})
        reasons[ack.warning] = ack.reason
    treatment_services.session_sign(actor=request.auth, session=session, acknowledgements=reasons)
    return _session_now(request, session.pk)


@api.post(
    "/toxin-sessions/{session_id}/entered-in-error",
    response={200: s.ToxinSessionOut, **ERRORS},
    tags=["treatments"],
)
def toxin_session_withdraw(request, session_id: int, payload: s.EnteredInErrorIn):
    """Mark a session entered in error (a charting mistake: wrong patient, never given). A signed session's
    administrations and vial withdrawals are withdrawn with it, and its open reviews; they no longer count
    toward the 12-week interval or the label maximum, and leave FHIR searches and exports, while lot recall
    still lists them, marked. The units are not returned to the vial: say what happened to them with
    `…/stock-correction`. Already marked: 409 `session_entered_in_error`."""
    session = _writable_session(request, session_id)
    SessionWithdraw(request.auth, session).execute(reason=payload.reason)
    return _session_now(request, session.pk)


@api.post(
    "/toxin-sessions/{session_id}/stock-correction",
    response={200: s.ToxinSessionOut, **ERRORS},
    tags=["treatments"],
)
def toxin_session_stock_correction(request, session_id: int, payload: s.StockCorrectionIn):
    """After a signed session was marked entered in error, once: `returned` puts its units back into its
    vial (409 `vial_return_refused` when the vial is discarded, expired, past its beyond-use time or would
    overflow), `wasted` records them as waste. 409 `no_correction` for a session that is not a withdrawn
    signed one, `stock_already_corrected` the second time."""
    session = _writable_session(request, session_id)
    SessionStockCorrection(request.auth, session).execute(kind=payload.correction)
    return _session_now(request, session.pk)


@api.get("/patients/{patient_id}/follow-ups", response={200: s.FollowUpPage, **ERRORS}, tags=["treatments"])
def follow_up_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    """The patient's follow-ups (recalls). `reason` and `source` are clinical: null for a token whose role
    does not see clinical records (front desk, manager), which gets `visit`, the kind of visit to book."""
    return _section(request, patient_id, "follow_ups", offset, limit, lambda r: _follow_up(request.auth, r))


@api.get("/vials", response={200: s.VialPage, **ERRORS}, tags=["treatments"])
def vial_list(
    request,
    product: str | None = Query(None, max_length=40, description="only this toxin product"),
    state: Literal["sealed", "open", "empty", "discarded"] | None = Query(
        None, description="only this state"
    ),
    limit: int = Limit,
    offset: int = Offset,
):
    """The clinic's vials with their lot, strength and units left: `?state=open&product=…` lists those a
    session may draw from (`PUT /toxin-sessions/{id}/vial`). For injectors and managers."""
    page = reads.vials_page(actor=request.auth, product=product, state=state, offset=offset, limit=limit)
    return _page(request, page, offset, limit, [_vial(v) for v in page.items])


@api.post("/patients/{patient_id}/follow-ups", response={201: s.FollowUpOut, **ERRORS}, tags=["treatments"])
def follow_up_create(request, patient_id: uuid.UUID, payload: s.FollowUpIn):
    """Add a follow-up (a recall) by hand; it shows on the recall list until booked or closed."""
    patient = _writable_patient(request, patient_id)
    record = treatment_services.follow_up_create(
        actor=request.auth, patient=patient, data=payload.model_dump()
    )
    return Status(201, _follow_up(request.auth, record))


@api.patch("/follow-ups/{follow_up_id}", response={200: s.FollowUpOut, **ERRORS}, tags=["treatments"])
def follow_up_update(request, follow_up_id: int, payload: s.FollowUpStatusIn):
    """Set a follow-up's status: open, done or cancelled. It becomes `booked` only by booking an
    appointment for it, and a booked one changes with its appointment (409 `follow_up_booked` here)."""
    follow_up = follow_up_get(actor=request.auth, follow_up_id=follow_up_id)
    record = treatment_services.follow_up_mark(actor=request.auth, follow_up=follow_up, status=payload.status)
    return _follow_up(request.auth, record)


@api.get(
    "/patients/{patient_id}/appointments",
    response={200: s.AppointmentPage, **ERRORS},
    tags=["appointments"],
)
def appointment_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    """The patient's appointments, latest first (cancelled ones included, with their status)."""
    return _section(
        request, patient_id, "appointments", offset, limit, lambda a: _appointment(a, request.auth)
    )


@api.post(
    "/patients/{patient_id}/appointments",
    response={201: s.AppointmentOut, **ERRORS},
    tags=["appointments"],
)
def appointment_create(request, patient_id: uuid.UUID, payload: s.AppointmentIn):
    """Book an appointment. A practitioner who is already booked at that time answers 400 on `start`."""
    patient = _writable_patient(request, patient_id)
    data = payload.model_dump()
    data["practitioner"] = data.pop("practitioner_id")
    appointment = scheduling_services.appointment_book(actor=request.auth, patient=patient, data=data)
    return Status(201, _appointment(appointment, request.auth))


@api.patch(
    "/appointments/{appointment_id}", response={200: s.AppointmentOut, **ERRORS}, tags=["appointments"]
)
def appointment_update(request, appointment_id: int, payload: s.AppointmentPatch):
    """Reschedule a booked appointment: a new start and/or end, and/or another practitioner (`null`: none).
    The same checks as booking (400 naming `start`, `end` or `practitioner`); an appointment no longer
    booked (cancelled, arrived, …) answers 409 `not_booked`."""
    appointment = appointment_get(actor=request.auth, appointment_id=appointment_id, audit_as=None)
    data = payload.model_dump(exclude_unset=True)
    if "practitioner_id" in data:
        data["practitioner"] = data.pop("practitioner_id")
    appointment = scheduling_services.appointment_reschedule(
        actor=request.auth, appointment=appointment, data=data
    )
    return _appointment(appointment, request.auth)


@api.post(
    "/appointments/{appointment_id}/cancel",
    response={200: s.AppointmentOut, **ERRORS},
    tags=["appointments"],
)
def appointment_cancel(request, appointment_id: int, payload: s.CancelIn):
    """Cancel a booked appointment, saying why. A follow-up it was booked for goes back on the recall list.
    One no longer booked answers 409 `not_booked`."""
    appointment = appointment_get(actor=request.auth, appointment_id=appointment_id, audit_as=None)
    appointment = scheduling_services.appointment_cancel(
        actor=request.auth, appointment=appointment, reason=payload.reason
    )
    return _appointment(appointment, request.auth)
