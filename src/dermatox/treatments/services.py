from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.audit.writes import mark_entered_in_error, require, require_same_clinic, save_audited
from dermatox.clinical.reference import by_id
from dermatox.common.context import Actor
from dermatox.common.errors import Conflict, InvalidInput, NotFound
from dermatox.inventory.models import Vial
from dermatox.patients.models import Patient
from dermatox.patients.services import child_record_save
from dermatox.treatments.actions import draft_check, sign_check
from dermatox.treatments.error_codes import TreatmentCode
from dermatox.treatments.models import (
    AdverseEvent,
    ExternalToxinDose,
    FollowUp,
    InjectionPoint,
    TreatmentCourse,
    TreatmentSession,
)


@transaction.atomic
def follow_up_create(*, actor: Actor, patient: Patient, data: dict) -> FollowUp:
    unknown = sorted(set(data) - {"due_date", "reason", "source"})
    if unknown:
        raise InvalidInput(
            f"unknown field(s): {', '.join(unknown)}", fields={k: ["unknown field"] for k in unknown}
        )
    due = data.get("due_date")
    if isinstance(due, dt.date) and due < timezone.localdate() - dt.timedelta(days=365):
        raise InvalidInput(
            "due_date: too far in the past", fields={"due_date": ["must not be more than a year in the past"]}
        )
    follow_up = FollowUp(
        patient=patient,
        created_by=actor.acting_user,
        **{k: v.strip() if isinstance(v, str) else v for k, v in data.items()},
    )
    return child_record_save(actor, patient, follow_up, Perm.EDIT_CLINICAL, "follow_up.create")


@transaction.atomic
def follow_up_set_status(*, actor: Actor, follow_up: FollowUp, status: str) -> FollowUp:
    require(actor, Perm.EDIT_APPOINTMENTS)
    require_same_clinic(actor, follow_up.patient.clinic_id)
    follow_up.status = status
    return save_audited(actor, follow_up, action="follow_up.status", detail={"status": status})


@transaction.atomic
def follow_up_mark(*, actor: Actor, follow_up: FollowUp, status: str) -> FollowUp:
    """A status set by hand (the API): open, done or cancelled. A booked follow-up belongs to its
    appointment and changes with it (cancelled: open again; attended: done), so it is refused here:
    reopening it by hand would put it back on the recall list to be booked twice."""
    manual = (FollowUp.Status.OPEN, FollowUp.Status.DONE, FollowUp.Status.CANCELLED)
    if status not in manual:
        raise InvalidInput.from_fields({"status": [f"must be one of {', '.join(manual)}"]})
    fresh = FollowUp.objects.select_for_update().select_related("patient").get(pk=follow_up.pk)
    if fresh.status == FollowUp.Status.BOOKED:
        raise Conflict(
            "This follow-up is booked: cancel or move its appointment instead",
            code=TreatmentCode.FOLLOW_UP_BOOKED,
        )
    return follow_up_set_status(actor=actor, follow_up=fresh, status=status)


COURSE_FIELDS = ("treatment", "weeks", "outcome", "ended_on", "note")


@transaction.atomic
def treatment_course_record(*, actor: Actor, patient: Patient, data: dict) -> TreatmentCourse:
    """A course of acne treatment already tried (what the pathways count as tried-and-failed)."""
    unknown = sorted(set(data) - set(COURSE_FIELDS))
    if unknown:
        raise InvalidInput(
            f"unknown field(s): {', '.join(unknown)}", fields={k: ["unknown field"] for k in unknown}
        )
    acne_ids = [t for t, row in by_id("treatments.toml").items() if row["area"] == "acne"]
    if data.get("treatment") not in acne_ids:
        raise InvalidInput(
            "treatment: unknown", fields={"treatment": [f"must be one of {', '.join(acne_ids)}"]}
        )
    course = TreatmentCourse(
        recorded_by=actor.acting_user,
        **{k: v.strip() if isinstance(v, str) else v for k, v in data.items()},
    )
    return child_record_save(actor, patient, course, Perm.EDIT_CLINICAL, "treatment_course.record")


EXTERNAL_DOSE_FIELDS = ("given_on", "area", "product", "units", "source")  # source: default "intake"
EXTERNAL_DOSE_AREAS = ("scalp", "face", "axilla", "other")


