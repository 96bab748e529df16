"""Signing an assessment: the case built from the whole record (chart.case_builder), the engine's result kept
as a signed snapshot (assessments), and the pathways' reviews added to the recall list (treatments). It
spans apps, so it lives above them, beside the reads it builds on (was assessments.services)."""

from __future__ import annotations

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from dermatox.accounts.roles import Perm
from dermatox.assessments.models import AssessmentSnapshot
from dermatox.audit.writes import require, require_same_clinic
from dermatox.chart.case_builder import build_case
from dermatox.clinical.pathways import assess
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.patients.models import Patient
from dermatox.patients.services import child_record_save
from dermatox.treatments.services import follow_ups_from_assessment


@transaction.atomic
def assessment_sign(*, actor: Actor, patient: Patient, as_of) -> AssessmentSnapshot:
    """Build the case from the record now, assess it, and keep the signed result (physicians only)."""
    require(actor, Perm.SIGN_PLAN)
    require_same_clinic(actor, patient.clinic_id)
    built = build_case(patient, as_of)
    if built.case is None:
        raise InvalidInput("; ".join(built.missing), fields={"__all__": built.missing})
    result = assess(built.case)
    payload = json.dumps({"case": built.case, "result": result}, sort_keys=True, separators=(",", ":"))
    snapshot = AssessmentSnapshot(
        patient=patient,
        as_of=as_of,
        case=built.case,
        result=result,
        missing=built.missing_items(),
        engine_version=result["engine_version"],
        content_hash=hashlib.sha256(payload.encode()).hexdigest(),
        signed_by=actor.user,
        signed_at=timezone.now(),
    )
    child_record_save(actor, patient, snapshot, Perm.SIGN_PLAN, "assessment.sign", {"as_of": str(as_of)})
    follow_ups_from_assessment(actor=actor, snapshot=snapshot)  # the pathways' reviews join the recall list
    return snapshot
