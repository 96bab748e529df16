"""A patient with one record of every kind, for tests that must touch every patient-scoped URL."""

import datetime as dt

from django.utils import timezone

from dermatox.assessments.services import observation_record
from dermatox.chart.signing import assessment_sign
from dermatox.patients import services as ps
from dermatox.treatments.services import (
    adverse_event_record,
    follow_up_create,
    session_create,
    treatment_course_record,
)


def full_record(actor, patient) -> dict[str, int]:
    now = timezone.now()
    encounter = ps.encounter_create(actor=actor, patient=patient, data={"kind": "consultation", "start": now})
    return {
        "identifier": patient.identifiers.first().pk,
        "encounter": encounter.pk,
        "condition": ps.condition_add(
            actor=actor,
            patient=patient,
            data={
                "category": "diagnosis",
                "code": "acne_vulgaris",
                "text": "Acne vulgaris",
                "icd10": "L70.0",
            },
        ).pk,
        "medication": ps.medication_add(actor=actor, patient=patient, data={"name": "Finasteride"}).pk,
        "allergy": ps.allergy_add(actor=actor, patient=patient, data={"substance": "Lidocaine"}).pk,
        "pregnancy": ps.pregnancy_status_record(
            actor=actor,
            patient=patient,
            data={"pregnant": "no", "breastfeeding": "no", "recorded_on": timezone.localdate()},
        ).pk,
        "consent": ps.consent_record(
            actor=actor,
            patient=patient,
            data={"kind": "treatment", "decision": "granted", "signer_name": "P", "signed_at": now},
        ).pk,
        "note": ps.note_add(
            actor=actor, patient=patient, data={"text": "Secret clinical note", "encounter": encounter}
        ).pk,
        "observation": observation_record(
            actor=actor, patient=patient, code="gags", value=20, encounter=encounter
        ).pk,
        "follow_up": follow_up_create(
            actor=actor,
            patient=patient,
            data={"due_date": timezone.localdate() + dt.timedelta(weeks=12), "reason": "Review"},
        ).pk,
        "treatment_course": treatment_course_record(
            actor=actor,
            patient=patient,
            data={"treatment": "topical_first_line", "weeks": 12, "outcome": "inadequate"},
        ).pk,
        "assessment": assessment_sign(actor=actor, patient=patient, as_of=timezone.localdate()).pk,
        "session": session_create(actor=actor, patient=patient, protocol="glabellar_lines").pk,
        "adverse_event": adverse_event_record(
            actor=actor,
            patient=patient,
            data={"kind": "bruising", "severity": "mild", "onset": timezone.localdate()},
        ).pk,
        "intake": _submitted_intake(actor, patient).pk,
        "patient": 0,
    }


def _submitted_intake(actor, patient):
    from dermatox.intake import services as intake_services
    from tests.intake.answers import valid_answers

    intake, _token = intake_services.intake_start(actor=actor, patient=patient)
    return intake_services.intake_submit(
        actor=intake_services.patient_actor(intake), intake=intake, data=valid_answers()
    )