@transaction.atomic
def external_toxin_dose_record(*, actor: Actor, patient: Patient, data: dict) -> ExternalToxinDose:
    """Toxin given elsewhere: the product may be "unknown" and the units missing (then the rules cannot
    count it, and the Assessment page says so)."""
    unknown = sorted(set(data) - set(EXTERNAL_DOSE_FIELDS))
    if unknown:
        raise InvalidInput(
            f"unknown field(s): {', '.join(unknown)}", fields={k: ["unknown field"] for k in unknown}
        )
    if data.get("area") not in EXTERNAL_DOSE_AREAS:
        raise InvalidInput(
            "area: unknown", fields={"area": [f"must be one of {', '.join(EXTERNAL_DOSE_AREAS)}"]}
        )
    products = [*by_id("toxin_products.toml"), "unknown"]
    if data.get("product") not in products:
        raise InvalidInput("product: unknown", fields={"product": [f"must be one of {', '.join(products)}"]})
    units = data.get("units")
    if units is not None and not (0 < Decimal(units) <= 1000):
        raise InvalidInput("units: range", fields={"units": ["must be above 0 and at most 1000"]})
    dose = ExternalToxinDose(recorded_by=actor.acting_user, **data)
    return child_record_save(actor, patient, dose, Perm.EDIT_CLINICAL, "external_toxin_dose.record")


def _active_protocols() -> dict:
    from dermatox.clinical.toxin.protocols import load_protocols

    return load_protocols()


@transaction.atomic
def session_create(*, actor: Actor, patient: Patient, protocol: str, vial_id=None) -> TreatmentSession:
    """A draft session with the protocol's points laid out on the maps (the injector then adjusts them)."""
    require(actor, Perm.CHART_ADMINISTRATION)
    require_same_clinic(actor, patient.clinic_id)
    protocols = _active_protocols()
    if protocol not in protocols:
        raise InvalidInput(
            "protocol: unknown", fields={"protocol": [f"must be one of {', '.join(protocols)}"]}
        )
    spec = protocols[protocol]
    session = TreatmentSession(
        patient=patient, protocol=protocol, product=spec["product"], created_by=actor.acting_user
    )
    if vial_id:
        session.vial = _usable_vial(actor, vial_id, spec["product"])
    session._history_user = actor.acting_user
    session.save()
    points = protocol_points(session, spec)
    bulk_create_with_history(points, InjectionPoint, default_user=actor.acting_user)
    audit_record(
        actor=actor,
        action="session.create",
        obj=session,
        detail={"protocol": protocol, "points": len(points)},
    )
    return session


def protocol_points(session: TreatmentSession, spec: dict) -> list[InjectionPoint]:
    """The protocol's points laid out on the maps, unsaved (the caller saves them with their history)."""
    from dermatox.clinical.toxin.layout import layout

    return [
        InjectionPoint(
            session=session,
            view=view,
            region=group["region"],
            x=x,
            y=y,
            depth=spec["depth"],
            units=Decimal(str(group["units"])),
        )
        for group in spec["points"]
        for view, x, y in layout(spec["area"], group["region"], group["count"])
    ]


def _usable_vial(actor: Actor, vial_id, product: str):
    from dermatox.inventory.selectors import vials_in_scope

    try:
        vial_id = int(vial_id)
    except (TypeError, ValueError):
        raise InvalidInput("vial: unknown", fields={"vial": ["no such vial in this clinic"]}) from None
    vial = vials_in_scope(actor).filter(pk=vial_id).first()
    if vial is None:
        raise InvalidInput("vial: unknown", fields={"vial": ["no such vial in this clinic"]})
    if vial.lot.product != product:
        raise InvalidInput(
            "vial: other product",
            fields={
                "vial": [
                    f"holds {vial.lot.product}, the protocol is written for {product}: units are not interchangeable"
                ]
            },
        )
    if vial.state != "open":
        raise InvalidInput("vial: not open", fields={"vial": ["open (reconstitute) the vial first"]})
    return vial


def _draft(actor: Actor, session: TreatmentSession) -> TreatmentSession:
    """The session as it is now, locked for this transaction: a copy loaded earlier (another tab, a double
    click) must never change or re-sign a session that has been signed meanwhile."""
    require(actor, Perm.CHART_ADMINISTRATION)
    require_same_clinic(actor, session.patient.clinic_id)
    fresh = (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("patient", "vial__lot")
        .get(pk=session.pk)
    )
    draft_check(actor, fresh).raise_if_refused()
    return fresh


