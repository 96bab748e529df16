"""Export of one clinic's patients, toxin given elsewhere and observations to CSV, in the import's columns
(docs/import.md): importing an export into an empty clinic gives the same data, and importing it again
changes nothing. Audited as `export.<kind>`. No CLI code here."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils import timezone

from dermatox.assessments.models import Observation
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.patients.models import Patient, PatientIdentifier
from dermatox.transfer.rows import COLUMNS, IDENTIFIER_SYSTEMS
from dermatox.treatments.models import ExternalToxinDose


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text


def patient_keys(clinic) -> dict:
    """Each current patient's key for the file: their first identifier (national id, passport, insurance,
    other; then by value). Patients without an identifier cannot be keyed and are left out."""
    keys: dict = {}
    identifiers = PatientIdentifier.objects.current().filter(
        patient__clinic=clinic, patient__entered_in_error_at__isnull=True
    )
    for identifier in sorted(identifiers, key=lambda i: (IDENTIFIER_SYSTEMS.index(i.system), i.value)):
        keys.setdefault(identifier.patient_id, (identifier.system, identifier.value))
    return keys


def _patient_rows(clinic, keys):
    for patient in Patient.objects.current().filter(clinic=clinic).order_by("mrn"):
        if patient.pk in keys:
            yield [
                *keys[patient.pk],
                patient.given_name,
                patient.family_name,
                patient.sex_at_birth,
                patient.birth_date.isoformat(),
                patient.phone,
                patient.email,
                patient.address,
                patient.preferred_language,
            ]


def _toxin_rows(clinic, keys):
    doses = ExternalToxinDose.objects.current().filter(patient__clinic=clinic, patient_id__in=list(keys))
    for dose in doses.order_by("patient__mrn", "given_on", "product", "area"):
        yield [*keys[dose.patient_id], dose.given_on.isoformat(), dose.product, _number(dose.units), dose.area,
               dose.source]  # fmt: skip


def _observation_rows(clinic, keys):
    observations = Observation.objects.current().filter(patient__clinic=clinic, patient_id__in=list(keys))
    for obs in observations.order_by("patient__mrn", "effective_at", "code"):
        value = _number(obs.value_number) if obs.value_number is not None else obs.value_code
        yield [
            *keys[obs.patient_id],
            obs.code,
            value,
            obs.unit,
            timezone.localtime(obs.effective_at).isoformat(),
        ]


_ROWS = {"patients": _patient_rows, "toxin": _toxin_rows, "observations": _observation_rows}


def csv_export(*, actor: Actor, kind: str) -> tuple[str, int, int]:
    """(CSV text, rows written, patients left out for want of an identifier) for the actor's clinic."""
    if kind not in _ROWS:
        raise InvalidInput("kind: unknown", fields={"kind": [f"must be one of {', '.join(_ROWS)}"]})
    if actor.clinic is None:
        raise InvalidInput("clinic: required", fields={"clinic": ["choose the clinic to export"]})
    keys = patient_keys(actor.clinic)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS[kind])
    count = 0
    for row in _ROWS[kind](actor.clinic, keys):
        writer.writerow(row)
        count += 1
    left_out = Patient.objects.current().filter(clinic=actor.clinic).exclude(pk__in=list(keys)).count()
    audit_record(
        actor=actor, action=f"export.{kind}", detail={"rows": count, "patients_without_identifier": left_out}
    )
    return out.getvalue(), count, left_out
