"""`dermatox assess` (pure) and `dermatox case`: a pathways case, assessed or built from the record."""

from __future__ import annotations

import sys

from dermatox.cli._common import _err


def cmd_assess(args) -> int:
    """Pure: no database, no Django. JSON in, JSON (or a readable summary) out; bad input exits 2."""
    import json

    from dermatox.clinical.pathways import CaseError, assess
    from dermatox.clinical.pathways.schema import input_schema, output_schema
    from dermatox.clinical.pathways.text import summary

    if args.schema:
        print(json.dumps(input_schema() if args.schema == "input" else output_schema(), indent=2))
        return 0
    if not args.case:
        return _err("CASE: give a case file, or - to read standard input")
    try:
        text = sys.stdin.read() if args.case == "-" else open(args.case, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        return _err(f"CASE: cannot read {args.case}: {exc.strerror}")
    try:
        case = json.loads(text)
    except json.JSONDecodeError as exc:
        return _err(f"CASE: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    try:
        result = assess(case, args.lang)
    except CaseError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    if args.format == "text":
        sys.stdout.write(summary(result, args.lang))
    else:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


def cmd_case(args) -> int:
    """Export the pathways case of one patient, built from the record (audited as an export)."""
    import datetime as dt
    import json

    from django.utils import timezone

    from dermatox.audit.services import audit_record
    from dermatox.chart.case_builder import build_case
    from dermatox.common.context import Actor
    from dermatox.patients.models import Patient

    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else timezone.localdate()
    except ValueError:
        return _err("--as-of: must be a date (YYYY-MM-DD)")
    patient = Patient.objects.current().select_related("clinic").filter(mrn__iexact=args.mrn.strip()).first()
    if patient is None:
        return _err(f"MRN: no patient with record number {args.mrn!r}")
    built = build_case(patient, as_of)
    audit_record(
        actor=Actor.system(clinic=patient.clinic),
        action="patient.export_case",
        obj=patient,
        detail={"as_of": str(as_of)},
    )
    for line in built.missing:
        print(f"note: {line}", file=sys.stderr)
    if built.case is None:
        return _err("cannot build a case for this patient", 1)
    print(json.dumps(built.case, indent=2, ensure_ascii=False))
    return 0