@transaction.atomic
def session_set_vial(*, actor: Actor, session: TreatmentSession, vial_id) -> TreatmentSession:
    session = _draft(actor, session)
    session.vial = _usable_vial(actor, vial_id, session.product)
    session._history_user = actor.acting_user
    session.save(update_fields=["vial"])
    audit_record(actor=actor, action="session.vial", obj=session, detail={"vial": session.vial_id})
    return session


POINT_FIELDS = ("view", "region", "x", "y", "depth", "units")


@transaction.atomic
def point_save(
    *, actor: Actor, session: TreatmentSession, data: dict, point: InjectionPoint | None = None
) -> InjectionPoint:
    """Add a point, or move / re-dose one (a new version of it), by the point rules (clinical.toxin.points)."""
    from dermatox.clinical.toxin import points as rules

    session = _draft(actor, session)
    unknown = sorted(set(data) - set(POINT_FIELDS))
    if unknown:
        raise InvalidInput(
            f"unknown field(s): {', '.join(unknown)}", fields={k: ["unknown field"] for k in unknown}
        )
    point = point or InjectionPoint(session=session)
    if point.session_id != session.pk:
        raise NotFound("No such point")
    errors = {}
    for key, value in data.items():
        if key in ("x", "y"):
            value = rules.percent(value)
            if value is None:
                errors[key] = [rules.PERCENT_RULE]
                continue
        if key == "units" and isinstance(value, float):
            # A JSON 0.1 is 0.1 U, not 0.1000000000000000055… (which the 3-decimal rule would refuse).
            value = Decimal(str(value))
        setattr(point, key, value.strip() if isinstance(value, str) else value)
    area = _active_protocols()[session.protocol]["area"]
    errors |= rules.point_problems(
        area, view=point.view, region=point.region, depth=point.depth, units_value=point.units
    )
    if errors:
        raise InvalidInput.from_fields(errors)
    return save_audited(actor, point, action="session.point")


@transaction.atomic
def point_remove(*, actor: Actor, session: TreatmentSession, point: InjectionPoint) -> None:
    session = _draft(actor, session)
    if point.session_id != session.pk:
        raise NotFound("No such point")
    mark_entered_in_error(actor, point, reason="removed while charting")


# The plan check reads the case built from the whole record (chart.case_builder: a composed read above the
# apps, since it reads intake, assessments, inventory and treatments alike). The chart app hands its builder
# in when Django starts (chart/apps.py), so signing here uses it without importing upward.
_case_builder = None


def case_builder_register(build) -> None:
    """`build(patient, as_of) -> BuiltCase`: the case that the plan check (and so signing) reads."""
    global _case_builder
    _case_builder = build


def _build_case(patient: Patient, as_of: dt.date):
    if _case_builder is None:
        raise RuntimeError("no case builder: dermatox.chart (its AppConfig registers it) is not installed")
    return _case_builder(patient, as_of)


def session_plan(session: TreatmentSession, at, points: list | None = None) -> dict:
    """The plan check for this session as charted (pure rules, fed from the record) at time `at`."""
    from dermatox.clinical.pathways import CaseError
    from dermatox.clinical.toxin.plan import check_plan

    built = _build_case(session.patient, timezone.localdate(at))
    if built.case is None:
        raise InvalidInput("; ".join(built.missing), fields={"__all__": built.missing})
    points = points if points is not None else list(session.points.current())
    vial = session.vial
    raw = {
        **{k: built.case[k] for k in ("as_of", "patient")},
        "at": at.isoformat(),
        "history": built.case.get("history", {}),
        "product": session.product,
        "protocol": session.protocol,
        "points": [{"region": p.region, "depth": p.depth, "units": float(p.units)} for p in points],
        "vial": {
            "vial_units": vial.vial_units,
            "diluent_ml": float(vial.diluent_ml) if vial.diluent_ml else None,
            "expiry": vial.lot.expiry.isoformat(),
            "remaining_units": float(vial.remaining_units),
        },
    }
    if vial.beyond_use_at:
        raw["vial"]["beyond_use"] = vial.beyond_use_at.isoformat()
    try:
        return check_plan(raw)
    except CaseError as exc:  # e.g. no points left, or more than the plan check takes
        raise InvalidInput("; ".join(exc.problems), fields={"__all__": exc.problems}) from exc


