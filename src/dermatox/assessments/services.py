from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from dermatox.accounts.roles import Perm
from dermatox.assessments.models import Observation
from dermatox.clinical.observations import (
    ObservationValueError,
    check_components,
    check_observation_value,
    observation_types,
)
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
    components: dict | None = None,
    **optional: str,
) -> Observation:
    """Record one typed measurement. The value is checked against the type's range and unit."""
    unknown = set(optional) - set(OPTIONAL_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    try:
        checked = check_observation_value(code, value, unit)
        components = check_components(code, checked.number, components or {})
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
        components=components,
        effective_at=effective_at or timezone.now(),
        recorded_by=actor.acting_user,
        **{k: (v or "").strip() for k, v in optional.items()},
    )
    return child_record_save(
        actor, patient, observation, Perm.EDIT_CLINICAL, "observation.record", {"code": code}
    )


@transaction.atomic
def observation_set_record(
    *,
    actor: Actor,
    patient: Patient,
    items: dict[str, dict],
    effective_at=None,
    encounter: Encounter | None = None,
) -> list[Observation]:
    """Several measurements of one examination (a form), all or nothing. `items` maps a form field name to
    observation_record's arguments; every bad item is reported under its field name before anything stays."""
    saved, errors = [], {}
    for name, item in items.items():
        try:
            arguments = {
                "effective_at": effective_at,
                "encounter": encounter,
                **item,
            }  # an item may own its time
            saved.append(observation_record(actor=actor, patient=patient, **arguments))
        except InvalidInput as exc:
            errors[name] = [
                f"{k}: {' '.join(v)}" if k not in ("value", "__all__") else " ".join(v)
                for k, v in exc.fields.items()
            ] or [exc.message]
    if errors:
        raise InvalidInput.from_fields(errors)
    if not saved:
        raise InvalidInput("nothing entered", fields={"__all__": ["Enter at least one measurement."]})
    return saved


@transaction.atomic
def examination_record(
    *, actor: Actor, patient: Patient, items: dict[str, dict], diagnosis: str = "", effective_at=None
) -> list[Observation]:
    """A clinician's examination form: its measurements and, if chosen, a coded diagnosis, in one go."""
    from dermatox.clinical.reference import by_id
    from dermatox.patients.services import condition_add

    if diagnosis:
        conditions = by_id("conditions.toml")
        if diagnosis not in conditions or conditions[diagnosis]["kind"] != "diagnosis":
            raise InvalidInput(
                "diagnosis: unknown", fields={"diagnosis": ["choose one of the listed diagnoses"]}
            )
    try:
        saved = observation_set_record(actor=actor, patient=patient, items=items, effective_at=effective_at)
    except InvalidInput as exc:
        if not diagnosis or "__all__" not in exc.fields:
            raise
        saved = []  # a diagnosis alone is a complete examination record
    if diagnosis:
        row = by_id("conditions.toml")[diagnosis]
        already = patient.conditions.current().filter(
            category="diagnosis", code=diagnosis, clinical_status="active"
        )
        if not already.exists():
            condition_add(
                actor=actor,
                patient=patient,
                data={
                    "category": "diagnosis",
                    "code": diagnosis,
                    "text": row["display"],
                    "icd10": row.get("icd10", ""),
                    "snomed": row.get("snomed", ""),
                },
            )
    return saved
