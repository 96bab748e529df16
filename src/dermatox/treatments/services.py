from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from dermatox.accounts.roles import Perm
from dermatox.clinical.reference import by_id
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.common.writes import require, require_same_clinic, save_audited
from dermatox.patients.models import Patient
from dermatox.patients.services import child_record_save
from dermatox.treatments.models import FollowUp, TreatmentCourse


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
        created_by=actor.user if actor.user is not None and actor.user.pk else None,
        **{k: v.strip() if isinstance(v, str) else v for k, v in data.items()},
    )
    return child_record_save(actor, patient, follow_up, Perm.EDIT_CLINICAL, "follow_up.create")


@transaction.atomic
def follow_up_set_status(*, actor: Actor, follow_up: FollowUp, status: str) -> FollowUp:
    require(actor, Perm.EDIT_APPOINTMENTS)
    require_same_clinic(actor, follow_up.patient.clinic_id)
    follow_up.status = status
    return save_audited(actor, follow_up, action="follow_up.status", detail={"status": status})


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
        recorded_by=actor.user if actor.user is not None and actor.user.pk else None,
        **{k: v.strip() if isinstance(v, str) else v for k, v in data.items()},
    )
    return child_record_save(actor, patient, course, Perm.EDIT_CLINICAL, "treatment_course.record")