@transaction.atomic
def session_note(*, actor: Actor, session: TreatmentSession, note: str) -> TreatmentSession:
    session = _draft(actor, session)
    note = (note or "").strip()
    if len(note) > 500:
        raise InvalidInput("note: too long", fields={"note": ["at most 500 characters"]})
    if note != session.note:
        session.note = note
        save_audited(actor, session, action="session.note")
    return session


ACK_REASON_MIN, ACK_REASON_MAX = 3, 300


def _acknowledged(actor: Actor, warnings: list[dict], reasons, at) -> list[dict]:
    """Each warning of the plan with the signer's reason for going ahead, or Conflict
    `warnings_not_acknowledged` naming every warning without one (fields `acknowledgements.<id>`).
    Reasons given for ids that are not warnings of this plan (now) are ignored: they acknowledge nothing,
    and a warning that has gone since the page was loaded needs none."""
    if reasons is None:
        reasons = {}
    if not isinstance(reasons, Mapping) or not all(isinstance(k, str) for k in reasons):
        raise InvalidInput(
            "acknowledgements: must map warning ids to reasons",
            fields={"acknowledgements": ["must map each warning id to a reason"]},
        )
    stored, missing = [], {}
    for warning in warnings:
        reason = reasons.get(warning["id"])
        reason = reason.strip() if isinstance(reason, str) else ""
        if not ACK_REASON_MIN <= len(reason) <= ACK_REASON_MAX:
            missing[f"acknowledgements.{warning['id']}"] = [
                f"needs a reason of {ACK_REASON_MIN} to {ACK_REASON_MAX} characters: {warning['text']}"
            ]
            continue
        user = actor.acting_user
        stored.append(
            {
                "warning": warning["id"],
                "text": warning["text"],
                **({"params": warning["params"]} if "params" in warning else {}),
                "reason": reason,
                "by": user.pk if user else None,
                "by_name": str(user) if user else "",
                "at": at.isoformat(),
            }
        )
    if missing:
        ids = ", ".join(key.split(".", 1)[1] for key in missing)
        raise Conflict(
            f"Not signed: acknowledge each warning of the plan with a reason "
            f"({ACK_REASON_MIN} to {ACK_REASON_MAX} characters): {ids}",
            code=TreatmentCode.WARNINGS_NOT_ACKNOWLEDGED,
            fields=missing,
        )
    return stored


def session_points_for_sign(session: TreatmentSession) -> list[InjectionPoint]:
    """A draft's current points in charting order: what signing administers."""
    return list(session.points.current().order_by("pk"))


