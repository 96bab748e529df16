"""Signing a toxin session: acknowledgements of a warned plan, the points administered, the sign itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import Conflict, InvalidInput
from dermatox.inventory.models import Vial
from dermatox.treatments.actions import sign_check
from dermatox.treatments.error_codes import TreatmentCode
from dermatox.treatments.models import FollowUp, InjectionPoint, TreatmentSession
from dermatox.treatments.selectors import session_points
from dermatox.treatments.services.sessions import _active_protocols, _draft, session_plan

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
    points = session_points(session)  # the points the page shows and checks: one read
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
