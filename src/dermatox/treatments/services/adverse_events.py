"""Adverse events after a treatment."""

from __future__ import annotations

from django.db import transaction

from dermatox.accounts.roles import Perm
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.patients.models import Patient
from dermatox.patients.services import child_record_save
from dermatox.treatments.models import AdverseEvent

AE_FIELDS = ("session", "kind", "severity", "onset", "outcome", "note")


@transaction.atomic
def adverse_event_record(*, actor: Actor, patient: Patient, data: dict) -> AdverseEvent:
    unknown = sorted(set(data) - set(AE_FIELDS))
    if unknown:
        raise InvalidInput(
            f"unknown field(s): {', '.join(unknown)}", fields={k: ["unknown field"] for k in unknown}
        )
    session = data.get("session")
    if session is not None and session.patient_id != patient.pk:
        raise InvalidInput(
            "session: another patient's", fields={"session": ["is not a session of this patient"]}
        )
    event = AdverseEvent(
        recorded_by=actor.acting_user, **{k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
    )
    return child_record_save(actor, patient, event, Perm.EDIT_CLINICAL, "adverse_event.record")
