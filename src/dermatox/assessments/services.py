from __future__ import annotations

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from dermatox.accounts.roles import Perm
from dermatox.assessments.case_builder import build_case
from dermatox.assessments.models import AssessmentSnapshot, Observation
from dermatox.clinical.observations import ObservationValueError, check_observation_value, observation_types
from dermatox.clinical.pathways import assess
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.common.writes import require, require_same_clinic
from dermatox.patients.models import Encounter, Patient
from dermatox.patients.services import child_record_save

OPTIONAL_FIELDS = ("method", "body_site", "device", "note")


@transaction.atomic
def observation_record(
    *,
    actor: Actor,
    patient: Patient,
    code: str,
    value,
    effective_at=None,
    unit: str | None = None,
    encounter: Encounter | None = None,
    **optional: str,
) -> Observation:
    """Record one typed measurement. The value is checked against the type's range and unit."""
    unknown = set(optional) - set(OPTIONAL_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    try:
        checked = check_observation_value(code, value, unit)
    except ObservationValueError as exc:
        raise InvalidInput(str(exc), fields={exc.field: [exc.rule]}) from exc
    observation = Observation(
        patient=patient,
        encounter=encounter,
        code=code,
        loinc=observation_types()[code].loinc,
        value_number=checked.number,
        value_code=checked.code,
        unit=checked.unit,
        effective_at=effective_at or timezone.now(),
        recorded_by=actor.acting_user,
        **{k: (v or "").strip() for k, v in optional.items()},
    )
    return child_record_save(
        actor, patient, observation, Perm.EDIT_CLINICAL, "observation.record", {"code": code}
    )


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
        missing=built.missing,
        engine_version=result["engine_version"],
        content_hash=hashlib.sha256(payload.encode()).hexdigest(),
        signed_by=actor.user,
        signed_at=timezone.now(),
    )
    return child_record_save(
        actor, patient, snapshot, Perm.SIGN_PLAN, "assessment.sign", {"as_of": str(as_of)}
    )
