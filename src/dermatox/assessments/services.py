from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from dermatox.accounts.roles import Perm
from dermatox.assessments.models import Observation
from dermatox.clinical.observations import ObservationValueError, check_observation_value, observation_types
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
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
        recorded_by=actor.user if actor.user is not None and actor.user.pk else None,
        **{k: (v or "").strip() for k, v in optional.items()},
    )
    return child_record_save(
        actor, patient, observation, Perm.EDIT_CLINICAL, "observation.record", {"code": code}
    )
