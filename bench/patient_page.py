"""Patient page: cost of audit writing, and SQL queries for short vs long histories.

Run: `make bench` (SQLite in a temporary file) or with DATABASE_URL=postgres://... for PostgreSQL.
Prints, measured in this one run:
  - median time of GET /patients/<id>/ with audit writing, and with the read-audit call replaced by a
    no-op (the baseline), interleaved A/B so machine noise hits both alike; ratio = with / without;
  - the number of SQL queries the page makes for a patient with 10 and with 500 encounters.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))


def setup_django() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="dermatox-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "dermatox.settings.test"
    os.environ["DERMATOX_VAR_DIR"] = str(tmp)
    (tmp / "static").mkdir()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> int:
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from dermatox.accounts.models import Clinic, Membership, User
    from dermatox.common.context import Actor
    from dermatox.patients import selectors

    clinic = Clinic.objects.create(name="Bench clinic", code="bench")
    user = User(username="bench")
    user.set_password("Bench-password-1")
    user.save()
    Membership.objects.create(user=user, clinic=clinic, role="physician")
    actor = Actor(user=user, clinic=clinic, role="physician")
    from dermatox.demo.long_history import patient_with_long_history

    short = patient_with_long_history(actor=actor, visits=10)
    long = patient_with_long_history(actor=actor, visits=500)

    client = Client()
    client.post("/login/", {"username": "bench", "password": "Bench-password-1"})
    url = f"/patients/{long.pk}/"
    assert client.get(url).status_code == 200

    queries = {}
    for label, patient in (("10 encounters", short), ("500 encounters", long)):
        client.get(f"/patients/{patient.pk}/")
        with CaptureQueriesContext(connection) as captured:
            client.get(f"/patients/{patient.pk}/")
        queries[label] = len(captured)

    real_audit = selectors.audit_record
    timings: dict[str, list[float]] = {"with audit": [], "without audit": []}
    for i in range(ROUNDS * 2):
        label = "with audit" if i % 2 == 0 else "without audit"
        selectors.audit_record = real_audit if label == "with audit" else (lambda **kwargs: None)
        began = time.perf_counter()
        response = client.get(url)
        timings[label].append(time.perf_counter() - began)
        assert response.status_code == 200
    selectors.audit_record = real_audit

    with_audit = statistics.median(timings["with audit"]) * 1000
    without = statistics.median(timings["without audit"]) * 1000
    print(
        f"database: {connection.vendor}; rounds: {ROUNDS} each, interleaved; page: patient with 500 encounters"
    )
    print(f"patient page median, without audit writing (baseline): {without:.2f} ms")
    print(f"patient page median, with audit writing:               {with_audit:.2f} ms")
    print(f"ratio with/without: {with_audit / without:.3f}x (target <= 1.2x)")
    for label, count in queries.items():
        print(f"SQL queries for the patient page, {label}: {count}")
    same = len(set(queries.values())) == 1
    print(f"query count independent of history length: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    raise SystemExit(main())
