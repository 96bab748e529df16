"""Bulk export ($export) throughput for 100,000 Observation resources (each with its history row, as the
services write them), against a baseline measured in the same run: the same rows read with .values() and
written as plain dicts with orjson, one per line.

Prints both times, the ratio (target <= 2x) and the peak Python memory (tracemalloc) of the export for
20,000 and for 100,000 resources (flat memory: the peak should not grow with the count).
Run: `make bench`, or with DATABASE_URL=postgres://... for PostgreSQL.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc

from patient_page import setup_django

COUNT = int(os.environ.get("BENCH_BULK_COUNT", "100000"))


def main() -> int:
    setup_django()
    import datetime as dt
    from decimal import Decimal

    import orjson
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history

    from dermatox.accounts.models import Clinic, Membership, User
    from dermatox.accounts.tokens import api_token_create
    from dermatox.assessments.models import Observation
    from dermatox.bulk.models import BulkExportJob
    from dermatox.bulk.services import export_run
    from dermatox.common.context import Actor
    from dermatox.patients.models import Patient

    clinic = Clinic.objects.create(name="Bench", code="bench")
    user = User.objects.create_user("bench", password="Bench-password-1")
    Membership.objects.create(user=user, clinic=clinic, role="physician")
    token, _secret = api_token_create(
        actor=Actor.system(clinic=clinic),
        clinic=clinic,
        user=user,
        name="b",
        role="physician",
        scopes=["export"],
    )
    patients = Patient.objects.bulk_create(
        [
            Patient(
                clinic=clinic,
                mrn=f"B-{i:06d}",
                given_name="Bench",
                family_name=f"P{i}",
                sex_at_birth="female",
                birth_date=dt.date(1990, 1, 1),
                search_name=f"bench p{i}",
            )
            for i in range(COUNT // 100)
        ]
    )
    now = timezone.now()
    for start in range(0, COUNT, 10000):
        # With their history rows, as the services write them: the export reads each one's version from it.
        bulk_create_with_history(
            [
                Observation(
                    patient=patients[i % len(patients)],
                    code="sebum_casual",
                    loinc="",
                    unit="ug/cm2",
                    value_number=Decimal(100 + i % 50),
                    body_site="forehead",
                    effective_at=now - dt.timedelta(minutes=i),
                )
                for i in range(start, min(start + 10000, COUNT))
            ],
            Observation,
            default_user=user,
        )

    def baseline(limit: int = COUNT) -> float:
        began = time.perf_counter()
        with tempfile.TemporaryFile() as fh:
            for row in (
                Observation.objects.filter(patient__clinic=clinic)
                .order_by("pk")
                .values()[:limit]
                .iterator(chunk_size=1000)
            ):
                fh.write(orjson.dumps(row, default=str))
                fh.write(b"\n")
        return time.perf_counter() - began

    def export(traced: bool) -> tuple[float, int, int]:
        job = BulkExportJob.objects.create(
            clinic=clinic,
            token=token,
            user=user,
            level="system",
            types=["Observation"],
            request_url="bench",
            transaction_time=timezone.now(),
        )
        if traced:
            tracemalloc.start()
        began = time.perf_counter()
        job = export_run(str(job.pk))
        took = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        tracemalloc.stop()
        return took, job.output[0]["count"], peak

    # Files on disk as in production (the test settings keep files in memory, which is not flat by design).
    from django.test.utils import override_settings

    files = tempfile.mkdtemp(prefix="dermatox-bulk-")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": files}},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        return report(baseline, export)


def report(baseline, export) -> int:
    base = min(baseline(COUNT) for _ in range(3))
    took = min(export(traced=False)[0] for _ in range(3))
    _took, count, peak = export(traced=True)  # memory in its own run: tracing slows Python down
    print(
        f"{count} Observation resources: export {took:.2f} s ({count / took:,.0f}/s), "
        f"plain dicts with orjson {base:.2f} s, ratio {took / base:.2f}x (best of 3 each)"
    )
    print(f"peak Python memory during the export: {peak / 2**20:.1f} MiB for {count} resources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
