"""Toxin session pages: start from a protocol, chart points on the maps, check the plan, sign."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.clinical.toxin import points as point_rules
from dermatox.clinical.toxin.layout import VIEWS_BY_AREA
from dermatox.clinical.toxin.protocols import DEPTHS, load_protocols
from dermatox.common.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from dermatox.common.json_body import JsonBodyError, parse_json
from dermatox.inventory.selectors import vials_in_scope
from dermatox.patients.selectors import patient_get
from dermatox.scheduling.selectors import review_appointments
from dermatox.treatments import selectors as session_selectors
from dermatox.treatments import services as ts
from dermatox.treatments.actions import (
    PointChart,
    SessionCreate,
    SessionSign,
    SessionStockCorrection,
    SessionWithdraw,
    VialChoose,
)
from dermatox.treatments.models import StockCorrection, TreatmentSession
from dermatox.treatments.plan_text import localized_plan, plan_text
from dermatox.web.decorators import clinic_required

VIEW_LABELS = {
    "scalp_top": _("Scalp, from above"),
    "scalp_back": _("Scalp, back"),
    "scalp_left": _("Scalp, left side"),
    "scalp_right": _("Scalp, right side"),
    "face_front": _("Face, front"),
    "axillae": _("Axillae"),
}
PLAN_STATUS = {"ok": _("OK"), "warn": _("Warnings"), "blocked": _("Blocked")}
DEPTH_LABELS = {
    "intramuscular": _("Intramuscular"),
    "intradermal": _("Intradermal"),
    "subcutaneous": _("Subcutaneous"),
}


def _session(request, patient_id, session_id, audit_as: str | None = None) -> TreatmentSession:
    if not request.actor.can(Perm.VIEW_CLINICAL):
        raise PermissionDenied(_("Your role does not give access to toxin sessions."))
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
    # A session marked entered in error still opens (marked, read-only); the actions refuse to change it.
    return session_selectors.session_get(
        actor=request.actor, session_id=session_id, include_withdrawn=True, patient=patient, audit_as=audit_as
    )


@clinic_required
@require_http_methods(["GET", "POST"])
def session_new(request, patient_id):
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
    if not request.actor.can(Perm.CHART_ADMINISTRATION):
        raise PermissionDenied(_("Your role may not chart toxin sessions."))
    audit_record(actor=request.actor, action="patient.view_for_session", obj=patient)
    error = ""
    if request.method == "POST":
        try:
            session = SessionCreate(request.actor, patient).execute(protocol=request.POST.get("protocol", ""))
        except InvalidInput as exc:
            error = exc.message
        else:
            return redirect("session-detail", patient_id=patient.pk, session_id=session.pk)
    return render(
        request,
        "web/session_new.html",
        {"patient": patient, "protocols": load_protocols().values(), "error": error},
    )


@clinic_required
def session_detail(request, patient_id, session_id):
    return _detail_page(request, _session(request, patient_id, session_id, audit_as="session.view"))


def _detail_page(request, session: TreatmentSession, *, reasons=None, reason_errors=None):
    """The session page; after a refused signature, with the reasons typed and what each one lacks."""
    patient = session.patient
    protocol = load_protocols()[session.protocol]
    points = session_selectors.session_points(session)
    plan, plan_error = None, ""
    if session.status == "signed" or session.is_entered_in_error:
        plan = session.plan_check or None
    elif session.vial_id:
        try:
            plan = ts.session_plan(session, timezone.now(), points)
        except InvalidInput as exc:
            plan_error = exc.message
    else:
        plan_error = _("Choose an open vial to check the plan.")
    language = get_language()
    if plan:
        plan = localized_plan(plan, language)
    per_ml = (
        (Decimal(session.vial.vial_units) / session.vial.diluent_ml)
        if session.vial and session.vial.diluent_ml
        else None
    )
    volumes = {p.pk: f"{(p.units / per_ml).quantize(Decimal('0.001'))} mL" for p in points} if per_ml else {}
    views = [
        {
            "id": v,
            "label": VIEW_LABELS[v],
            "template": f"web/maps/{v}.svg.html",
            "points": [p for p in points if p.view == v],
        }
        for v in VIEWS_BY_AREA[protocol["area"]]
    ]
    editable = bool(PointChart(request.actor, session).check())
    correction = SessionStockCorrection(request.actor, session)
    vials = (
        vials_in_scope(request.actor).filter(lot__product=session.product, state="open") if editable else []
    )
    reasons, reason_errors = reasons or {}, reason_errors or {}
    acknowledged = {
        a["warning"]: {
            **a,
            "text": plan_text(a, language),
            "at": parse_datetime(a["at"]) if a.get("at") else None,
        }
        for a in session.acknowledgements or []
    }
    warnings = [
        {
            **w,
            "field": f"ack_{w['id']}",
            "reason": reasons.get(w["id"], ""),
            "error": reason_errors.get(w["id"], ""),
            "ack": acknowledged.get(w["id"]),
        }
        for w in (plan["warnings"] if plan else [])
    ]
    return render(
        request,
        "web/session.html",
        {
            "patient": patient,
            "session": session,
            "protocol": protocol,
            "points": points,
            "views": views,
            "plan": plan,
            "plan_status": PLAN_STATUS.get(plan["status"], "") if plan else "",
            "warnings": warnings,
            "reason_limits": {"min": ts.ACK_REASON_MIN, "max": ts.ACK_REASON_MAX},
            "plan_error": plan_error,
            "vials": vials,
            "editable": editable,
            "withdraw": SessionWithdraw(request.actor, session).check(),
            "sign": SessionSign(request.actor, session).check(plan, points),
            "correction": correction.check(),
            "correction_units": correction.units() if session.is_entered_in_error else 0,
            "return_check": correction.check(StockCorrection.RETURNED),
            "booked_reviews": review_appointments(session) if session.is_entered_in_error else [],
            "volumes": volumes,
            "total_units": sum(p.units for p in points),
            "depths": DEPTHS,
            "depth_labels": DEPTH_LABELS,
            "view_labels": VIEW_LABELS,
        },
    )


def _coordinate(value, field: str) -> float:
    number = point_rules.percent(value) if isinstance(value, int | float) else None
    if number is None:
        raise InvalidInput(f"{field}: {point_rules.PERCENT_RULE}", fields={field: [point_rules.PERCENT_RULE]})
    return float(number)


def _region_dose(protocol: dict, region: str) -> float:
    """The protocol's dose for that region (its first group's dose when the region is not in it)."""
    return next(
        (g["units"] for g in protocol["points"] if g["region"] == region), protocol["points"][0]["units"]
    )


@clinic_required
def session_point(request, patient_id, session_id):
    """JSON actions from the map: add, move, dose, remove. Bad input is a 400 naming the field."""
    session = _session(request, patient_id, session_id)
    if request.method != "POST":  # scoped first, so another clinic's session is a 404 whatever the method
        return HttpResponseNotAllowed(["POST"])
    protocol = load_protocols()[session.protocol]
    chart = PointChart(request.actor, session)
    try:
        try:
            body = parse_json(request.body or b"{}")
        except JsonBodyError as exc:
            raise InvalidInput(str(exc), fields={exc.path: [exc.message]}) from None
        if not isinstance(body, dict):
            raise InvalidInput("body: must be a JSON object", fields={"body": ["must be a JSON object"]})
        action = body.get("action")
        point = None
        if action in ("move", "dose", "remove"):
            point_id = body.get("id")
            if isinstance(point_id, bool) or not isinstance(point_id, int):
                raise InvalidInput(
                    "id: must be a point id", fields={"id": ["must be a point id (a whole number)"]}
                )
            point = session.points.current().filter(pk=point_id).first()
            if point is None:
                raise NotFound("No such point")
        if action == "add":
            view = body.get("view")
            if view not in point_rules.views_of(protocol["area"]):
                problem = f"must be one of {', '.join(point_rules.views_of(protocol['area']))}"
                raise InvalidInput(f"view: {problem}", fields={"view": [problem]})
            x, y = _coordinate(body.get("x"), "x"), _coordinate(body.get("y"), "y")
            region = point_rules.nearest_region(view, x, y)
            chart.save(
                data={
                    "view": view,
                    "region": region,
                    "x": x,
                    "y": y,
                    "depth": protocol["depth"],
                    "units": _region_dose(protocol, region),
                },
            )
        elif action == "move":
            x, y = _coordinate(body.get("x"), "x"), _coordinate(body.get("y"), "y")
            chart.save(
                point=point,
                data={"x": x, "y": y, "region": point_rules.nearest_region(point.view, x, y)},
            )
        elif action == "dose":
            delta = body.get("delta")
            if (
                isinstance(delta, bool)
                or not isinstance(delta, int | float)
                or not math.isfinite(delta)
                or abs(delta) > 100
            ):
                raise InvalidInput(
                    "delta: must be a number", fields={"delta": ["must be a number from -100 to 100"]}
                )
            chart.save(
                point=point,
                data={"units": point.units + Decimal(str(delta))},
            )
        elif action == "remove":
            chart.remove(point)
        else:
            raise InvalidInput("action: unknown", fields={"action": ["must be add, move, dose or remove"]})
    except (InvalidInput, Conflict) as exc:
        return JsonResponse(exc.as_dict(), status=exc.http_status)
    return HttpResponse(status=204)


@clinic_required
def session_vial(request, patient_id, session_id):
    session = _session(request, patient_id, session_id)
    if request.method != "POST":  # scoped first, so another clinic's session is a 404 whatever the method
        return HttpResponseNotAllowed(["POST"])
    try:
        VialChoose(request.actor, session).execute(vial_id=request.POST.get("vial") or None)
    except (InvalidInput, Conflict) as exc:
        messages.error(request, exc.message)
    return redirect("session-detail", patient_id=session.patient_id, session_id=session.pk)


@clinic_required
def session_points(request, patient_id, session_id):
    """The points table: per-point units and depth, one dose for the selected points, remove, session note.
    All changes of one submission are saved together or not at all."""
    session = _session(request, patient_id, session_id)
    if request.method != "POST":  # scoped first, so another clinic's session is a 404 whatever the method
        return HttpResponseNotAllowed(["POST"])
    points = {p.pk: p for p in session.points.current()}  # a draft's points (a signed one refuses below)
    try:
        with transaction.atomic():
            if request.POST.get("remove"):
                point = points.get(int(request.POST["remove"]))
                if point is None:
                    raise NotFound("No such point")
                ts.point_remove(actor=request.actor, session=session, point=point)
            else:
                selected = {int(pk) for pk in request.POST.getlist("selected") if pk.isdigit()}
                dose = request.POST.get("dose", "").strip()
                for pk, point in points.items():
                    data = {}
                    units = (
                        dose if dose and (not selected or pk in selected) else request.POST.get(f"units_{pk}")
                    )
                    if (
                        units is not None
                        and units.strip()
                        and Decimal(units.replace(",", ".")) != point.units
                    ):
                        data["units"] = units.replace(",", ".")
                    depth = request.POST.get(f"depth_{pk}")
                    if depth and depth != point.depth:
                        data["depth"] = depth
                    if data:
                        ts.point_save(actor=request.actor, session=session, point=point, data=data)
                if "note" in request.POST:
                    ts.session_note(actor=request.actor, session=session, note=request.POST["note"])
    except (InvalidInput, Conflict) as exc:
        messages.error(request, _("Not saved: %(why)s") % {"why": exc.message})
    except (InvalidOperation, ValueError):
        messages.error(request, _("Not saved: units must be numbers."))
    else:
        messages.success(request, _("Saved."))
    return redirect("session-detail", patient_id=session.patient_id, session_id=session.pk)


@clinic_required
def session_sign(request, patient_id, session_id):
    """Sign with a reason for each warning of the plan (field `ack_<warning id>`). A missing reason shows
    the page again with the reasons typed so far and the problem next to each warning."""
    session = _session(request, patient_id, session_id)
    if request.method != "POST":  # scoped first, so another clinic's session is a 404 whatever the method
        return HttpResponseNotAllowed(["POST"])
    reasons = {
        key.removeprefix("ack_"): value for key, value in request.POST.items() if key.startswith("ack_")
    }
    try:
        SessionSign(request.actor, session).execute(acknowledgements=reasons)
    except Conflict as exc:
        if exc.code != "warnings_not_acknowledged":
            messages.error(request, _sign_refused(exc))
            return redirect("session-detail", patient_id=session.patient_id, session_id=session.pk)
        missing = {key.split(".", 1)[1] for key in exc.fields if key.startswith("acknowledgements.")}
        errors = {
            rule: _("Give a reason of %(min)s to %(max)s characters to sign despite this warning.")
            % {"min": ts.ACK_REASON_MIN, "max": ts.ACK_REASON_MAX}
            for rule in missing
        }
        messages.error(request, _("Not signed: each warning needs a reason."))
        session.refresh_from_db()
        audit_record(actor=request.actor, action="session.view", obj=session)  # the page is shown again
        return _detail_page(request, session, reasons=reasons, reason_errors=errors)
    except InvalidInput as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Session signed: units deducted from the vial, reviews scheduled."))
    return redirect("session-detail", patient_id=session.patient_id, session_id=session.pk)


def _sign_refused(exc: Conflict) -> str:
    """A refused signature in the reader's words: the plan's blocks are on the page, in their language."""
    if exc.code == "plan_blocked":
        return _("Not signed: the plan check blocks it (see the plan check).")
    return exc.message


@clinic_required
def session_stock_correction(request, patient_id, session_id):
    """After a signed session was marked entered in error: its units went back into the vial, or were
    wasted (field `correction`)."""
    session = _session(request, patient_id, session_id)
    if request.method != "POST":  # scoped first, so another clinic's session is a 404 whatever the method
        return HttpResponseNotAllowed(["POST"])
    try:
        SessionStockCorrection(request.actor, session).execute(kind=request.POST.get("correction", ""))
    except (InvalidInput, Conflict, PermissionDenied) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Stock corrected."))
    return redirect("session-detail", patient_id=session.patient_id, session_id=session.pk)
