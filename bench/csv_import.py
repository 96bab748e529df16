"""CSV import of 100,000 observation and lab rows (`dermatox import`), against a baseline in the same run.

Generates a patients file (1,000 patients) and an observations file (100,000 rows: labs by name and by
LOINC code, with units, and hair counts; times with and without an offset), then times, in this order:
  - the patients import (not the subject; printed for context);
  - the observations import with --dry-run (every row checked through the services, then rolled back);
  - the real import (every row through `observation_record`: validated, versioned, audited);
  - a re-run of the same file (idempotent: every row `unchanged`, no record written);
  - the baseline: the same file parsed with the stdlib `csv` module and written with
    `Observation.objects.bulk_create` (batches of 1,000, one transaction), with no validation, no history
    and no audit, into a second clinic with the same patients.
Prints each time, the rows per second and the ratio import / baseline.
Run: `make bench` (SQLite in a temporary file) or with DATABASE_URL=postgres://... for PostgreSQL.
BENCH_IMPORT_ROWS and BENCH_IMPORT_PATIENTS change the sizes.
"""

from __future__ import annotations

import os
import sys
import time

from patient_page import setup_django

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
PATIENTS = int(os.environ.get("BENCH_IMPORT_PATIENTS", "1000"))
# (code as written in the file, value for row i, unit): labs by id and by LOINC code, counts, a decimal.
MEASUREMENTS = [
    ("ferritin", lambda i: f"{10 + i % 200}.5", "ng/mL"),
    ("718-7", lambda i: f"{11 + i % 5}.{i % 10}", "g/dL"),  # hemoglobin, by its LOINC code
    ("tsh", lambda i: f"{i % 5}.{i % 100:02d}", ""),
    ("vitamin_d_25oh", lambda i: str(5 + i % 60), "ng/mL"),
    ("pull_test_hairs", lambda i: str(i % 60), ""),
    ("hair_density", lambda i: f"{100 + i % 300}.25", "/cm2"),
]


def patients_csv() -> str:
    lines = [
        "identifier_system,identifier,given_name,family_name,sex_at_birth,birth_date,phone,email,address,"
        "preferred_language"
    ]
    for p in range(PATIENTS):
        sex = "female" if p % 2 else "male"
        lines.append(
            f"national_id,{10_000_000_000 + p},Bench,Patient {p},{sex},1980-01-{1 + p % 28:02d},,,,tr"
        )
    return "\n".join(lines) + "\n"


def observations_csv() -> str:
    lines = ["identifier_system,identifier,code,value,unit,effective_at"]
    per_patient = -(-ROWS // PATIENTS)
    for i in range(ROWS):
        patient, n = i % PATIENTS, i // PATIENTS
        code, value, unit = MEASUREMENTS[n % len(MEASUREMENTS)]
        day = f"20{10 + n // 12 % 15}-{1 + n % 12:02d}-{1 + patient % 28:02d}"
        when = f"{day}T{8 + n % 10:02d}:{patient % 60:02d}:00+03:00" if i % 2 else day
        lines.append(f"national_id,{10_000_000_000 + patient},{code},{value(i)},{unit},{when}")
    assert per_patient <= 180, "times would repeat: raise BENCH_IMPORT_PATIENTS"
    return "\n".join(lines) + "\n"


def baseline(text: str, clinic) -> int:
    """The floor: stdlib csv, a dict lookup for the patient, bulk_create; no checks, history or audit."""
    import csv
    import datetime as dt
    import io
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from django.db import transaction
    from django.utils import timezone

    from dermatox.assessments.models import Observation
    from dermatox.clinical.observations import observation_types
    from dermatox.patients.models import PatientIdentifier

    tz = ZoneInfo(timezone.get_current_timezone_name())
    types = observation_types()
    by_loinc = {t.loinc: t.id for t in types.values() if t.loinc}
    patients = {
        (i.system, i.value): i.patient_id for i in PatientIdentifier.objects.filter(patient__clinic=clinic)
    }
    reader = csv.DictReader(io.StringIO(text, newline=""))
    batch, written = [], 0
    with transaction.atomic():
        for cells in reader:
            code = by_loinc.get(cells["code"], cells["code"])
            when = dt.datetime.fromisoformat(cells["effective_at"])
            batch.append(
                Observation(
                    patient_id=patients[(cells["identifier_system"], cells["identifier"])],
                    code=code,
                    loinc=types[code].loinc,
                    value_number=Decimal(cells["value"]),
                    unit=cells["unit"] or types[code].unit,
                    effective_at=when if when.tzinfo else when.replace(tzinfo=tz),
                )
            )
            if len(batch) == 1000:
                written += len(Observation.objects.bulk_create(batch))
                batch = []
        written += len(Observation.objects.bulk_create(batch))
    return written


def main() -> int:
    setup_django()
    from django.db import connection

    from dermatox.accounts.models import Clinic, Membership, User
    from dermatox.assessments.models import Observation
    from dermatox.common.context import Actor
    from dermatox.transfer.csv_import import csv_import

    clinic = Clinic.objects.create(name="Bench", code="bench")
    other = Clinic.objects.create(name="Baseline", code="base")
    user = User.objects.create_user("bench", password="Bench-password-1")
    Membership.objects.create(user=user, clinic=clinic, role="physician")
    actor = Actor(user=user, clinic=clinic, role="physician", channel="cli")
    patients, observations = patients_csv().encode(), observations_csv()
    data = observations.encode()

    def timed(**kwargs):
        began = time.perf_counter()
        result = csv_import(**kwargs)
        elapsed = time.perf_counter() - began
        assert result.ok, result.report[:5]
        return result, elapsed

    result, t_patients = timed(actor=actor, data=patients)
    assert result.created == PATIENTS
    csv_import(actor=Actor.system(clinic=other), data=patients)
    result, t_dry = timed(actor=actor, data=data, dry_run=True)
    assert result.created == ROWS and Observation.objects.count() == 0
    result, t_import = timed(actor=actor, data=data)
    assert result.created == ROWS and Observation.objects.count() == ROWS
    result, t_rerun = timed(actor=actor, data=data)
    assert result.unchanged == ROWS and Observation.objects.count() == ROWS
    began = time.perf_counter()
    written = baseline(observations, other)
    t_base = time.perf_counter() - began
    assert written == ROWS

    def line(label: str, seconds: float, rows: int = ROWS) -> str:
        return (
            f"{label:<44} {seconds:8.2f} s  {rows / seconds:9,.0f} rows/s  {seconds / t_base:6.1f}x baseline"
        )

    print(f"database: {connection.vendor}; {ROWS:,} observation rows for {PATIENTS:,} patients")
    print(line(f"patients import ({PATIENTS:,} rows)", t_patients, PATIENTS))
    print(line("observations import --dry-run", t_dry))
    print(line("observations import", t_import))
    print(line("re-run of the same file (all unchanged)", t_rerun))
    print(line("baseline: csv module + bulk_create", t_base))
    print(f"ratio import / baseline: {t_import / t_base:.1f}x; dry run / import: {t_dry / t_import:.2f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    raise SystemExit(main())
