"""Toxin sessions while a draft: create, the protocol's points, the vial, charting points, the plan check
(with the case builder the chart app registers) and the note."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.audit.writes import mark_entered_in_error, require, require_same_clinic, save_audited
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput, NotFound
from dermatox.patients.models import Patient
from dermatox.treatments.actions import draft_check
from dermatox.treatments.models import InjectionPoint, TreatmentSession


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
