"""The Assessment page's read: the case built from the record, the engine's result, and signed snapshots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dermatox.accounts.roles import Perm
from dermatox.assessments.models import AssessmentSnapshot
from dermatox.audit.services import audit_record
from dermatox.chart.case_builder import BuiltCase, build_case
from dermatox.clinical.messages import engine_lang
from dermatox.clinical.pathways import assess, localize
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound, PermissionDenied
from dermatox.patients.models import Patient
from dermatox.patients.selectors import patient_get


def result_in(result: dict | None, language: str) -> dict | None:
    """An engine result (fresh or a signed snapshot's) with every engine text rendered in the reader's or
    the patient's language (a Django language code: "tr", "tr-TR", "en"...) from the ids and parameters it
    carries; the texts of results from before engine 2.0 stay as they were stored."""
    if result is None:
        return None
    return localize(result, engine_lang(language))


@dataclass
class AssessmentView:
    patient: Patient
    as_of: dt.date
    built: BuiltCase
    result: dict | None
    snapshots: list[AssessmentSnapshot]


def assessment_view(*, actor: Actor, patient_id, as_of: dt.date) -> AssessmentView:
    if not actor.can(Perm.VIEW_CLINICAL):
        raise PermissionDenied("Your role does not give access to clinical assessments")
    patient = patient_get(actor=actor, patient_id=patient_id, audit_as=None)
    built = build_case(patient, as_of)
    result = assess(built.case) if built.case is not None else None
    snapshots = list(patient.assessment_snapshots.current().select_related("signed_by")[:20])
    audit_record(
        actor=actor,
        action="patient.view",
        obj=patient,
        detail={"sections": ["assessment"], "as_of": str(as_of)},
    )
    return AssessmentView(patient, as_of, built, result, snapshots)


def snapshot_get(*, actor: Actor, patient_id, snapshot_id) -> AssessmentSnapshot:
    if not actor.can(Perm.VIEW_CLINICAL):
        raise PermissionDenied("Your role does not give access to clinical assessments")
    patient = patient_get(actor=actor, patient_id=patient_id, audit_as=None)
    snapshot = patient.assessment_snapshots.select_related("signed_by").filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound("No such assessment")
    audit_record(actor=actor, action="assessment.view", obj=snapshot)
    return snapshot
