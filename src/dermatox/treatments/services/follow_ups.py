"""Follow-ups (recall items): create, set the status, mark done or declined, and the pathways' follow-ups of
a signed assessment."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from dermatox.accounts.roles import Perm
from dermatox.audit.writes import require, require_same_clinic, save_audited
from dermatox.common.context import Actor
from dermatox.common.errors import Conflict, InvalidInput
from dermatox.patients.models import Patient
from dermatox.patients.services import child_record_save
from dermatox.treatments.error_codes import TreatmentCode
from dermatox.treatments.models import FollowUp


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
