"""The treatment history: treatment courses and toxin doses given elsewhere (external doses)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from dermatox.accounts.roles import Perm
from dermatox.clinical.reference import by_id
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.patients.models import Patient
from dermatox.patients.services import child_record_save
from dermatox.treatments.models import ExternalToxinDose, TreatmentCourse

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
        recorded_by=actor.acting_user,
        **{k: v.strip() if isinstance(v, str) else v for k, v in data.items()},
    )
    return child_record_save(actor, patient, course, Perm.EDIT_CLINICAL, "treatment_course.record")


EXTERNAL_DOSE_FIELDS = ("given_on", "area", "product", "units", "source")  # source: default "intake"
EXTERNAL_DOSE_AREAS = ("scalp", "face", "axilla", "other")


@transaction.atomic
def external_toxin_dose_record(*, actor: Actor, patient: Patient, data: dict) -> ExternalToxinDose:
    """Toxin given elsewhere: the product may be "unknown" and the units missing (then the rules cannot
    count it, and the Assessment page says so)."""
    unknown = sorted(set(data) - set(EXTERNAL_DOSE_FIELDS))
    if unknown:
        raise InvalidInput(
            f"unknown field(s): {', '.join(unknown)}", fields={k: ["unknown field"] for k in unknown}
        )
    if data.get("area") not in EXTERNAL_DOSE_AREAS:
        raise InvalidInput(
            "area: unknown", fields={"area": [f"must be one of {', '.join(EXTERNAL_DOSE_AREAS)}"]}
        )
    products = [*by_id("toxin_products.toml"), "unknown"]
    if data.get("product") not in products:
        raise InvalidInput("product: unknown", fields={"product": [f"must be one of {', '.join(products)}"]})
    units = data.get("units")
    if units is not None and not (0 < Decimal(units) <= 1000):
        raise InvalidInput("units: range", fields={"units": ["must be above 0 and at most 1000"]})
    dose = ExternalToxinDose(recorded_by=actor.acting_user, **data)
    return child_record_save(actor, patient, dose, Perm.EDIT_CLINICAL, "external_toxin_dose.record")
