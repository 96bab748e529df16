"""Import of legacy data from CSV (patients, toxin given elsewhere, observations and labs): no CLI code here.

Every row is first parsed on its own (rows.py), then written through the apps' services in ONE transaction,
each row in a savepoint so that a row the services refuse is reported and the next rows are still checked.
If any row is bad, or on a dry run, the transaction is rolled back: nothing is written, not even the audit
entries. Re-running a file is safe: rows are keyed by the clinic's patient identifier (see docs/import.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from dermatox.assessments.models import Observation
from dermatox.assessments.services import observation_record
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import DermatoxError, InvalidInput
from dermatox.patients.models import Patient, PatientIdentifier
from dermatox.patients.services import PATIENT_FIELDS, patient_create, patient_update
from dermatox.transfer.rows import FileProblem, ParsedRow, parse_rows, read_table
from dermatox.treatments.models import ExternalToxinDose
from dermatox.treatments.services import external_toxin_dose_record

CLINICAL_KINDS = ("toxin", "observations")  # records that name who recorded them (recorded_by)
Progress = Callable[[int, int], None]  # (rows done, rows in all)


@dataclass
class ImportResult:
    kind: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    report: list[str] = field(default_factory=list)  # "row 7: birth_date: not a date (YYYY-MM-DD)", ...
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.report

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run

    def summary(self) -> str:
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}"


class _RowRefused(Exception):
    def __init__(self, lines: list[str]):
        super().__init__("; ".join(lines))
        self.lines = lines


def _lines(exc: DermatoxError) -> list[str]:
    fields = {k: v for k, v in exc.fields.items() if k != "__all__"}
    lines = [f"{name}: {' '.join(messages)}" for name, messages in fields.items()]
    return lines or [exc.message]


def patients_by_identifier(clinic) -> dict[tuple[str, str], list[Patient]]:
    """The clinic's current patients by (identifier system, value)."""
    found: dict[tuple[str, str], list[Patient]] = {}
    identifiers = (
        PatientIdentifier.objects.current()
        .filter(patient__clinic=clinic, patient__entered_in_error_at__isnull=True)
        .select_related("patient")
    )
    for identifier in identifiers:
        found.setdefault((identifier.system, identifier.value), []).append(identifier.patient)
    return found


def _one_patient(index: dict, key: tuple[str, str], *, required: bool) -> Patient | None:
    patients = index.get(key, [])
    if len(patients) > 1:
        raise _RowRefused(
            [
                f"identifier: {len(patients)} patients of this clinic have {key[0]} {key[1]}; resolve that first"
            ]
        )
    if not patients and required:
        raise _RowRefused(
            [f"identifier: no patient with {key[0]} {key[1]} in this clinic (import patients first)"]
        )
    return patients[0] if patients else None


def _patient_row(actor: Actor, index: dict, row: ParsedRow) -> str:
    patient = _one_patient(index, row.key, required=False)
    data = {name: row.values[name] for name in PATIENT_FIELDS}
    if patient is None:
        patient = patient_create(actor=actor, data=data, identifiers=[row.key])
        index[row.key] = [patient]
        return "created"
    if all(getattr(patient, name) == value for name, value in data.items()):
        return "unchanged"
    patient_update(actor=actor, patient=patient, data=data)
    return "updated"


def _not_before_birth(patient: Patient, name: str, day: dt.date) -> None:
    # The services' lifetime check (child_record_save) does not cover given_on and effective_at yet.
    if day < patient.birth_date:
        raise _RowRefused([f"{name}: must not be before the date of birth ({patient.birth_date})"])


def _toxin_row(actor: Actor, index: dict, row: ParsedRow) -> str:
    patient = _one_patient(index, row.key, required=True)
    values = row.values
    _not_before_birth(patient, "given_on", values["given_on"])
    existing = (
        ExternalToxinDose.objects.current()
        .filter(patient=patient, given_on=values["given_on"], product=values["product"], area=values["area"])
        .first()
    )
    if existing is not None:
        if existing.units != values["units"]:
            raise _RowRefused(
                [
                    f"units: this dose is already recorded with {existing.units if existing.units is not None else 'no'}"
                    " units; correct the record, not the file"
                ]
            )
        return "unchanged"
    data = {name: values[name] for name in ("given_on", "product", "units", "area", "source")}
    external_toxin_dose_record(actor=actor, patient=patient, data=data)
    return "created"


def _same_value(observation: Observation, value) -> bool:
    if isinstance(value, Decimal):
        return observation.value_number is not None and Decimal(observation.value_number) == value
    return observation.value_number is None and observation.value_code == value


def _observation_row(actor: Actor, index: dict, row: ParsedRow) -> str:
    patient = _one_patient(index, row.key, required=True)
    values = row.values
    _not_before_birth(patient, "effective_at", values["effective_at"].date())
    candidates = Observation.objects.current().filter(
        patient=patient, code=values["code"], effective_at=values["effective_at"]
    )
    if any(_same_value(o, values["value"]) for o in candidates):
        return "unchanged"
    observation_record(
        actor=actor,
        patient=patient,
        code=values["code"],
        value=values["value"],
        unit=values["unit"] or None,
        effective_at=values["effective_at"],
    )
    return "created"


_WRITERS = {"patients": _patient_row, "toxin": _toxin_row, "observations": _observation_row}


def csv_import(
    *,
    actor: Actor,
    data: bytes,
    kind: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Check every row of a CSV file and, if all are good and this is not a dry run, import them all.

    The actor's clinic receives the data; toxin and observation rows are recorded as the actor's user (a
    clinical record names who recorded it), so a system actor may import patients only. A file-level problem or any bad row gives a result whose `report`
    lists them (row numbers as a spreadsheet shows them) and writes nothing."""
    if actor.clinic is None:
        raise InvalidInput("clinic: required", fields={"clinic": ["choose the clinic to import into"]})
    result = ImportResult(dry_run=dry_run)
    try:
        result.kind, table = read_table(data, kind)
    except FileProblem as exc:
        result.report = [str(exc)]
        return result
    if result.kind in CLINICAL_KINDS and actor.acting_user is None:
        raise InvalidInput(
            "user: required for clinical data",
            fields={
                "user": [f"{result.kind} rows are clinical records: name the staff member who records them"]
            },
        )
    now = now or timezone.now()
    rows, result.report = parse_rows(
        result.kind, table, now=now, tz=ZoneInfo(timezone.get_current_timezone_name())
    )
    result.rows = len(table.records) + len(table.problems)
    write = _WRITERS[result.kind]
    refused: list[str] = []
    with transaction.atomic():
        index = patients_by_identifier(actor.clinic)
        for done, row in enumerate(rows, start=1):
            try:
                with transaction.atomic():
                    outcome = write(actor, index, row)
                setattr(result, outcome, getattr(result, outcome) + 1)
            except _RowRefused as exc:
                refused.extend(f"row {row.number}: {line}" for line in exc.lines)
            except DermatoxError as exc:
                refused.extend(f"row {row.number}: {line}" for line in _lines(exc))
            if progress is not None:
                progress(done, len(rows))
        if refused:
            result.report = sorted(
                result.report + refused, key=lambda line: int(line.split(":", 1)[0].removeprefix("row "))
            )
        if result.report or dry_run:
            transaction.set_rollback(True)
        else:
            audit_record(
                actor=actor,
                action=f"import.{result.kind}",
                detail={
                    "rows": result.rows,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
            )
    return result
