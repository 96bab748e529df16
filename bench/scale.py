"""Growth with clinic size: every page and API read at 10,000 and at 100,000 patients, on PostgreSQL.

Run: `DATABASE_URL=postgres://user@host:port/postgres .venv/bin/python bench/scale.py [10000 100000]`
(the URL names a server where databases may be created). For each size it creates (or reuses, when
already loaded at that size) the database `dermatox_bench_<N>`, loads `dermatox demo --patients N` (the
load time is reported), then times each read with Django's test client in a fresh process: warm-up
requests, then BENCH_ROUNDS requests, median. Prints the medians and the growth ratio
time(largest)/time(smallest) per read — the target is ≤ 1.5: a read must not slow with the number of
patients in the chain, only with what it shows. Figures go to docs/benchmarks.md.

The read targets are fixed by record number (the same demo patient at both sizes, seed 2026), so both
sizes read the same patient with the same history.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATIENT_MRN = "NIS-000100"

PAGES = {
    "patient list": "/patients/",
    "patient search (name)": "/patients/?q={family}",
    "patient page": "/patients/{p}/",
    "timeline": "/patients/{p}/timeline/",
    "assessment": "/patients/{p}/assessment/",
    "outcome plots": "/patients/{p}/outcomes/",
    "lab entry": "/patients/{p}/labs/",
    "treatment plan PDF": "/patients/{p}/plan.pdf",
    "schedule (day)": "/schedule/",
    "schedule (week)": "/schedule/week/",
    "recall worklist": "/recall/",
    "stock": "/stock/",
    "clinic outcomes": "/outcomes/",
}
MANAGER_PAGES = {"audit log (manager)": "/audit/"}
API = {
    "REST patient search": "/api/patients?q={family}",
    "REST patient": "/api/patients/{p}",
    "REST follow-ups": "/api/patients/{p}/follow-ups",
    "REST vials": "/api/vials",
    "FHIR Patient page": "/fhir/Patient?_count=20",
    "FHIR Patient by birth date": "/fhir/Patient?birthdate={birth}",
    "FHIR Patient read": "/fhir/Patient/{p}",
    "FHIR Observation search": "/fhir/Observation?patient={p}",
}


# The other benchmarks' subjects that depend on the clinic's size, run on the same databases (the benchmarks
# themselves build synthetic data of a fixed size): a lot recall, a CSV import of 200 rows (dry run, every
# row checked through the services), and a bulk export of the clinic's Patient resources, timed per 1,000
# resources (an export is of the whole clinic by definition: its cost a resource must not grow).
# assess.py is the engine alone (no database) and page_queries.py counts queries, reported below as the
# patient page's query count at each size.
IMPORT_ROWS = 200


def database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


def run(cmd: list[str], env: dict) -> str:
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603 (our own commands)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return done.stdout


def prepare(base_url: str, size: int) -> tuple[dict, float | None]:
    """The loaded database for `size` patients, and the load time (None when it was already loaded)."""
    import psycopg

    name = f"dermatox_bench_{size}"
    with psycopg.connect(base_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": database_url(base_url, name),
        "DJANGO_SETTINGS_MODULE": "dermatox.settings.dev",
        "DERMATOX_VAR_DIR": os.path.join(tempfile.gettempdir(), f"dermatox-bench-{size}"),
        "DERMATOX_ACCESS_LOG": "0",
        "DERMATOX_ALLOWED_HOSTS": "testserver",
    }
    dermatox = os.path.join(ROOT, ".venv", "bin", "dermatox")
    run([dermatox, "migrate"], env)
    started = time.perf_counter()
    out = run([dermatox, "demo", "--if-empty", "--patients", str(size)], env)
    seconds = time.perf_counter() - started if "Demo loaded" in out else None
    return env, seconds


def measure() -> dict:
    """In the child process: time every read against the database of DATABASE_URL."""
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    settings.DEBUG = False  # dev settings (the demo's passwords), without the debug cursor's query log

    from dermatox.accounts.models import Clinic, Membership
    from dermatox.accounts.tokens import SCOPES, api_token_create
    from dermatox.common.context import Actor
    from dermatox.demo.loader import DEMO_PASSWORD
    from dermatox.patients.models import Patient

    patient = Patient.objects.get(mrn=PATIENT_MRN)
    clinic = Clinic.objects.get(code="nis")
    physician = Membership.objects.get(clinic=clinic, user__username="physician").user
    token, secret = api_token_create(
        actor=Actor.system(),
        clinic=clinic,
        user=physician,
        name="bench",
        role="physician",
        scopes=list(SCOPES),
    )
    clients = {}
    for username in ("physician", "manager"):
        clients[username] = Client()
        assert (
            clients[username].post("/login/", {"username": username, "password": DEMO_PASSWORD}).status_code
            == 302
        )
        clients[username].post("/clinic/", {"clinic": clinic.pk})
    values = {"p": patient.pk, "family": patient.family_name, "birth": patient.birth_date.isoformat()}
    results = {}
    for kind, table in (("physician", PAGES), ("manager", MANAGER_PAGES), ("api", API)):
        client = clients.get(kind, clients["physician"])
        for label, path in table.items():
            url = path.format(**values)
            headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if kind == "api" else {}
            for _ in range(3):
                response = client.get(url, **headers)
                assert response.status_code == 200, (url, response.status_code)
            times = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                client.get(url, **headers)
                times.append(time.perf_counter() - started)
            results[label] = statistics.median(times) * 1000
    results.update(operations(clinic, physician, patient, clients["physician"], token))
    return results


def _median_ms(work, rounds: int) -> float:
    work()  # warm-up
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def operations(clinic, user, patient, client, token) -> dict:
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from dermatox.bulk.models import BulkExportJob
    from dermatox.bulk.services import export_kickoff, export_run
    from dermatox.common.context import Actor
    from dermatox.inventory.models import Withdrawal
    from dermatox.inventory.selectors import lot_recall
    from dermatox.patients.models import Patient, PatientIdentifier
    from dermatox.transfer.csv_import import csv_import

    actor = Actor(user=user, clinic=clinic, role="physician", channel="cli")
    results = {}
    busiest = (
        Withdrawal.objects.filter(vial__lot__clinic=clinic)
        .values("vial__lot__lot_number", "vial__lot__product")
        .annotate(n=Count("id"))
        .order_by("-n", "vial__lot__lot_number")
        .first()
    )
    lot, product = busiest["vial__lot__lot_number"], busiest["vial__lot__product"]
    results["lot recall (busiest lot)"] = _median_ms(
        lambda: lot_recall(actor=actor, lot_number=lot, product=product), ROUNDS
    )
    ids = PatientIdentifier.objects.filter(
        patient__clinic=clinic, system="national_id", patient__mrn__lte=f"NIS-{IMPORT_ROWS:06d}"
    ).values_list("value", flat=True)
    rows = [f"national_id,{value},pull_test_hairs,3,,2026-01-05T10:00" for value in sorted(ids)]
    data = ("identifier_system,identifier,code,value,unit,effective_at\n" + "\n".join(rows) + "\n").encode()
    result = csv_import(actor=actor, data=data, dry_run=True)
    assert not result.report and result.created == IMPORT_ROWS, (result.report[:3], result.created)
    results[f"CSV import, {IMPORT_ROWS} rows (dry run)"] = _median_ms(
        lambda: csv_import(actor=actor, data=data, dry_run=True), max(3, ROUNDS // 5)
    )
    api = Actor(user=user, clinic=clinic, role="physician", channel="api", token_id=token.pk)  # as $export
    job = export_kickoff(actor=api, level="system", params={"_type": "Patient"}, request_url="bench")
    started = time.perf_counter()
    job = export_run(str(job.pk))
    seconds = time.perf_counter() - started
    assert job.status == BulkExportJob.Status.DONE, job.status
    count = Patient.objects.filter(clinic=clinic).current().count()
    results["bulk export, per 1,000 Patients"] = seconds * 1000 / (count / 1000)
    page = f"/patients/{patient.pk}/"
    client.get(page)
    with CaptureQueriesContext(connection) as queries:
        client.get(page)
    results["patient page: SQL queries (count)"] = float(len(queries))
    return results


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--measure":
        print(json.dumps(measure()))
        return 0
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        print("bench/scale.py needs DATABASE_URL=postgres://… (a server where it may create databases)")
        return 2
    sizes = [int(a) for a in argv] or [10_000, 100_000]
    figures, loads = {}, {}
    for size in sizes:
        env, seconds = prepare(base_url, size)
        loads[size] = seconds
        figures[size] = json.loads(run([sys.executable, os.path.abspath(__file__), "--measure"], env))
    small, large = min(sizes), max(sizes)
    for size, seconds in loads.items():
        print(f"demo --patients {size}: " + (f"loaded in {seconds:.0f} s" if seconds else "already loaded"))
    print(f"{'read':28} " + " ".join(f"{f'{s:,} (ms)':>14}" for s in sizes) + f" {'growth':>8}")
    worst = 0.0
    for label in figures[small]:
        ratio = figures[large][label] / figures[small][label]
        worst = max(worst, ratio)
        row = " ".join(f"{figures[s][label]:>14.1f}" for s in sizes)
        print(f"{label:28} {row} {ratio:>7.2f}×{'' if ratio <= 1.5 else '  over 1.5'}")
    print(f"worst growth {worst:.2f}× (target ≤ 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
