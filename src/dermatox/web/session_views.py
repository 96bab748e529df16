"""Toxin session pages: start from a protocol, chart points on the maps, check the plan, sign."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from dermatox.accounts.roles import Perm
from dermatox.clinical.reference import by_id
from dermatox.clinical.toxin.protocols import DEPTHS, load_protocols
from dermatox.common.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from dermatox.inventory.models import Vial
from dermatox.patients.selectors import patient_get
from dermatox.treatments import services as ts
from dermatox.treatments.models import TreatmentSession
from dermatox.web.decorators import clinic_required

VIEW_LABELS = {
    "scalp_top": _("Scalp, from above"),
    "scalp_back": _("Scalp, back"),
    "scalp_left": _("Scalp, left side"),
    "scalp_right": _("Scalp, right side"),
    "face_front": _("Face, front"),
    "axillae": _("Axillae"),
}
VIEWS_BY_AREA = {
    "scalp": ("scalp_top", "scalp_back", "scalp_left", "scalp_right"),
    "face": ("face_front",),
    "axilla": ("axillae",),
}


def _session(request, patient_id, session_id) -> TreatmentSession:
    if not request.actor.can(Perm.VIEW_CLINICAL):
        raise PermissionDenied(_("Your role does not give access to toxin sessions."))
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as=None)
    session = patient.toxin_sessions.select_related("vial__lot", "signed_by").filter(pk=session_id).first()
    if session is None:
        raise NotFound("No such session")
    return session


@clinic_required
@require_http_methods(["GET", "POST"])
def session_new(request, patient_id):
    patient = patient_get(actor=request.actor, patient_id=patient_id, audit_as="patient.view_for_session")
    if not request.actor.can(Perm.CHART_ADMINISTRATION):
        raise PermissionDenied(_("Your role may not chart toxin sessions."))
    error = ""
    if request.method == "POST":
        try:
            session = ts.session_create(
                actor=request.actor, patient=patient, protocol=request.POST.get("protocol", "")
            )
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
    from dermatox.audit.services import audit_record

    session = _session(request, patient_id, session_id)
    patient = session.patient
    protocol = load_protocols()[session.protocol]
    points = list(session.points.current().select_related("withdrawal__vial__lot").order_by("pk"))
    plan, plan_error = None, ""
    if session.status == "signed":
        plan = session.plan_check
    elif session.vial_id:
        try:
            plan = ts.session_plan(session, timezone.localdate())
        except InvalidInput as exc:
            plan_error = exc.message
    else:
        plan_error = _("Choose an open vial to check the plan.")
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
    vials = Vial.objects.filter(
        lot__clinic=request.actor.clinic, lot__product=session.product, state="open"
    ).select_related("lot")
    editable = session.status == "draft" and request.actor.can(Perm.CHART_ADMINISTRATION)
    audit_record(actor=request.actor, action="session.view", obj=session)
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
            "plan_error": plan_error,
            "vials": vials,
            "editable": editable,
            "volumes": volumes,
            "total_units": sum(p.units for p in points),
            "depths": DEPTHS,
        },
    )


def _nearest_region(view: str, x: float, y: float) -> str:
    anchors = [(k.split(":", 1)[1], r) for k, r in by_id("map_regions.toml").items() if r["view"] == view]
    if not anchors:
        return "other"
    return min(anchors, key=lambda a: (a[1]["x"] - x) ** 2 + (a[1]["y"] - y) ** 2)[0]


@clinic_required
def session_point(request, patient_id, session_id):
    """JSON actions from the map: add, move, dose, remove."""
    session = _session(request, patient_id, session_id)
    if request.method != "POST":  # scoped first, so another clinic's session is a 404 whatever the method
        return HttpResponseNotAllowed(["POST"])
    try:
        body = json.loads(request.body or b"{}")
        action = body.get("action")
        point = None
        if action != "add":
            point = session.points.current().filter(pk=int(body.get("id", 0))).first()
            if point is None:
                raise NotFound("No such point")
        if action == "add":
            protocol = load_protocols()[session.protocol]
            x, y = float(body["x"]), float(body["y"])
            ts.point_save(
                actor=request.actor,
                session=session,
                data={
                    "view": body.get("view", ""),
                    "region": _nearest_region(body.get("view", ""), x, y),
                    "x": round(x, 2),
                    "y": round(y, 2),
                    "depth": protocol["depth"],
                    "units": protocol["points"][0]["units"],
                },
            )
        elif action == "move":
            ts.point_save(
                actor=request.actor,
                session=session,
                point=point,
                data={
                    "x": round(min(max(float(body["x"]), 0), 100), 2),
                    "y": round(min(max(float(body["y"]), 0), 100), 2),
                },
            )
        elif action == "dose":
            units = point.units + Decimal(str(body.get("delta", 0)))
            ts.point_save(actor=request.actor, session=session, point=point, data={"units": units})
        elif action == "remove":
            ts.point_remove(actor=request.actor, session=session, point=point)
        else:
            return JsonResponse(
                {"message": "action: must be add, move, dose or remove", "code": "invalid"}, status=400
            )
    except (KeyError, TypeError, ValueError, InvalidOperation, json.JSONDecodeError):
        return JsonResponse({"message": "x, y: must be numbers", "code": "invalid"}, status=400)
    except (InvalidInput, Conflict) as exc:
        return JsonResponse(exc.as_dict(), status=400 if isinstance(exc, InvalidInput) else 409)
    return HttpResponse(status=204)


@clinic_required
def session_vial(request, patient_id, session_id):
    session = _session(request, patient_id, session_id)
    if request.method != "POST":  # scoped first, so another clinic's session is a 404 whatever the method
        return HttpResponseNotAllowed(["POST"])
    try:
        ts.session_set_vial(actor=request.actor, session=session, vial_id=request.POST.get("vial") or None)
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
    points = {p.pk: p for p in session.points.current()}
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
    session = _session(request, patient_id, session_id)
    if request.method != "POST":  # scoped first, so another clinic's session is a 404 whatever the method
        return HttpResponseNotAllowed(["POST"])
    try:
        ts.session_sign(actor=request.actor, session=session)
    except (InvalidInput, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Session signed: units deducted from the vial, reviews scheduled."))
    return redirect("session-detail", patient_id=session.patient_id, session_id=session.pk)
