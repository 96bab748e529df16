"""Export of one clinic's patients, toxin given elsewhere and observations to CSV, in the import's columns
(docs/import.md): importing an export into an empty clinic gives the same data, and importing it again
changes nothing. No CLI code here.

The actor's role must allow reading clinical records (a file of the clinic is a read of every record in it);
patients are read only through `patients_in_scope`, so another clinic's records cannot get in. Audited as
`export.<kind>` with the row count and the patients whose records are in the file. Free-text cells a
spreadsheet would read as a formula are written after a single quote (rows.quote_formula)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from dermatox.accounts.roles import Perm
from dermatox.assessments.models import Observation
from dermatox.audit.actions import action as audit_action
from dermatox.audit.services import audit_record
from dermatox.audit.writes import require
from dermatox.common.context import Actor
from dermatox.common.errors import InvalidInput
from dermatox.patients.models import Patient
from dermatox.patients.selectors import patient_identifiers_in_scope, patients_in_scope
from dermatox.transfer.rows import COLUMNS, IDENTIFIER_SYSTEMS, TEXT_COLUMNS, quote_formula
from dermatox.treatments.models import ExternalToxinDose

Keys = dict  # patient id -> (identifier_system, identifier)
Rows = Iterator[tuple[object, list[str]]]  # (patient id, cells in the kind's columns)


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text


def patient_keys(actor: Actor) -> Keys:
    """Each current patient's key for the file: their first identifier (national id, passport, insurance,
    other; then by value). Patients without an identifier cannot be keyed and are left out."""
    keys: Keys = {}
    identifiers = patient_identifiers_in_scope(actor).values_list("patient_id", "system", "value")
    for patient_id, system, value in sorted(
        identifiers, key=lambda i: (IDENTIFIER_SYSTEMS.index(i[1]), i[2])
    ):
        keys.setdefault(patient_id, (system, value))
    return keys


def _patient_rows(patients: QuerySet[Patient], keys: Keys) -> Rows:
    for patient in patients.order_by("mrn"):
        if patient.pk in keys:
            yield (
                patient.pk,
                [
                    *keys[patient.pk],
                    patient.given_name,
                    patient.family_name,
                    patient.sex_at_birth,
                    patient.birth_date.isoformat(),
                    patient.phone,
                    patient.email,
                    patient.address,
                    patient.preferred_language,
                ],
            )


def _toxin_rows(patients: QuerySet[Patient], keys: Keys) -> Rows:
    doses = ExternalToxinDose.objects.current().filter(patient__in=patients)
    for dose in doses.order_by("patient__mrn", "given_on", "product", "area"):
        if dose.patient_id in keys:
            yield dose.patient_id, [*keys[dose.patient_id], dose.given_on.isoformat(), dose.product,
                                    _number(dose.units), dose.area, dose.source]  # fmt: skip


def _observation_rows(patients: QuerySet[Patient], keys: Keys) -> Rows:
    observations = Observation.objects.current().filter(patient__in=patients)
    for obs in observations.order_by("patient__mrn", "effective_at", "code"):
        if obs.patient_id in keys:
            value = _number(obs.value_number) if obs.value_number is not None else obs.value_code
            yield (
                obs.patient_id,
                [
                    *keys[obs.patient_id],
                    obs.code,
                    value,
                    obs.unit,
                    timezone.localtime(obs.effective_at).isoformat(),
                ],
            )


_ROWS = {"patients": _patient_rows, "toxin": _toxin_rows, "observations": _observation_rows}


def csv_export(*, actor: Actor, kind: str) -> tuple[str, int, int]:
    """(CSV text, rows written, patients left out for want of an identifier) for the actor's clinic.

    Raises PermissionDenied if the actor's role may not read clinical records (Perm.VIEW_CLINICAL)."""
    if kind not in _ROWS:
        raise InvalidInput("kind: unknown", fields={"kind": [f"must be one of {', '.join(_ROWS)}"]})
    if actor.clinic is None:
        raise InvalidInput("clinic: required", fields={"clinic": ["choose the clinic to export"]})
    require(actor, Perm.VIEW_CLINICAL)
    patients = patients_in_scope(actor).current()
    keys = patient_keys(actor)
    text_at = [COLUMNS[kind].index(name) for name in TEXT_COLUMNS[kind]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS[kind])
    count, patient_ids = 0, {}
    for patient_id, row in _ROWS[kind](patients, keys):
        for i in text_at:
            row[i] = quote_formula(row[i])
        writer.writerow(row)
        count += 1
        patient_ids[patient_id] = None  # a dict keeps the file's order
    left_out = patients.count() - len(keys)
    audit_record(
        actor=actor,
        action=audit_action("export.{0}", kind),
        detail={
            "rows": count,
            "patients": len(patient_ids),
            "patient_ids": [str(pk) for pk in patient_ids],
            "patients_without_identifier": left_out,
        },
    )
    return out.getvalue(), count, left_out