@transaction.atomic
def session_sign(
    *, actor: Actor, session: TreatmentSession, acknowledgements: Mapping[str, str] | None = None
) -> TreatmentSession:
    """Sign: plan check, then in one transaction deduct the units, record each point as an administration
    with its lot, and schedule the protocol's reviews. A blocked plan writes nothing; so does a warned plan
    unless `acknowledgements` gives a reason (3 to 300 characters) for each warning, by warning id. The
    acknowledgements are stored with the session (who, when, the warning and the reason) and audited."""
    from dermatox.inventory.services import vial_administer

    session = _draft(actor, session)
    if session.vial_id is None:
        raise InvalidInput("vial: required", fields={"vial": ["choose the vial the doses come from"]})
    points = session_points_for_sign(session)
    if not points:
        raise InvalidInput("points: none", fields={"points": ["chart at least one point"]})
    now = timezone.now()
    result = session_plan(session, now, points)
    if result["status"] == "blocked":
        raise Conflict(
            "Not signed: " + " ".join(b["text"] for b in result["blocks"]), code=TreatmentCode.PLAN_BLOCKED
        )
    # The vial locked before the check, so the check and the deduction see the same units left when two
    # sessions are signed from one vial at once (the second is refused in the page's words).
    session.vial = Vial.objects.select_for_update(of=("self",)).select_related("lot").get(pk=session.vial_id)
    sign_check(session, points, result).raise_if_refused()  # e.g. more units than the vial holds
    acknowledged = _acknowledged(actor, result["warnings"], acknowledgements, now)
    withdrawals = vial_administer(
        actor=actor, vial_id=session.vial_id, patient=session.patient, doses=[p.units for p in points], at=now
    )
    for point, withdrawal in zip(points, withdrawals, strict=True):
        point.withdrawal = withdrawal
    bulk_update_with_history(points, InjectionPoint, ["withdrawal"], default_user=actor.acting_user)
    session.status = TreatmentSession.Status.SIGNED
    session.signed_by = actor.acting_user
    session.signed_at = now
    session.plan_check = result
    session.acknowledgements = acknowledged
    session._history_user = actor.acting_user
    session.save()
    spec = _active_protocols()[session.protocol]
    reviews = []
    for weeks in spec["review_weeks"]:
        follow_up = FollowUp(
            patient=session.patient,
            session=session,
            due_date=timezone.localdate(now) + dt.timedelta(weeks=weeks),
            reason=f"Review {weeks} weeks after {spec['display']}",
            source=f"protocol:{session.protocol}",
            created_by=actor.acting_user,
        )
        follow_up._history_user = actor.acting_user
        follow_up.save()
        reviews.append(follow_up)
    # The reasons are clinical text: they live on the session (and its history), the audit names the ids.
    audit_record(
        actor=actor,
        action="session.sign",
        obj=session,
        detail={
            "units": str(sum(p.units for p in points)),
            "points": len(points),
            "acknowledged": [a["warning"] for a in acknowledged],
            "withdrawals": [w.pk for w in withdrawals],
        },
    )
    for review in reviews:  # what signing scheduled is audited like a follow-up added by hand
        audit_record(
            actor=actor,
            action="follow_up.create",
            obj=review,
            detail={"due_date": review.due_date.isoformat(), "session": session.pk},
        )
    return session


AE_FIELDS = ("session", "kind", "severity", "onset", "outcome", "note")


@transaction.atomic
def adverse_event_record(*, actor: Actor, patient: Patient, data: dict) -> AdverseEvent:
    unknown = sorted(set(data) - set(AE_FIELDS))
    if unknown:
        raise InvalidInput(
            f"unknown field(s): {', '.join(unknown)}", fields={k: ["unknown field"] for k in unknown}
        )
    session = data.get("session")
    if session is not None and session.patient_id != patient.pk:
        raise InvalidInput(
            "session: another patient's", fields={"session": ["is not a session of this patient"]}
        )
    event = AdverseEvent(
        recorded_by=actor.acting_user, **{k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
    )
    return child_record_save(actor, patient, event, Perm.EDIT_CLINICAL, "adverse_event.record")


@transaction.atomic
def follow_ups_from_assessment(*, actor: Actor, snapshot) -> list[FollowUp]:
    """The pathways' follow-up of a signed assessment as recall items: one FollowUp per treatment and
    review window, due at the start of the window (`review_after_weeks` is [earliest, latest]) counted from
    the assessment date. One that already exists (same patient, source and due date) is not made again, so
    signing twice on a day adds nothing."""
    require(actor, Perm.EDIT_CLINICAL)
    patient = snapshot.patient
    require_same_clinic(actor, patient.clinic_id)
    wanted: dict[tuple[str, dt.date], str] = {}
    for item in (snapshot.result or {}).get("follow_up", []):
        weeks = item.get("review_after_weeks") or []
        if not weeks:
            continue
        due = snapshot.as_of + dt.timedelta(weeks=int(min(weeks)))
        source = f"pathway:{item['treatment']}"[:100]
        wanted.setdefault((source, due), (item.get("text") or source).strip())
    if not wanted:
        return []
    existing = set(
        FollowUp.objects.current()
        .filter(patient=patient, source__in={s for s, _ in wanted})
        .values_list("source", "due_date")
    )
    created = []
    for (source, due), text in sorted(wanted.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if (source, due) in existing:
            continue
        reason = text if len(text) <= 200 else text[:199].rstrip() + "…"
        follow_up = FollowUp(
            patient=patient, due_date=due, reason=reason, source=source, created_by=actor.acting_user
        )
        created.append(
            save_audited(
                actor,
                follow_up,
                action="follow_up.create",
                detail={"source": source, "assessment": snapshot.pk},
            )
        )
    return created
