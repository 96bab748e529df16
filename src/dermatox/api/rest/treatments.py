"""Toxin sessions and their injection points, the vials they draw from, follow-ups (recalls).

The vials are here, not in a router of their own: they are tagged `treatments`, and the document lists
`/vials` between a patient's follow-ups and `/follow-ups/{id}` (one router's operations stay together)."""

from __future__ import annotations

import uuid
from typing import Literal

from ninja import Query, Router, Status

from dermatox.api import reads
from dermatox.api.rest.base import (
    ERRORS,
    Limit,
    Offset,
    _fields,
    _page,
    _section,
    _writable_patient,
)
from dermatox.api.schemas import treatments as s
from dermatox.common.errors import InvalidInput
from dermatox.scheduling.selectors import follow_up_get
from dermatox.treatments import services as treatment_services
from dermatox.treatments.actions import (
    PointChart,
    SessionCreate,
    SessionSign,
    SessionStockCorrection,
    SessionWithdraw,
    VialChoose,
)
from dermatox.treatments.selectors import follow_up_shown, point_get, session_get

router = Router()


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


def _writable_session(request, session_id):
    """The session to change, in the token's clinic (else 404); the service checks role and state (one
    marked entered in error: 409 `session_entered_in_error`)."""
    return session_get(actor=request.auth, session_id=session_id, include_withdrawn=True)


def _session_now(request, session_id) -> dict:
    """The session as a write left it, with its points (not audited as a read: the write is)."""
    return _session(reads.session_read(actor=request.auth, session_id=session_id, audit_as=None))


@router.get(
    "/patients/{patient_id}/toxin-sessions",
    response={200: s.ToxinSessionPage, **ERRORS},
    tags=["treatments"],
)
def toxin_session_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    """Toxin sessions with their injection points; a signed session's points carry what was administered
    (units, product, lot). Units are the product's own and never converted."""
    return _section(request, patient_id, "toxin_sessions", offset, limit, _session)


@router.post(
    "/patients/{patient_id}/toxin-sessions",
    response={201: s.ToxinSessionOut, **ERRORS},
    tags=["treatments"],
)
def toxin_session_create(request, patient_id: uuid.UUID, payload: s.ToxinSessionIn):
    """Start a draft session from a protocol: its points are laid out on the maps, to be adjusted, then
    signed. The vial may be chosen now or later (`PUT …/vial`); it must be open and of the protocol's
    product (400 on `vial` otherwise)."""
    patient = _writable_patient(request, patient_id)
    session = SessionCreate(request.auth, patient).execute(**payload.model_dump())
    return Status(201, _session_now(request, session.pk))


@router.get("/toxin-sessions/{session_id}", response={200: s.ToxinSessionOut, **ERRORS}, tags=["treatments"])
def toxin_session_detail(request, session_id: int):
    """One session with its current points; once signed, each point carries what was administered."""
    return _session(reads.session_read(actor=request.auth, session_id=session_id))


@router.post(
    "/toxin-sessions/{session_id}/points",
    response={201: s.InjectionPointOut, **ERRORS},
    tags=["treatments"],
)
def injection_point_create(request, session_id: int, payload: s.InjectionPointIn):
    """Add a point to a draft session (409 `session_signed` once signed)."""
    session = _writable_session(request, session_id)
    point = PointChart(request.auth, session).save(payload.model_dump())
    return Status(201, _point(point))


@router.patch(
    "/toxin-sessions/{session_id}/points/{point_id}",
    response={200: s.InjectionPointOut, **ERRORS},
    tags=["treatments"],
)
def injection_point_update(request, session_id: int, point_id: int, payload: s.InjectionPointPatch):
    """Move or re-dose a point: the fields sent change, as a new version of the point. The region is not
    worked out from the position: send it when the point moves to another one."""
    session = _writable_session(request, session_id)
    point = point_get(session=session, point_id=point_id)
    point = PointChart(request.auth, session).save(payload.model_dump(exclude_unset=True), point=point)
    return _point(point)


@router.delete(
    "/toxin-sessions/{session_id}/points/{point_id}",
    response={204: None, **ERRORS},
    tags=["treatments"],
)
def injection_point_delete(request, session_id: int, point_id: int):
    """Remove a point from a draft session (it is kept, marked entered in error, with its history)."""
    session = _writable_session(request, session_id)
    point = point_get(session=session, point_id=point_id)
    PointChart(request.auth, session).remove(point)
    return Status(204, None)


@router.put(
    "/toxin-sessions/{session_id}/vial", response={200: s.ToxinSessionOut, **ERRORS}, tags=["treatments"]
)
def toxin_session_set_vial(request, session_id: int, payload: s.VialIn):
    """Choose the vial the doses come from: an open vial of the session's product in this clinic."""
    session = _writable_session(request, session_id)
    VialChoose(request.auth, session).execute(vial_id=payload.vial_id)
    return _session_now(request, session.pk)


@router.post(
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
    SessionSign(request.auth, session).execute(acknowledgements=reasons)
    return _session_now(request, session.pk)


@router.post(
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


@router.post(
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


@router.get(
    "/patients/{patient_id}/follow-ups", response={200: s.FollowUpPage, **ERRORS}, tags=["treatments"]
)
def follow_up_list(request, patient_id: uuid.UUID, limit: int = Limit, offset: int = Offset):
    """The patient's follow-ups (recalls). `reason` and `source` are clinical: null for a token whose role
    does not see clinical records (front desk, manager), which gets `visit`, the kind of visit to book."""
    return _section(request, patient_id, "follow_ups", offset, limit, lambda r: _follow_up(request.auth, r))


@router.get("/vials", response={200: s.VialPage, **ERRORS}, tags=["treatments"])
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


@router.post(
    "/patients/{patient_id}/follow-ups", response={201: s.FollowUpOut, **ERRORS}, tags=["treatments"]
)
def follow_up_create(request, patient_id: uuid.UUID, payload: s.FollowUpIn):
    """Add a follow-up (a recall) by hand; it shows on the recall list until booked or closed."""
    patient = _writable_patient(request, patient_id)
    record = treatment_services.follow_up_create(
        actor=request.auth, patient=patient, data=payload.model_dump()
    )
    return Status(201, _follow_up(request.auth, record))


@router.patch("/follow-ups/{follow_up_id}", response={200: s.FollowUpOut, **ERRORS}, tags=["treatments"])
def follow_up_update(request, follow_up_id: int, payload: s.FollowUpStatusIn):
    """Set a follow-up's status: open, done or cancelled. It becomes `booked` only by booking an
    appointment for it, and a booked one changes with its appointment (409 `follow_up_booked` here)."""
    follow_up = follow_up_get(actor=request.auth, follow_up_id=follow_up_id)
    record = treatment_services.follow_up_mark(actor=request.auth, follow_up=follow_up, status=payload.status)
    return _follow_up(request.auth, record)
