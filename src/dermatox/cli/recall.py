"""`dermatox recall`: every patient who received a toxin lot."""

from __future__ import annotations

from dermatox.cli._common import _err


def cmd_recall(args) -> int:
    """Every patient who received a lot, in one clinic (audited)."""
    import json

    from dermatox.accounts.models import Clinic
    from dermatox.common.context import Actor
    from dermatox.inventory.selectors import lot_recall

    clinic = Clinic.objects.filter(code=args.clinic).first()
    if clinic is None:
        return _err(f"--clinic: no clinic with code {args.clinic!r}")
    lines = lot_recall(actor=Actor.system(clinic=clinic), lot_number=args.lot, product=args.product)
    if args.format == "json":
        print(json.dumps([line.__dict__ for line in lines], indent=2, ensure_ascii=False))
    else:
        print(f"Lot {args.lot} at {clinic.name}: {len(lines)} patient(s)")
        for line in lines:
            print(
                f"  {line.mrn:<12} {line.name:<30} {line.phone:<20} first {line.first_given}  {line.units} U in {line.administrations}"
                + (f" ({line.entered_in_error} entered in error)" if line.entered_in_error else "")
            )
    return 0
