"""Lot recall time with 100,000 administrations in the database.

Run: `.venv/bin/python bench/lot_recall.py` (SQLite in a temporary file; DATABASE_URL for PostgreSQL).
Baseline in the same run: counting the withdrawals table (a full scan), to put the recall time in context.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ADMINISTRATIONS = int(os.environ.get("BENCH_ADMINISTRATIONS", "100000"))


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="dermatox-recall-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "dermatox.settings.test"
    os.environ["DERMATOX_VAR_DIR"] = str(tmp)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from dermatox.accounts.models import Clinic
    from dermatox.common.context import Actor
    from dermatox.inventory.models import Lot, Vial, Withdrawal
    from dermatox.inventory.selectors import lot_recall
    from dermatox.patients.models import Patient

    rng = random.Random(1)
    clinic = Clinic.objects.create(name="Recall clinic", code="rc")
    patients = Patient.objects.bulk_create(
        [
            Patient(
                clinic=clinic,
                mrn=f"RC-{i:06d}",
                given_name="P",
                family_name=f"N{i}",
                sex_at_birth="female",
                birth_date=dt.date(1980, 1, 1),
                search_name=f"p n{i}",
            )
            for i in range(20_000)
        ]
    )
    lots = Lot.objects.bulk_create(
        [
            Lot(
                clinic=clinic,
                product="onabotulinumtoxinA",
                lot_number=f"L{i:04d}",
                expiry=dt.date(2030, 1, 1),
            )
            for i in range(500)
        ]
    )
    vials = Vial.objects.bulk_create(
        [Vial(lot=lot, vial_units=100, remaining_units=0, state="empty") for lot in lots for _ in range(20)]
    )
    now = timezone.now()
    batch = []
    for _ in range(ADMINISTRATIONS):
        batch.append(
            Withdrawal(
                vial=rng.choice(vials), patient=rng.choice(patients), units=4, reason="administered", at=now
            )
        )
        if len(batch) == 10_000:
            Withdrawal.objects.bulk_create(batch)
            batch = []
    Withdrawal.objects.bulk_create(batch)
    actor = Actor.system(clinic=clinic)
    lot_recall(actor=actor, lot_number="L0001")  # warm
    times = []
    for i in range(20):
        began = time.perf_counter()
        lines = lot_recall(actor=actor, lot_number=f"L{i:04d}")
        times.append(time.perf_counter() - began)
    began = time.perf_counter()
    total = Withdrawal.objects.count()
    scan = time.perf_counter() - began
    times.sort()
    print(f"database: {connection.vendor}; administrations: {total:,}; lots: 500; patients: 20,000")
    print(
        f"lot recall (median of 20 lots, ~{len(lines)} patients each): {times[10] * 1000:.1f} ms (max {times[-1] * 1000:.1f} ms)"
    )
    print(
        f"baseline, COUNT(*) over all administrations: {scan * 1000:.1f} ms; ratio recall/count {times[10] / scan:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    raise SystemExit(main())
