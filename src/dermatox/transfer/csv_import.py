"""Import of legacy data from CSV (patients, toxin given elsewhere, observations and labs): no CLI code here.

Every row is first parsed on its own (rows.py), then written through the apps' services in ONE transaction,
each row in a savepoint so that a row the services refuse is reported and the next rows are still checked.
If any row is bad, or on a dry run, the transaction is rolled back: nothing is written, not even the audit
entries. Re-running a file is safe: rows are keyed by the clinic's patient identifier (see docs/import.md);
what is already recorded is read once per import (one query per kind), not once per row.
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
from dermatox.audit.actions import action as audit_action
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import DermatoxError, InvalidInput
from dermatox.patients.models import Patient
from dermatox.patients.selectors import patient_identifiers_in_scope, patients_in_scope
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


LOOKUP_CHUNK = 2_000  # identifier values a query asks for (well under SQLite's bound-parameter limit)


def patients_by_identifier(actor: Actor, keys) -> dict[tuple[str, str], list[Patient]]:
    """The current patients of the actor's clinic named by `keys` ((identifier system, value) pairs: the
    file's rows), by key. Only those are read, so an import costs what the file holds, not what the clinic
    holds."""
    found: dict[tuple[str, str], list[Patient]] = {}
    wanted = set(keys)
    values = sorted({value for _, value in wanted})
    scope = patient_identifiers_in_scope(actor).select_related("patient")
    for start in range(0, len(values), LOOKUP_CHUNK):
        for identifier in scope.filter(value__in=values[start : start + LOOKUP_CHUNK]):
            key = (identifier.system, identifier.value)
            if key in wanted:
                found.setdefault(key, []).append(identifier.patient)
    return found


# What is already recorded, read once per import (one query) instead of once per row: rows are checked
# against it, and what the import writes is added to it, so that a later row sees an earlier one.
Known = dict | set  # the keys of the recorded rows (see _known_doses and _known_observations)


def _known_doses(actor: Actor, rows: list[ParsedRow]) -> Known:
    """(patient id, given_on, product, area) -> units, of the clinic's current doses given elsewhere (the first
    recorded, if several share a key), limited to the days and products of the file."""
    if not rows:
        return {}
    days = [row.values["given_on"] for row in rows]
    doses = (
        ExternalToxinDose.objects.current()
        .filter(
            patient__in=patients_in_scope(actor).current(),
            given_on__range=(min(days), max(days)),
            product__in={row.values["product"] for row in rows},
        )
        .order_by("pk")
        .values_list("patient_id", "given_on", "product", "area", "units")
    )
    known: Known = {}
    for patient_id, given_on, product, area, units in doses:
        known.setdefault((patient_id, given_on, product, area), units)
    return known


def _value_key(value) -> tuple:
    # A number is the same as a number of the same value (Decimal: 12.5 == 12.5000, and so are their hashes),
    # a code the same code; a number is never the same as a code.
    return ("number", value) if isinstance(value, Decimal) else ("code", value)


def _known_observations(actor: Actor, rows: list[ParsedRow]) -> Known:
    """{(patient id, code, effective_at, value)} of the clinic's current observations, limited to the codes and
    the time span of the file. Aware datetimes compare (and hash) as instants, whatever their offset."""
    if not rows:
        return set()
    moments = [row.values["effective_at"] for row in rows]
    observations = Observation.objects.current().filter(
        patient__in=patients_in_scope(actor).current(),
        code__in={row.values["code"] for row in rows},
        effective_at__range=(min(moments), max(moments)),
    )
    return {
        (patient_id, code, effective_at, _value_key(number if number is not None else text))
        for patient_id, code, effective_at, number, text in observations.values_list(
            "patient_id", "code", "effective_at", "value_number", "value_code"
        )
    }


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


def _patient_row(actor: Actor, index: dict, known: Known, row: ParsedRow) -> str:
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
    # The services refuse these too (child_record_save); checked here first so the row's message can name
    # the date of birth the operator must compare with.
    if day < patient.birth_date:
        raise _RowRefused([f"{name}: must not be before the date of birth ({patient.birth_date})"])


_UNITS_PLACES = Decimal(1).scaleb(-ExternalToxinDose._meta.get_field("units").decimal_places)


def _toxin_row(actor: Actor, index: dict, known: Known, row: ParsedRow) -> str:
    patient = _one_patient(index, row.key, required=True)
    values = row.values
    _not_before_birth(patient, "given_on", values["given_on"])
    key = (patient.pk, values["given_on"], values["product"], values["area"])
    if key in known:
        units = known[key]
        if units != values["units"]:
            raise _RowRefused(
                [
                    f"units: this dose is already recorded with {units if units is not None else 'no'}"
                    " units; correct the record, not the file"
                ]
            )
        return "unchanged"
    data = {name: values[name] for name in ("given_on", "product", "units", "area", "source")}
    dose = external_toxin_dose_record(actor=actor, patient=patient, data=data)
    units = dose.units
    known[key] = units if units is None else Decimal(units).quantize(_UNITS_PLACES)  # as read back
    return "created"


def _observation_row(actor: Actor, index: dict, known: Known, row: ParsedRow) -> str:
    patient = _one_patient(index, row.key, required=True)
    values = row.values
    _not_before_birth(patient, "effective_at", values["effective_at"].date())
    key = (patient.pk, values["code"], values["effective_at"], _value_key(values["value"]))
    if key in known:
        return "unchanged"
    observation_record(
        actor=actor,
        patient=patient,
        code=values["code"],
        value=values["value"],
        unit=values["unit"] or None,
        effective_at=values["effective_at"],
    )
    known.add(key)
    return "created"


_WRITERS = {"patients": _patient_row, "toxin": _toxin_row, "observations": _observation_row}
_KNOWN = {"patients": lambda actor, rows: {}, "toxin": _known_doses, "observations": _known_observations}


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
        index = patients_by_identifier(actor, (row.key for row in rows))
        known = _KNOWN[result.kind](actor, rows)
        for done, row in enumerate(rows, start=1):
            try:
                with transaction.atomic():
                    outcome = write(actor, index, known, row)
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
                action=audit_action("import.{0}", result.kind),
                detail={
                    "rows": result.rows,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
            )
    return result
