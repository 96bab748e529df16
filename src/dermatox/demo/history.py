"""Demo treatment history: past toxin sessions at the demo's treatment visits, and signed assessments.

So the outcome plots, the cohort page, the recall worklist and lot recall show something the day the demo
is loaded. Past sessions are written as they would have been charted then: points, one administration per
point from a vial of lot C8124B, a signed session. Assessments are signed today through the service.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from dermatox.accounts.models import Clinic, User
from dermatox.assessments.models import Observation
from dermatox.chart.signing import assessment_sign
from dermatox.clinical.demographics import age_on
from dermatox.clinical.reference import by_id
from dermatox.common.context import Actor
from dermatox.inventory.models import Lot, Vial, Withdrawal
from dermatox.patients.models import Encounter, Patient
from dermatox.treatments.models import InjectionPoint, TreatmentSession
from dermatox.treatments.services import protocol_points

HISTORY_LOT = "C8124B"  # onabotulinumtoxinA 200 U (see loader._demo_stock)
# Charted sessions and signed assessments go through the real services (tens of ms each), so a
# benchmark-sized demo (100,000 patients) gets them for this many patients, not for every one.
HISTORY_PATIENTS = 400


def _protocol_for(patient: Patient, codes: set[str], on: dt.date) -> str | None:
    """Scalp toxin only for men 19-63, the ages studied (clinical.md §12.8c); intradermal sebum toxin when sebum was measured."""
    if (
        "daily_shedding" in codes
        and patient.sex_at_birth == "male"
        and 19 <= age_on(patient.birth_date, on) <= 63
    ):
        return "hair_scalp_im"
    if "sebum_casual" in codes:
        return "sebum_forehead_id"
    return None


def demo_treatment_history(*, clinic: Clinic, physician: User, nurse: User, as_of: dt.date) -> dict[str, int]:
    protocols = by_id("toxin_protocols.toml")
    lot = Lot.objects.get(clinic=clinic, lot_number=HISTORY_LOT)
    codes_by_patient: dict = {}
    for patient_id, code in (
        Observation.objects.filter(patient__clinic=clinic, code__in=("daily_shedding", "sebum_casual"))
        .values_list("patient_id", "code")
        .distinct()
    ):
        codes_by_patient.setdefault(patient_id, set()).add(code)
    first_treatment = {}
    for encounter in (
        Encounter.objects.filter(clinic=clinic, kind="treatment", patient_id__in=codes_by_patient)
        .select_related("patient")
        .order_by("start")
    ):
        first_treatment.setdefault(encounter.patient_id, encounter)
    sessions = 0
    for patient_id, encounter in list(first_treatment.items())[:HISTORY_PATIENTS]:
        patient = encounter.patient
        at = encounter.start + dt.timedelta(minutes=10)
        protocol = _protocol_for(patient, codes_by_patient[patient_id], timezone.localdate(at))
        if protocol is None:
            continue
        spec = protocols[protocol]
        vial = Vial.objects.create(
            lot=lot,
            vial_units=200,
            state=Vial.State.EMPTY,
            diluent_ml=Decimal(4),
            opened_at=at - dt.timedelta(minutes=5),
            opened_by=nurse,
            beyond_use_at=at + dt.timedelta(hours=24),
            remaining_units=Decimal(0),
        )
        session = TreatmentSession.objects.create(
            patient=patient,
            protocol=protocol,
            product=spec["product"],
            vial=vial,
            status=TreatmentSession.Status.SIGNED,
            note="Demo history",
            created_by=nurse,
            signed_by=nurse,
            signed_at=at,
        )
        points = protocol_points(session, spec)
        withdrawals = [
            Withdrawal(vial=vial, patient=patient, units=p.units, reason="administered", at=at, by=nurse)
            for p in points
        ]
        for point, withdrawal in zip(points, withdrawals, strict=True):
            point.withdrawal = withdrawal
        bulk_create_with_history(withdrawals, Withdrawal, default_user=nurse)
        bulk_create_with_history(points, InjectionPoint, default_user=nurse)
        used = sum((w.units for w in withdrawals), Decimal(0))
        # What the vial had left was wasted at the end of the day (the demo does not keep old vials open).
        if used < 200:
            Withdrawal.objects.create(vial=vial, units=Decimal(200) - used, reason="wasted", at=at, by=nurse)
        sessions += 1

    actor = Actor(user=physician, clinic=clinic, role="physician", channel="cli")
    signed = 0
    for patient in Patient.objects.filter(clinic=clinic, sex_at_birth__in=("male", "female")).order_by("mrn")[
        :HISTORY_PATIENTS
    ]:
        assessment_sign(actor=actor, patient=patient, as_of=as_of)
        signed += 1
    return {"past_sessions": sessions, "signed_assessments": signed}
