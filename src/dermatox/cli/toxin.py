"""`dermatox toxin reconstitute|diluent|plan`: botulinum toxin arithmetic and plan checks (pure: no
database)."""

from __future__ import annotations

import sys

from dermatox.cli._common import _err

_OPTION = {
    "product": "--product",
    "vial_units": "--vial-units",
    "diluent_ml": "--diluent-ml",
    "units_per_0_1_ml": "--units-per-0-1-ml",
}


def cmd_toxin_reconstitute(args) -> int:
    import json

    from dermatox.clinical.toxin.reconstitution import ToxinInputError, reconstitute

    try:
        concentration = reconstitute(args.product, args.vial_units, args.diluent_ml)
    except ToxinInputError as exc:
        return _err(f"{_OPTION.get(exc.field, exc.field)}: {exc.rule}")
    print(json.dumps(concentration.as_dict()))
    return 0


def cmd_toxin_diluent(args) -> int:
    import json

    from dermatox.clinical.toxin.reconstitution import ToxinInputError, diluent_for

    try:
        volume = diluent_for(args.product, args.vial_units, args.units_per_0_1_ml)
    except ToxinInputError as exc:
        return _err(f"{_OPTION.get(exc.field, exc.field)}: {exc.rule}")
    print(
        json.dumps(
            {
                "product": args.product,
                "vial_units": args.vial_units,
                "units_per_0_1_ml": args.units_per_0_1_ml,
                "diluent_ml": volume,
            }
        )
    )
    return 0


def cmd_toxin_plan(args) -> int:
    import json

    from dermatox.clinical.pathways import CaseError
    from dermatox.clinical.reference import ReferenceDataError
    from dermatox.clinical.toxin.plan import check_plan
    from dermatox.clinical.toxin.protocols import load_protocols

    try:
        protocols = load_protocols(tuple(args.protocols or ()))
    except (OSError, ReferenceDataError) as exc:
        return _err(f"--protocols: {exc}")
    try:
        text = sys.stdin.read() if args.plan == "-" else open(args.plan, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        return _err(f"PLAN: cannot read {args.plan}: {exc.strerror}")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return _err(f"PLAN: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    try:
        result = check_plan(raw, protocols=protocols, lang=args.lang)
    except CaseError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0
