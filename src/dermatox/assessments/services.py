from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from dermatox.accounts.roles import Perm
from dermatox.assessments.models import Observation
from dermatox.clinical.observations import ObservationValueError, check_observation_value, observation_types
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.common.writes import require, require_same_clinic, save_audited
from dermatox.patients.models import Encounter, Patient

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
    require(actor, Perm.EDIT_CLINICAL)
    require_same_clinic(actor, patient.clinic_id)
    unknown = set(optional) - set(OPTIONAL_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    try:
        checked = check_observation_value(code, value, unit)
    except ObservationValueError as exc:
        raise InvalidInput(str(exc), fields={exc.field: [exc.rule]}) from exc
    effective_at = effective_at or timezone.now()
    if effective_at > timezone.now():
        raise InvalidInput(
            "effective_at: in the future", fields={"effective_at": ["must not be in the future"]}
        )
    if encounter is not None and encounter.patient_id != patient.pk:
        raise InvalidInput(
            "encounter: another patient's", fields={"encounter": ["belongs to another patient"]}
        )
    observation = Observation(
        patient=patient,
        encounter=encounter,
        code=code,
        loinc=observation_types()[code].loinc,
        value_number=checked.number,
        value_code=checked.code,
        unit=checked.unit,
        effective_at=effective_at,
        recorded_by=actor.user if actor.user is not None and actor.user.pk else None,
        **{k: (v or "").strip() for k, v in optional.items()},
    )
    return save_audited(actor, observation, action="observation.record", detail={"code": code})
